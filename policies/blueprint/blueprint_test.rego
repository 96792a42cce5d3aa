package ova.rules.blueprint_test

import data.ova.rules.blueprint_version

bp(version, chart) := {
	"apiVersion": "catalyst.openova.io/v1alpha1",
	"kind": "Blueprint",
	"metadata": {"name": "bp-x"},
	"spec": {"version": version, "manifests": {"chart": chart}},
}

test_blueprint_fact if {
	fs := blueprint_version.fact with input as {"object": bp("1.0.0", "./chart"), "source": {"file": "platform/x/blueprint.yaml", "path": "platform/x/blueprint.yaml", "dir": "platform/x", "base": "blueprint.yaml"}}
	some f in fs
	f.type == "blueprint"
	f.chart_dir == "platform/x/chart"
	f.version == "1.0.0"
}

test_blueprint_fact_parent_dir if {
	fs := blueprint_version.fact with input as {"object": bp("1.0.0", "../shared/chart"), "source": {"path": "platform/x/blueprint.yaml", "dir": "platform/x", "base": "blueprint.yaml"}}
	some f in fs
	f.chart_dir == "platform/shared/chart"
}

test_blueprint_other_api_version_ignored if {
	o := object.union(bp("1", "./chart"), {"apiVersion": "example.com/v1"})
	count(blueprint_version.fact) == 0 with input as {"object": o, "source": {"path": "blueprint.yaml", "base": "blueprint.yaml"}}
}

test_chart_fact if {
	c := {"apiVersion": "v2", "name": "bp-x", "version": "1.0.1"}
	fs := blueprint_version.fact with input as {"object": c, "source": {"path": "platform/x/chart/Chart.yaml", "dir": "platform/x/chart", "base": "Chart.yaml"}}
	some f in fs
	f.type == "chart"
	f.chart_dir == "platform/x/chart"
}

facts(bv, cv) := [
	{"pkg": "blueprint_version", "type": "blueprint", "version": bv, "chart_dir": "p/x/chart", "chart": "./chart", "at": {"name": "bp-x"}},
	{"pkg": "blueprint_version", "type": "chart", "version": cv, "chart_dir": "p/x/chart", "at": {"name": "bp-x"}},
]

test_versions_equal if {
	count(blueprint_version.violation) == 0 with input as {"repo": {"facts": facts("1.0.0", "1.0.0"), "complete": true}}
}

test_versions_differ if {
	vs := blueprint_version.violation with input as {"repo": {"facts": facts("1.0.0", "1.0.1"), "complete": true}}
	some v in vs
	contains(v.msg, "1.0.1")
}

test_missing_chart if {
	f := [facts("1", "1")[0]]
	count(blueprint_version.violation) == 1 with input as {"repo": {"facts": f, "complete": true}}
	count(blueprint_version.violation) == 0 with input as {"repo": {"facts": f, "complete": false}}
}
