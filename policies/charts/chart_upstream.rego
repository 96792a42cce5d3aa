# METADATA
# title: A Blueprint chart wraps its upstream chart
# description: >-
#   A Blueprint chart (blueprint.chart_globs and chart.name_globs) is an umbrella: its Chart.yaml
#   declares at least one dependencies entry, unless it carries the annotation
#   catalyst.openova.io/no-upstream: "true" (chart.no_upstream_annotation) because it ships only
#   its own resources. A hollow chart publishes without the software it is named after. When the
#   chart's values.yaml sets catalystBlueprint.upstream.chart (and .version), a dependency of that
#   name (and version) exists; that part is checked only when the whole tree is linted.
# related_resources:
#   - ref: https://github.com/openova-io/openova/blob/main/docs/BLUEPRINT-AUTHORING.md#111-umbrella-shape-hard-contract--ci-enforced
#     description: Blueprint authoring guide, §11.1 "Umbrella shape" (dependencies required; version equal to catalystBlueprint.upstream.version)
#   - ref: https://github.com/openova-io/openova/blob/main/.github/workflows/blueprint-release.yaml
#     description: blueprint-release workflow, hollow-chart guard (catalyst.openova.io/no-upstream opt-out)
# custom:
#   id: chart-upstream
#   severity: error
#   scope: repo
#   runs: [cli]
#   kinds: [""]
#   params:
#     blueprint.chart_globs: {type: array, items: {type: string, format: glob}}
#     chart.name_globs: {type: array, items: {type: string, format: glob}}
#     chart.no_upstream_annotation: {type: string, minLength: 1}
package ova.rules.chart_upstream

import data.ova.lib.blueprint
import data.ova.lib.k8s
import data.ova.lib.repo

annotation := data.ova.params.chart.no_upstream_annotation

chart := input.object if {
	input.source.base == "Chart.yaml"
	blueprint.from_file
	is_string(input.object.name)
	blueprint.blueprint_chart(k8s.file_dir)
}

dependencies := [d | some d in object.get(chart, "dependencies", []); is_object(d)]

no_upstream if object.get(chart, ["annotations", data.ova.params.chart.no_upstream_annotation], "") == "true"

violation contains v if {
	is_object(chart)
	count(dependencies) == 0
	not no_upstream
	v := {
		"path": path,
		"msg": sprintf("chart %s declares no dependencies: a hollow chart publishes without the upstream chart it wraps", [chart.name]),
		"fix": sprintf("declare the upstream chart under dependencies (name, version, repository), or annotate the chart %s: \"true\" if it ships only its own resources", [annotation]),
	}
}

path := ["dependencies"] if "dependencies" in object.keys(chart) else := ["name"]

# Facts for the values.yaml check.
fact contains f if {
	is_object(chart)
	deps := [{"name": sprintf("%v", [object.get(d, "name", "")]), "version": sprintf("%v", [object.get(d, "version", "")])} | some d in dependencies]
	f := {"type": "chart", "dir": k8s.file_dir, "name": chart.name, "dependencies": deps, "no_upstream": no_upstream_value, "path": ["name"]}
}

no_upstream_value := true if no_upstream else := false

fact contains f if {
	input.source.base == "values.yaml"
	blueprint.from_file
	blueprint.blueprint_chart(k8s.file_dir)
	up := input.object.catalystBlueprint.upstream
	is_object(up)
	name := text(object.get(up, "chart", ""))
	name != ""
	f := {
		"type": "values",
		"dir": k8s.file_dir,
		"chart": name,
		"version": text(object.get(up, "version", "")),
		"path": ["catalystBlueprint", "upstream", "chart"],
		"version_path": ["catalystBlueprint", "upstream", "version"],
	}
}

text(x) := "" if x == null else := sprintf("%v", [x])

own := [f | some f in repo.facts("chart_upstream"); f.pkg == "chart_upstream"]

# the chart facts of a directory (a set: a Chart.yaml may hold more than one document).
# (a complete object built with an indexed comprehension: computed once per repo pass)
chart_facts := [f | some f in own; f.type == "chart"]

charts := {dir: fs | some g in chart_facts; dir := g.dir; fs := {f | f := chart_facts[_]; f.dir == dir}}

violation contains v if {
	input.repo.complete
	some f in own
	f.type == "values"
	some c in charts[f.dir]
	reported_separately(c) == false
	not some_dep(c, f.chart)
	v := {
		"at": f.at,
		"msg": sprintf("values.yaml of chart %s names upstream chart %s (catalystBlueprint.upstream.chart), but Chart.yaml has no dependency of that name", [c.name, f.chart]),
		"fix": sprintf("declare %s under dependencies in %s/Chart.yaml, or correct catalystBlueprint.upstream.chart", [f.chart, f.dir]),
	}
}

violation contains v if {
	input.repo.complete
	some f in own
	f.type == "values"
	f.version != ""
	some c in charts[f.dir]
	some_dep(c, f.chart)
	versions := {d.version | some d in c.dependencies; d.name == f.chart}
	not f.version in versions
	v := {
		"at": object.union(f.at, {"line": f.at.version_line, "column": f.at.version_column}),
		"msg": sprintf("values.yaml of chart %s records upstream %s version %s (catalystBlueprint.upstream.version), but Chart.yaml pins %s at %s", [c.name, f.chart, f.version, f.chart, concat(", ", sort(versions))]),
		"fix": "bump Chart.yaml's dependency, catalystBlueprint.upstream.version and the Blueprint together, to one version",
	}
}

some_dep(c, name) if {
	some d in c.dependencies
	d.name == name
}

# a chart with no dependency and no opt-out is already reported on its Chart.yaml.
reported_separately(c) := true if {
	count(c.dependencies) == 0
	not c.no_upstream
} else := false
