# METADATA
# title: Flux Kustomization declares health checks
# description: >-
#   A Flux Kustomization lists spec.healthChecks for the workloads it deploys. Flux ignores
#   healthChecks when wait is true, so whether they are still required then is the parameter
#   kustomization.health_checks_with_wait (default true: the platform README shows both).
# related_resources:
#   - ref: platform/flux/README.md#kustomization
#     description: platform Flux README, "Kustomization" (healthChecks)
#   - ref: https://fluxcd.io/flux/components/kustomize/kustomizations/#health-checks
#     description: Flux Kustomization API, spec.healthChecks
# custom:
#   id: kustomization-health-checks
#   severity: error
#   scope: object
#   runs: [cli, admission]
#   kinds: [Kustomization]
#   params:
#     kustomization.health_checks_with_wait: {type: boolean}
package ova.rules.kustomization_health_checks

import data.ova.lib.k8s

required if not input.object.spec.wait == true

required if data.ova.params.kustomization.health_checks_with_wait

violation contains v if {
	input.object.kind == "Kustomization"
	startswith(input.object.apiVersion, "kustomize.toolkit.fluxcd.io/")
	count(object.get(input.object, ["spec", "healthChecks"], [])) == 0 # before required: most have some
	required
	v := {
		"path": path,
		"msg": sprintf("%s declares no spec.healthChecks", [k8s.display]),
		"fix": "list the workloads it deploys under spec.healthChecks (apiVersion, kind, name, namespace)",
	}
}

path := ["spec", "healthChecks"] if input.object.spec.healthChecks != null else := ["spec"]
