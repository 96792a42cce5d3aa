# METADATA
# title: No substitution left unresolved in what Flux applies
# description: >-
#   An object that a Kustomization or a kustomize root builds from Git must not still hold a
#   placeholder that nothing replaced (substitution.leftover_patterns, default
#   [A-Z][A-Z0-9_]*_PLACEHOLDER), and an object built by a Kustomization with spec.postBuild must
#   not hold a ${VAR} without default that neither postBuild.substitute, substituteFrom nor the
#   values given with --substitute provide: Flux would apply an empty string there. Without
#   postBuild Flux substitutes nothing, so ${VAR} in a script is not a finding. Rendered chart
#   output is checked only when substitution.check_rendered is true (charts carry run-time
#   placeholders of their own).
# related_resources:
#   - ref: https://fluxcd.io/flux/components/kustomize/kustomizations/#post-build-variable-substitution
#     description: Flux Kustomization API, post-build variable substitution
# custom:
#   id: unresolved-substitution
#   severity: error
#   scope: object
#   runs: [cli]
#   producers: [kustomize, helm]
#   params:
#     substitution.leftover_patterns: {type: array, items: {type: string, format: regex}}
#     substitution.check_rendered: {type: boolean}
#     substitution.variables: {type: object, additionalProperties: {type: [string, number, boolean]}}
package ova.rules.unresolved_substitution

import data.ova.lib.k8s

params := data.ova.params.substitution

checked if input.origin.producer == "kustomize"

checked if {
	input.origin.producer == "helm"
	params.check_rendered == true
}

violation contains v if {
	checked
	walk(input.object, [path, value])
	is_string(value)
	some pattern in params.leftover_patterns
	found := regex.find_n(pattern, value, 1)
	count(found) > 0
	v := {
		"path": path,
		"msg": sprintf("%s still holds the placeholder %s where Flux applies it (built by %s)", [k8s.display, found[0], input.origin.build]),
		"fix": "substitute it (postBuild.substitute / substituteFrom), patch it in the overlay, or give the real value",
	}
}

violation contains v if {
	some m in input.origin.missing
	v := {
		"path": m.path,
		"msg": sprintf("%s uses ${%s}, which %s does not provide: Flux applies an empty string", [k8s.display, m.name, input.origin.build]),
		"fix": sprintf("add %s to spec.postBuild.substitute or to a substituteFrom ConfigMap/Secret, give it a default (${%s:=value}), or pass --substitute %s=VALUE for a value that exists only in the cluster", [m.name, m.name, m.name]),
	}
}
