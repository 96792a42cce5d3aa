# METADATA
# title: No plaintext Secret in Git
# description: >-
#   A v1 Secret with data or stringData committed to Git exposes its values to everyone who can
#   read the repository. Apps read Kubernetes Secrets that External Secrets Operator writes from
#   OpenBao. A value that only references a secret kept elsewhere (secrets.reference_patterns:
#   op://, vault:, ref+, <path:...>, ${VAR}, {{ ... }}; data values base64-decoded) and an empty
#   value are not plaintext; the finding names the plaintext keys only. Secrets that controllers
#   own (ownerReferences) and Helm release storage or service-account token Secrets are not
#   concerned. Provenance decides for rendered charts: in the CLI, a Secret rendered from a Helm
#   chart is flagged only for the values that trace back to Git (a literal in a template, in
#   values.yaml or in the HelmRelease's values), at that literal's position; files and kustomize
#   builds are judged as written. The one difference between the doors: at admission a Secret
#   applied by helm-controller is allowed (its values may be generated in the cluster with lookup
#   or randAlphaNum, which admission cannot tell from literals) unless secrets.admit_helm_secrets
#   is false; a Secret applied by kustomize-controller is judged as written and denied.
# related_resources:
#   - ref: platform/flux/README.md#secrets-management
#     description: platform Flux README, "Secrets Management" (secrets through ESO)
# custom:
#   id: plaintext-secret
#   severity: error
#   scope: object
#   runs: [cli, admission]
#   kinds: [Secret]
#   params:
#     secrets.reference_patterns: {type: array, items: {type: string, format: regex}}
#     secrets.admit_helm_secrets: {type: boolean}
package ova.rules.plaintext_secret

import data.ova.lib.k8s
import data.ova.lib.secrets

controller_types := {"helm.sh/release.v1", "kubernetes.io/service-account-token", "bootstrap.kubernetes.io/token"}

controller_owned if {
	some ref in input.object.metadata.ownerReferences
	ref.controller == true
}

concerned if {
	input.object.kind == "Secret"
	input.object.apiVersion == "v1"
	not object.get(input.object, "type", "Opaque") in controller_types
	not controller_owned
}

# At admission, helm-controller's Secrets are allowed unless secrets.admit_helm_secrets is false.
admitted_helm_secret if {
	secrets.producer == "admission"
	object.get(secrets.origin, "applied_by", "") == "helm-controller"
	object.get(secrets.params, "admit_helm_secrets", true) != false
}

# Judged as written: raw files, kustomize builds, admission (except what admitted_helm_secret
# allows). A rendered Helm chart is judged by the provenance of its values instead.
as_written if {
	secrets.producer != "helm"
	not admitted_helm_secret
}

plaintext_keys(field) := {k |
	some k, value in object.get(input.object, field, {})
	secrets.plaintext(field, value)
}

violation contains v if {
	concerned
	as_written
	some field in ["data", "stringData"]
	keys := plaintext_keys(field)
	count(keys) > 0
	v := {
		"path": [field],
		"msg": sprintf("%s carries %d plaintext value(s) in %s (keys: %s)", [k8s.display, count(keys), field, concat(", ", sort(keys))]),
		"fix": "delete the Secret from Git and create an ExternalSecret that pulls these keys from OpenBao through External Secrets Operator",
	}
}

# A rendered chart Secret: input.origin.git_values lists its entries ("data.<key>",
# "stringData.<key>") whose value traces back to Git, each with the literal's position.

field_key(entry) := ["data", substring(entry, 5, -1)] if startswith(entry, "data.")

field_key(entry) := ["stringData", substring(entry, 11, -1)] if startswith(entry, "stringData.")

# traced: the git_values entries that hold plaintext (a traced reference or empty value is not).
traced[entry] := gv if {
	secrets.producer == "helm"
	some entry, gv in object.get(secrets.origin, "git_values", {})
	[field, key] := field_key(entry)
	not rendered_not_plaintext(field, key)
}

rendered_not_plaintext(field, key) if {
	value := input.object[field][key]
	not secrets.plaintext(field, value)
}

# where(gv): how a traced value came from Git, for the message: "via values.yaml, path:line".
where(gv) := sprintf("via %s, %s", [gv.via, position(gv)]) if {
	is_string(gv.via)
	gv.via != ""
} else := position(gv)

position(gv) := sprintf("%s:%d", [gv.file, gv.line]) if {
	is_number(gv.line)
} else := object.get(gv, "file", "")

violation contains v if {
	concerned
	count(traced) > 0
	entries := sort(object.keys(traced))
	first := entries[0]
	gv := traced[first]
	v := {
		"path": field_key(first),
		"file": object.get(gv, "file", ""),
		"line": object.get(gv, "line", 0),
		"column": object.get(gv, "column", 0),
		"msg": sprintf("%s, rendered from a Helm chart, carries %d value(s) that trace back to Git (keys: %s)", [
			k8s.display, count(entries),
			concat(", ", [sprintf("%s (%s)", [e, where(traced[e])]) | some e in entries]),
		]),
		"fix": "take these values out of Git: let the chart read a Secret that an ExternalSecret writes from OpenBao (an existingSecret value), or generate them in the cluster",
	}
}
