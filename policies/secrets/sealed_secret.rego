# METADATA
# title: No SealedSecret objects
# description: >-
#   Secrets come only through External Secrets Operator; a SealedSecret is a second secrets
#   channel. The parameter secrets.tolerate_sealed_secrets allows them during a migration.
# related_resources:
#   - ref: platform/flux/README.md#secrets-management
#     description: platform Flux README, "Secrets Management" (100% ESO / PushSecrets)
# custom:
#   id: sealed-secret
#   severity: error
#   scope: object
#   runs: [cli, admission]
#   kinds: [SealedSecret]
#   params:
#     secrets.tolerate_sealed_secrets: {type: boolean}
package ova.rules.sealed_secret

import data.ova.lib.k8s

violation contains v if {
	input.object.kind == "SealedSecret"
	k8s.api_group == "bitnami.com"
	not data.ova.params.secrets.tolerate_sealed_secrets
	v := {
		"path": ["kind"],
		"msg": sprintf("%s is a SealedSecret: secrets come only through External Secrets Operator", [k8s.display]),
		"fix": "replace it with an ExternalSecret backed by OpenBao (or set secrets.tolerate_sealed_secrets while migrating)",
	}
}
