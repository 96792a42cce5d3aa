# METADATA
# title: No plaintext Secret in Git
# description: >-
#   A v1 Secret with data or stringData committed to Git exposes its values to everyone who can
#   read the repository. Apps read Kubernetes Secrets that External Secrets Operator writes from
#   OpenBao. Secrets that controllers own (ownerReferences) and Helm release storage or
#   service-account token Secrets are not concerned.
# related_resources:
#   - ref: platform/flux/README.md#secrets-management
#     description: platform Flux README, "Secrets Management" (secrets through ESO)
# custom:
#   id: plaintext-secret
#   severity: error
#   scope: object
#   runs: [cli, admission]
#   kinds: [Secret]
package ova.rules.plaintext_secret

import data.ova.lib.k8s

controller_types := {"helm.sh/release.v1", "kubernetes.io/service-account-token", "bootstrap.kubernetes.io/token"}

controller_owned if {
	some ref in input.object.metadata.ownerReferences
	ref.controller == true
}

violation contains v if {
	input.object.kind == "Secret"
	input.object.apiVersion == "v1"
	not object.get(input.object, "type", "Opaque") in controller_types
	not controller_owned
	some field in ["data", "stringData"]
	keys := object.keys(object.get(input.object, field, {}))
	count(keys) > 0
	v := {
		"path": [field],
		"msg": sprintf("%s carries %d plaintext value(s) in %s (keys: %s)", [k8s.display, count(keys), field, concat(", ", sort(keys))]),
		"fix": "delete the Secret from Git and create an ExternalSecret that pulls these keys from OpenBao through External Secrets Operator",
	}
}
