# METADATA
# title: No credential literals in container env
# description: >-
#   A container env entry (in the pod specs of secrets.pod_spec_paths) whose name looks like a credential (secrets.credential_name_pattern:
#   PASSWORD, SECRET, TOKEN, API_KEY, ...) must not carry a literal value, and no env value may
#   embed user:password@ in a URL. Use valueFrom.secretKeyRef on a Secret that External Secrets
#   Operator writes. Placeholders for Flux post-build substitution (${VAR}) and Kubernetes
#   dependent variables ($(VAR)) are not literals, nor is a reference to a secret kept elsewhere
#   (secrets.reference_patterns: op://, vault:, ref+, <path:...>, {{ ... }}). The value is never
#   shown.
# related_resources:
#   - ref: platform/flux/README.md#secrets-management
#     description: platform Flux README, "Secrets Management" (apps read from K8s Secrets only)
# custom:
#   id: literal-credential
#   severity: error
#   scope: object
#   runs: [cli, admission]
#   kinds_param: secrets.pod_spec_paths
#   params:
#     secrets.pod_spec_paths: {type: object, additionalProperties: {type: array, items: {type: array, minItems: 1, items: {type: string}}}}
#     secrets.credential_name_pattern: {type: string, format: regex}
#     secrets.credential_name_exempt_pattern: {type: string, format: regex}
#     secrets.reference_patterns: {type: array, items: {type: string, format: regex}}
package ova.rules.literal_credential

import data.ova.lib.k8s
import data.ova.lib.secrets

params := data.ova.params.secrets

# every env entry with a literal string value, in every container of the object's pod spec(s):
# the kinds and where their pod spec lives are the parameter secrets.pod_spec_paths.
literals contains [spec_path, list, c, i, entry.name, entry.value] if {
	some spec_path in params.pod_spec_paths[input.object.kind]
	spec := object.get(input.object, spec_path, {})
	some list in ["containers", "initContainers", "ephemeralContainers"]
	some c, container in spec[list]
	some i, entry in container.env
	is_string(entry.value)
	entry.value != ""
	is_string(entry.name)
}

placeholder(value) if regex.match(`^\s*(\$\{[^}]+\}|\$\([^)]+\))\s*$`, value)

placeholder(value) if secrets.reference(value)

name_is_credential(name) if {
	regex.match(params.credential_name_pattern, name)
	not regex.match(params.credential_name_exempt_pattern, name)
}

at(spec_path, list, c, i) := array.concat(spec_path, [list, c, "env", i, "value"])

violation contains v if {
	some [spec_path, list, c, i, name, value] in literals
	name_is_credential(name)
	not placeholder(value)
	v := {
		"path": at(spec_path, list, c, i),
		"msg": sprintf("%s sets credential-like env %s to a literal value", [k8s.display, name]),
		"fix": sprintf("take %s from a Secret written by External Secrets Operator: valueFrom.secretKeyRef", [name]),
	}
}

violation contains v if {
	some [spec_path, list, c, i, name, value] in literals
	contains(value, "@")
	regex.match(`[a-zA-Z][a-zA-Z0-9+.-]*://[^/\s:@]+:[^/\s@]+@`, value)
	not name_is_credential(name)
	not placeholder(value)
	v := {
		"path": at(spec_path, list, c, i),
		"msg": sprintf("%s sets env %s to a URL with embedded user:password@ credentials", [k8s.display, name]),
		"fix": sprintf("move the credentials of %s into a Secret written by External Secrets Operator and reference it with valueFrom.secretKeyRef", [name]),
	}
}
