# Facts about charts and HelmReleases shared by helmrelease-chart and helmrelease-chart-version:
# both read the facts that helmrelease-chart collects.
package ova.lib.charts

facts contains f if {
	some f in input.repo.facts
	f.pkg == "helmrelease_chart"
}

releases contains f if {
	some f in facts
	f.type == "release"
}

by_name[f.name] contains f if {
	some f in facts
	f.type == "chart"
}

# local repositories: the parameter, or inferred from HelmReleases that name a chart of the tree.
local_repositories := {r | some r in data.ova.params.charts.local_repositories} if {
	is_array(data.ova.params.charts.local_repositories)
} else := {f.repo | some f in releases; by_name[f.chart]}
