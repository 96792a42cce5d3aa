# METADATA
# title: GitRepository tracks an allowed branch
# description: >-
#   Flux GitRepositories follow the release flow "Feature Branch → PR → main → Flux Sync":
#   spec.ref.branch must be one of gitrepository.branches (default main).
# related_resources:
#   - ref: platform/flux/README.md#release-flow
#     description: platform Flux README, "GitRepository for Gitea" and "Release Flow"
# custom:
#   id: gitrepository-ref
#   severity: error
#   scope: object
#   runs: [cli, admission]
#   fix: sets spec.ref.branch to the first of gitrepository.branches, unless a commit, name, semver or tag pins the reference
#   kinds: [GitRepository]
#   params:
#     gitrepository.branches: {type: array, minItems: 1, items: {type: string, minLength: 1}}
package ova.rules.gitrepository_ref

import data.ova.lib.k8s

allowed := data.ova.params.gitrepository.branches

violation contains v if {
	input.object.kind == "GitRepository"
	startswith(input.object.apiVersion, "source.toolkit.fluxcd.io/")
	branch := input.object.spec.ref.branch
	not branch in data.ova.params.gitrepository.branches # read directly: the allowed rule costs more
	v := {
		"path": ["spec", "ref", "branch"],
		"msg": sprintf("%s tracks branch %q; allowed branches: %s", [k8s.display, branch, concat(", ", allowed)]),
		"fix": sprintf("set spec.ref.branch: %s", [allowed[0]]),
		"edit": {"path": ["spec", "ref", "branch"], "value": allowed[0]},
	}
}

violation contains v if {
	input.object.kind == "GitRepository"
	startswith(input.object.apiVersion, "source.toolkit.fluxcd.io/")
	not input.object.spec.ref.branch
	v := object.union(
		{
			"path": ["spec", "ref"],
			"msg": sprintf("%s does not track a branch (spec.ref.branch is unset, so Flux falls back to its default or pins a tag/commit)", [k8s.display]),
			"fix": sprintf("set spec.ref.branch: %s", [allowed[0]]),
		},
		branch_edit,
	)
}

# Setting the branch is mechanical only when nothing else pins the reference: Flux prefers a
# commit, name, semver range or tag over the branch, so their removal is the user's decision.
pins := {"commit", "name", "semver", "tag"}

branch_edit := {"edit": {"path": ["spec", "ref", "branch"], "value": allowed[0]}} if {
	every p in pins {
		not input.object.spec.ref[p]
	}
} else := {}
