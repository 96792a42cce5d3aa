# METADATA
# title: Flux Kustomization prunes what Git no longer holds
# description: >-
#   A Flux Kustomization sets spec.prune: true so objects removed from Git are removed from the
#   cluster. kustomize's own kustomization.yaml (kustomize.config.k8s.io) is not concerned.
# related_resources:
#   - ref: platform/flux/README.md#kustomization
#     description: platform Flux README, "Kustomization" (prune true)
#   - ref: https://fluxcd.io/flux/components/kustomize/kustomizations/#prune
#     description: Flux Kustomization API, spec.prune
# custom:
#   id: kustomization-prune
#   severity: error
#   scope: object
#   runs: [cli, admission]
#   fix: sets spec.prune to true (added under spec when missing)
#   kinds: [Kustomization]
package ova.rules.kustomization_prune

import data.ova.lib.k8s

violation contains v if {
	input.object.kind == "Kustomization"
	startswith(input.object.apiVersion, "kustomize.toolkit.fluxcd.io/")
	not input.object.spec.prune == true
	v := {
		"path": path,
		"msg": sprintf("%s does not prune (spec.prune is %s): objects deleted from Git stay in the cluster", [k8s.display, shown]),
		"fix": "set spec.prune: true",
		"edit": {"path": ["spec", "prune"], "value": true},
	}
}

path := ["spec", "prune"] if input.object.spec.prune != null else := ["spec"]

shown := sprintf("%v", [input.object.spec.prune]) if input.object.spec.prune != null else := "unset"
