# METADATA
# title: A HelmRelease's chart version admits the chart of the tree
# description: >-
#   A HelmRelease that pins a local chart (see helmrelease-chart) at spec.chart.spec.version, an
#   exact version or a range (>=, <, ^, ~, x wildcards, ||), admits the version of that chart's
#   Chart.yaml in the tree. Otherwise Flux waits for a version that this tree never publishes.
# related_resources:
#   - ref: https://fluxcd.io/flux/components/helm/helmreleases/#chart-template
#     description: Flux HelmRelease API, spec.chart.spec.version (a semver range)
# custom:
#   id: helmrelease-chart-version
#   severity: error
#   scope: repo
#   runs: [cli]
#   fix: sets spec.chart.spec.version to the version of the tree's chart, when the tree holds one version of it
#   # none: the rule reads helmrelease-chart's facts in the repo pass and never a single object
#   kinds: []
#   params:
#     charts.local_repositories: {type: [array, "null"], items: {type: string, pattern: "^[^/]+/[^/]+$"}}
package ova.rules.helmrelease_chart_version

import data.ova.lib.charts
import data.ova.lib.semver

violation contains v if {
	input.repo # the repo pass only (object evaluations skip this body at once)
	some f in charts.releases
	f.repo in charts.local_repositories
	f.version != ""
	versions := {c.version | some c in charts.by_name[f.chart]}
	count(versions) > 0
	not any_admitted(f.version, versions)
	v := object.union(
		{
			"at": object.union(f.at, {"line": f.at.version_line, "column": f.at.version_column}),
			"msg": sprintf("HelmRelease %s pins chart %s at version %s, which the tree's chart (version %s) does not satisfy", [f.at.name, f.chart, f.version, concat(", ", sort(versions))]),
			"fix": sprintf("set spec.chart.spec.version to %s (or a range that admits it), or bump the chart", [sort(versions)[0]]),
		},
		version_edit(versions),
	)
}

# With one version of the chart in the tree, pinning it is mechanical.
version_edit(versions) := {"edit": {"path": ["spec", "chart", "spec", "version"], "value": sort(versions)[0]}} if {
	count(versions) == 1
} else := {}

any_admitted(constraint, versions) if {
	some ver in versions
	semver.satisfies(constraint, ver)
}
