# METADATA
# title: Flux Kustomization waits for its objects to become ready
# description: >-
#   A Flux Kustomization sets spec.wait: true so its Ready condition reflects the health of
#   everything it applied, and dependents (dependsOn) start only after it.
# related_resources:
#   - ref: platform/flux/README.md#kustomization
#     description: platform Flux README, "Kustomization" (wait true)
#   - ref: https://fluxcd.io/flux/components/kustomize/kustomizations/#wait
#     description: Flux Kustomization API, spec.wait
# custom:
#   id: kustomization-wait
#   severity: error
#   scope: object
#   runs: [cli, admission]
#   fix: sets spec.wait to true (added under spec when missing)
#   kinds: [Kustomization]
package ova.rules.kustomization_wait

import data.ova.lib.k8s

violation contains v if {
	input.object.kind == "Kustomization"
	startswith(input.object.apiVersion, "kustomize.toolkit.fluxcd.io/")
	not input.object.spec.wait == true
	v := {
		"path": path,
		"msg": sprintf("%s does not wait for readiness (spec.wait is %s)", [k8s.display, shown]),
		"fix": "set spec.wait: true",
		"edit": {"path": ["spec", "wait"], "value": true},
	}
}

path := ["spec", "wait"] if input.object.spec.wait != null else := ["spec"]

shown := sprintf("%v", [input.object.spec.wait]) if input.object.spec.wait != null else := "unset"
