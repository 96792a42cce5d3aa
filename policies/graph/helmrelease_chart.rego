# METADATA
# title: A HelmRelease on a local repository pins a chart of the tree
# description: >-
#   A HelmRelease whose HelmRepository or OCIRepository publishes the charts of this tree
#   (charts.local_repositories; when unset, a repository is local when a HelmRelease that uses it
#   names a chart of the tree) pins, in spec.chart.spec.chart, a chart that some Chart.yaml of the
#   tree is named. Otherwise the release pipeline never publishes it and the HelmRelease never
#   becomes ready.
# related_resources:
#   - ref: https://fluxcd.io/flux/components/helm/helmreleases/#chart-template
#     description: Flux HelmRelease API, spec.chart.spec.chart
# custom:
#   id: helmrelease-chart
#   severity: error
#   scope: repo
#   runs: [cli]
#   kinds: [HelmRelease, ""]
#   params:
#     charts.local_repositories: {type: [array, "null"], items: {type: string, pattern: "^[^/]+/[^/]+$"}}
package ova.rules.helmrelease_chart

import data.ova.lib.charts

fact contains f if {
	input.source.base == "Chart.yaml"
	input.object.apiVersion in {"v1", "v2"}
	is_string(input.object.name)
	f := {"type": "chart", "name": input.object.name, "version": sprintf("%v", [object.get(input.object, "version", "")]), "path": ["name"]}
}

fact contains f if {
	input.object.kind == "HelmRelease"
	startswith(input.object.apiVersion, "helm.toolkit.fluxcd.io/")
	spec := input.object.spec.chart.spec
	spec.sourceRef.kind in {"HelmRepository", "OCIRepository"}
	is_string(spec.chart)
	own_ns := object.get(input.object, ["metadata", "namespace"], "")
	f := {
		"type": "release",
		"repo": sprintf("%s/%s", [object.get(spec.sourceRef, "namespace", own_ns), spec.sourceRef.name]),
		"chart": spec.chart,
		"version": sprintf("%v", [object.get(spec, "version", "")]),
		"path": ["spec", "chart", "spec", "chart"],
		"version_path": ["spec", "chart", "spec", "version"],
	}
}

violation contains v if {
	input.repo.complete
	some f in charts.releases
	f.repo in charts.local_repositories
	not charts.by_name[f.chart]
	v := {
		"at": f.at,
		"msg": sprintf("HelmRelease %s pins chart %s from %s, which publishes the charts of this tree, but no Chart.yaml in the tree is named %s", [f.at.name, f.chart, f.repo, f.chart]),
		"fix": "fix spec.chart.spec.chart to the name in the chart's Chart.yaml, or add the chart to the tree",
	}
}
