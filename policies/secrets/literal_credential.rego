# METADATA
# title: No credential literals in container env
# description: >-
#   A container env entry (in the pod specs of secrets.pod_spec_paths) whose name looks like a credential (secrets.credential_name_pattern:
#   PASSWORD, SECRET, TOKEN, API_KEY, ...) must not carry a literal value, and no env value may
#   embed user:password@ in a URL. Use valueFrom.secretKeyRef on a Secret that External Secrets
#   Operator writes. Placeholders for Flux post-build substitution (${VAR}) and Kubernetes
#   dependent variables ($(VAR)) are not literals. The value is never shown.
# related_resources:
#   - ref: platform/flux/README.md#secrets-management
#     description: platform Flux README, "Secrets Management" (apps read from K8s Secrets only)
# custom:
#   id: literal-credential
#   severity: error
#   scope: object
#   runs: [cli, admission]
package ova.rules.literal_credential

import data.ova.lib.k8s

params := data.ova.params.secrets

# every env entry of every container of the object's pod spec(s): the kinds and where their pod
# spec lives are the parameter secrets.pod_spec_paths (Pod, workloads, Jobs, CronJobs, ...).
env_entries contains [array.concat(path, [i]), entry] if {
	some spec_path in params.pod_spec_paths[input.object.kind]
	spec := object.get(input.object, spec_path, {})
	some list in ["containers", "initContainers", "ephemeralContainers"]
	some c, container in object.get(spec, list, [])
	some i, entry in object.get(container, "env", [])
	is_string(entry.name)
	path := array.concat(spec_path, [list, c, "env"])
}

literal(value) if {
	is_string(value)
	value != ""
	not placeholder(value)
}

placeholder(value) if regex.match(`^\s*(\$\{[^}]+\}|\$\([^)]+\))\s*$`, value)

name_is_credential(name) if {
	regex.match(params.credential_name_pattern, name)
	not regex.match(params.credential_name_exempt_pattern, name)
}

violation contains v if {
	some [path, entry] in env_entries
	name_is_credential(entry.name)
	literal(entry.value)
	v := {
		"path": array.concat(path, ["value"]),
		"msg": sprintf("%s sets credential-like env %s to a literal value", [k8s.display, entry.name]),
		"fix": sprintf("take %s from a Secret written by External Secrets Operator: valueFrom.secretKeyRef", [entry.name]),
	}
}

violation contains v if {
	some [path, entry] in env_entries
	literal(entry.value)
	regex.match(`[a-zA-Z][a-zA-Z0-9+.-]*://[^/\s:@]+:[^/\s@]+@`, entry.value)
	not name_is_credential(entry.name)
	v := {
		"path": array.concat(path, ["value"]),
		"msg": sprintf("%s sets env %s to a URL with embedded user:password@ credentials", [k8s.display, entry.name]),
		"fix": sprintf("move the credentials of %s into a Secret written by External Secrets Operator and reference it with valueFrom.secretKeyRef", [entry.name]),
	}
}
