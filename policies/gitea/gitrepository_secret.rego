# METADATA
# title: GitRepository authenticates with the Gitea token secret
# description: >-
#   GitRepositories authenticate to Gitea with the token secret named by
#   gitrepository.secret_name (default gitea-token).
# related_resources:
#   - ref: platform/flux/README.md#configuration
#     description: platform Flux README, "GitRepository for Gitea" (secretRef gitea-token)
# custom:
#   id: gitrepository-secret
#   severity: error
#   scope: object
#   runs: [cli, admission]
#   fix: sets spec.secretRef.name to gitrepository.secret_name
#   kinds: [GitRepository]
#   params:
#     gitrepository.secret_name: {type: string, minLength: 1}
package ova.rules.gitrepository_secret

import data.ova.lib.k8s

want := data.ova.params.gitrepository.secret_name

violation contains v if {
	input.object.kind == "GitRepository"
	startswith(input.object.apiVersion, "source.toolkit.fluxcd.io/")
	name := input.object.spec.secretRef.name
	name != data.ova.params.gitrepository.secret_name # read directly: the want rule costs more
	v := {
		"path": ["spec", "secretRef", "name"],
		"msg": sprintf("%s authenticates with secret %q instead of the Gitea token secret %q", [k8s.display, name, want]),
		"fix": sprintf("set spec.secretRef.name: %s", [want]),
		"edit": {"path": ["spec", "secretRef", "name"], "value": want},
	}
}

violation contains v if {
	input.object.kind == "GitRepository"
	startswith(input.object.apiVersion, "source.toolkit.fluxcd.io/")
	not input.object.spec.secretRef.name
	v := {
		"path": ["spec"],
		"msg": sprintf("%s has no spec.secretRef: Gitea sources authenticate with the %q token secret", [k8s.display, want]),
		"fix": sprintf("add spec.secretRef.name: %s", [want]),
		"edit": {"path": ["spec", "secretRef", "name"], "value": want},
	}
}
