# Facts about charts and HelmReleases shared by helmrelease-chart and helmrelease-chart-version:
# both read the facts that helmrelease-chart collects.
package ova.lib.charts

import data.ova.lib.repo

# Complete rules built with indexed comprehensions, computed once per repo pass: a partial set or
# object looked up by a bound key is re-evaluated over every fact at each lookup.
facts := [f | some f in repo.facts("helmrelease_chart"); f.pkg == "helmrelease_chart"]

releases := [f | some f in facts; f.type == "release"]

chart_facts := [f | some f in facts; f.type == "chart"]

by_name := {name: fs | some g in chart_facts; name := g.name; fs := {f | f := chart_facts[_]; f.name == name}}

# local repositories: the parameter, or inferred from HelmReleases that name a chart of the tree.
local_repositories := {r | some r in data.ova.params.charts.local_repositories} if {
	is_array(data.ova.params.charts.local_repositories)
} else := {f.repo | some f in releases; by_name[f.chart]}
