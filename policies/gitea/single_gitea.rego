# METADATA
# title: One Gitea per Sovereign
# description: >-
#   All GitRepositories of one Sovereign pull from the same Gitea host. With gitea.host set,
#   every GitRepository must use that host (checked per object, also at admission); otherwise the
#   hosts are compared across the tree, grouped by gitea.group_pattern (a regex whose first
#   submatch over the file path names the Sovereign) or, by default, by the linted root.
# related_resources:
#   - ref: platform/flux/README.md#multi-region-gitops
#     description: platform Flux README, "Multi-Region GitOps" (one Gitea per Sovereign)
# custom:
#   id: single-gitea
#   severity: error
#   scope: repo
#   runs: [cli, admission]
#   kinds: [GitRepository]
#   params:
#     gitea.host: {type: string, pattern: "^([a-z0-9]([a-z0-9.-]*[a-z0-9])?(:[0-9]+)?)?$"}
#     gitea.group_pattern: {type: string, format: regex}
package ova.rules.single_gitea

import data.ova.lib.k8s
import data.ova.lib.repo

# host of an http(s) or ssh URL.
host(url) := h if {
	parts := regex.find_all_string_submatch_n(`^[a-z+]+://(?:[^@/]+@)?([^/:]+)`, url, 1)
	h := lower(parts[0][1])
}

configured := data.ova.params.gitea.host

# With a configured host, each GitRepository is checked on its own.
violation contains v if {
	input.object.kind == "GitRepository"
	data.ova.params.gitea.host != "" # read directly: the configured rule costs more
	startswith(input.object.apiVersion, "source.toolkit.fluxcd.io/")
	h := host(input.object.spec.url)
	h != lower(configured)
	v := {
		"path": ["spec", "url"],
		"msg": sprintf("%s pulls from Gitea host %q, but this Sovereign's single Gitea is %q", [k8s.display, h, configured]),
		"fix": sprintf("point spec.url at %s", [configured]),
	}
}

fact contains f if {
	input.object.kind == "GitRepository"
	data.ova.params.gitea.host == ""
	startswith(input.object.apiVersion, "source.toolkit.fluxcd.io/")
	h := host(input.object.spec.url)
	f := {"type": "gitea-host", "path": ["spec", "url"], "host": h, "group": group(input.source)}
}

group(source) := g if {
	data.ova.params.gitea.group_pattern != ""
	m := regex.find_all_string_submatch_n(data.ova.params.gitea.group_pattern, source.file, 1)
	g := m[0][1]
} else := source.root

# Repo pass: within a group, the most used host wins; every other host is a violation.
# Complete rules, computed once per pass: linear in the number of GitRepositories.
gitea_facts := [f | some f in repo.facts("single_gitea"); f.pkg == "single_gitea"]

hosts_by_group := {g: hosts |
	some g in {f.group | some f in gitea_facts}
	hosts := [f.host | some f in gitea_facts; f.group == g]
}

# majority host of each group; ties broken by name so the verdict is stable.
majority := {g: h |
	some g, hosts in hosts_by_group
	uses := {x: n | some x in {y | some y in hosts}; n := count([1 | some y in hosts; y == x])}
	best := max({n | some _, n in uses})
	h := min({x | some x, n in uses; n == best})
}

violation contains v if {
	input.repo # the repo pass only (object evaluations skip this body at once)
	some f in gitea_facts
	m := majority[f.group]
	f.host != m
	v := {
		"at": f.at,
		"msg": sprintf("GitRepository pulls from Gitea host %q while the rest of Sovereign %q uses %q: one Gitea per Sovereign", [f.host, f.group, m]),
		"fix": sprintf("point spec.url at %s, or set gitea.host in .ova-lint.yaml to the Sovereign's Gitea", [m]),
	}
}
