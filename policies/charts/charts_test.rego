package ova.rules.charts_test

import data.ova.rules.chart_name
import data.ova.rules.chart_upstream
import data.ova.rules.observability_default_off

src(path) := {"path": path, "file": path, "base": base, "dir": dir} if {
	parts := split(path, "/")
	base := parts[count(parts) - 1]
	dir := concat("/", array.slice(parts, 0, count(parts) - 1))
}

chart(name, deps) := {"apiVersion": "v2", "name": name, "version": "1.0.0", "dependencies": deps}

test_chart_name_platform if {
	count(chart_name.violation) == 0 with input as {"object": chart("bp-x", []), "source": src("platform/x/chart/Chart.yaml")}
	some v in chart_name.violation with input as {"object": chart("x", []), "source": src("platform/x/chart/Chart.yaml")}
	v.path == ["name"]
	contains(v.msg, "bp-x")
}

test_chart_name_products if {
	count(chart_name.violation) == 0 with input as {"object": chart("bp-catalyst-platform", []), "source": src("products/catalyst/chart/Chart.yaml")}
	count(chart_name.violation) == 1 with input as {"object": chart("axon", []), "source": src("products/axon/chart/Chart.yaml")}
}

test_chart_name_elsewhere_ignored if {
	count(chart_name.violation) == 0 with input as {"object": chart("x", []), "source": src("charts/x/Chart.yaml")}
	count(chart_name.violation) == 0 with input as {"object": chart("x", []), "source": src("platform/x/chart/Chart.yaml"), "origin": {"producer": "helm"}}
}

test_upstream_hollow if {
	some v in chart_upstream.violation with input as {"object": chart("bp-x", []), "source": src("platform/x/chart/Chart.yaml")}
	v.path == ["dependencies"]
	count(chart_upstream.violation) == 0 with input as {"object": chart("bp-x", [{"name": "nginx", "version": "1.2.3"}]), "source": src("platform/x/chart/Chart.yaml")}
	annotated := object.union(chart("bp-x", []), {"annotations": {"catalyst.openova.io/no-upstream": "true"}})
	count(chart_upstream.violation) == 0 with input as {"object": annotated, "source": src("platform/x/chart/Chart.yaml")}
	count(chart_upstream.violation) == 0 with input as {"object": chart("x", []), "source": src("charts/x/Chart.yaml")}
}

test_upstream_no_object_no_violation if {
	# another document of the tree (a ConfigMap with a duplicate key runs every rule)
	count(chart_upstream.violation) == 0 with input as {"object": {"kind": "ConfigMap"}, "source": src("platform/x/chart/Chart.yaml")}
}

upstream_facts(values_version, deps) := [
	{"pkg": "chart_upstream", "type": "chart", "dir": "platform/x/chart", "name": "bp-x", "dependencies": deps, "no_upstream": false, "at": {"name": "bp-x"}},
	{"pkg": "chart_upstream", "type": "values", "dir": "platform/x/chart", "chart": "nginx", "version": values_version, "at": {"line": 2, "version_line": 3, "version_column": 5}},
]

test_upstream_values if {
	deps := [{"name": "nginx", "version": "1.2.3"}]
	count(chart_upstream.violation) == 0 with input as {"repo": {"facts": upstream_facts("1.2.3", deps), "complete": true}}
	count(chart_upstream.violation) == 0 with input as {"repo": {"facts": upstream_facts("", deps), "complete": true}}
	some v in chart_upstream.violation with input as {"repo": {"facts": upstream_facts("1.2.4", deps), "complete": true}}
	v.at.line == 3
	count(chart_upstream.violation) == 1 with input as {"repo": {"facts": upstream_facts("1.2.3", [{"name": "httpd", "version": "1.2.3"}]), "complete": true}}
	# a hollow chart is reported on its Chart.yaml only
	count(chart_upstream.violation) == 0 with input as {"repo": {"facts": upstream_facts("1.2.3", []), "complete": true}}
	count(chart_upstream.violation) == 0 with input as {"repo": {"facts": upstream_facts("1.2.4", deps), "complete": false}}
}

test_upstream_values_fact if {
	fs := chart_upstream.fact with input as {"object": {"catalystBlueprint": {"upstream": {"chart": "nginx", "version": "1.2.3"}}}, "source": src("platform/x/chart/values.yaml")}
	some f in fs
	f.version == "1.2.3"
	count(chart_upstream.fact) == 0 with input as {"object": {"catalystBlueprint": {"upstream": {"chart": "", "version": ""}}}, "source": src("platform/x/chart/values.yaml")}
}

test_observability if {
	values := {"a": {"metrics": {"enabled": true, "serviceMonitor": {"enabled": false}}}, "podMonitor": {"create": true}, "ingress": {"enabled": true}, "list": [{"tracing": {"enabled": true}}]}
	vs := observability_default_off.violation with input as {"object": values, "source": src("platform/x/chart/values.yaml")}
	{v.path | some v in vs} == {["a", "metrics", "enabled"], ["podMonitor", "create"], ["list", 0, "tracing", "enabled"]}
	some v in vs
	v.path == ["podMonitor", "create"]
	v.edit == {"path": ["podMonitor", "create"], "value": false}
	count(observability_default_off.violation) == 0 with input as {"object": values, "source": src("charts/x/values.yaml")}
	count(observability_default_off.violation) == 0 with input as {"object": values, "source": src("platform/x/chart/values-prod.yaml")}
	count(observability_default_off.violation) == 1 with input as {"object": values, "source": src("products/x/chart/values.yaml")}
		with data.ova.params.charts.observability_keys as ["podMonitor"]
}

test_upstream_two_chart_documents if {
	facts := array.concat(upstream_facts("1.2.4", [{"name": "nginx", "version": "1.2.3"}]), [{"pkg": "chart_upstream", "type": "chart", "dir": "platform/x/chart", "name": "bp-x", "dependencies": [], "no_upstream": true}])
	count(chart_upstream.violation) == 2 with input as {"repo": {"facts": facts, "complete": true}}
}
