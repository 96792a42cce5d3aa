package ova.rules.secrets_test

import data.ova.rules.literal_credential
import data.ova.rules.no_sops
import data.ova.rules.plaintext_secret
import data.ova.rules.sealed_secret

inp(o) := {"object": o, "source": {"file": "apps/x.yaml", "path": "apps/x.yaml", "root": ".", "base": "x.yaml", "dir": "apps", "text": json.marshal(o)}}

secret(extra) := object.union({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "db"}}, extra)

test_plaintext_secret_data if {
	vs := plaintext_secret.violation with input as inp(secret({"data": {"password": "aHVudGVyMg=="}}))
	some v in vs
	v.path == ["data"]
	not contains(v.msg, "aHVudGVyMg==")
}

test_plaintext_secret_string_data if {
	vs := plaintext_secret.violation with input as inp(secret({"stringData": {"password": "hunter2"}}))
	some v in vs
	v.path == ["stringData"]
	not contains(v.msg, "hunter2")
}

test_empty_secret_passes if {
	count(plaintext_secret.violation) == 0 with input as inp(secret({}))
}

test_helm_release_secret_passes if {
	count(plaintext_secret.violation) == 0 with input as inp(secret({"type": "helm.sh/release.v1", "data": {"release": "x"}}))
}

test_owned_secret_passes if {
	o := secret({"data": {"a": "b"}, "metadata": {"name": "db", "ownerReferences": [{"kind": "ExternalSecret", "name": "db", "controller": true}]}})
	count(plaintext_secret.violation) == 0 with input as inp(o)
}

test_sops_block if {
	vs := no_sops.violation with input as inp(secret({"sops": {"version": "3.8"}, "data": {"a": "ENC[AES256_GCM,data:xx,type:str]"}}))
	count(vs) == 1
	some v in vs
	v.path == ["sops"]
}

test_sops_value_without_block if {
	o := {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"k": "ENC[AES256_GCM,data:abc,iv:x,tag:y,type:str]"}}
	vs := no_sops.violation with input as inp(o)
	some v in vs
	v.path == ["data", "k"]
	not contains(v.msg, "data:abc")
}

test_sops_decryption if {
	o := {"apiVersion": "kustomize.toolkit.fluxcd.io/v1", "kind": "Kustomization", "metadata": {"name": "k"}, "spec": {"decryption": {"provider": "sops"}}}
	vs := no_sops.violation with input as inp(o)
	some v in vs
	v.path == ["spec", "decryption"]
}

test_sops_config_file if {
	vs := no_sops.violation with input as {"object": {"creation_rules": []}, "source": {"file": "repo/.sops.yaml", "path": "sub/.sops.yaml", "base": ".sops.yaml", "dir": "sub"}}
	count(vs) == 1
}

test_no_sops_clean if {
	count(no_sops.violation) == 0 with input as inp({"apiVersion": "v1", "kind": "ConfigMap", "data": {"k": "ENC is fine"}})
}

test_sealed_secret if {
	o := {"apiVersion": "bitnami.com/v1alpha1", "kind": "SealedSecret", "metadata": {"name": "s"}}
	count(sealed_secret.violation) == 1 with input as inp(o)
	count(sealed_secret.violation) == 0 with input as inp(o) with data.ova.params.secrets.tolerate_sealed_secrets as true
}

deploy(env) := {
	"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "api"},
	"spec": {"template": {"spec": {"containers": [{"name": "api", "image": "x", "env": env}]}}},
}

test_literal_password if {
	vs := literal_credential.violation with input as inp(deploy([{"name": "LOG_LEVEL", "value": "info"}, {"name": "DB_PASSWORD", "value": "hunter2"}]))
	count(vs) == 1
	some v in vs
	v.path == ["spec", "template", "spec", "containers", 0, "env", 1, "value"]
	not contains(v.msg, "hunter2")
}

test_secret_key_ref_passes if {
	e := [{"name": "DB_PASSWORD", "valueFrom": {"secretKeyRef": {"name": "db", "key": "password"}}}]
	count(literal_credential.violation) == 0 with input as inp(deploy(e))
}

test_placeholder_passes if {
	e := [{"name": "API_TOKEN", "value": "${API_TOKEN}"}, {"name": "X_SECRET", "value": "$(X_SECRET)"}]
	count(literal_credential.violation) == 0 with input as inp(deploy(e))
}

test_exempt_names_pass if {
	e := [{"name": "TOKEN_FILE", "value": "/var/run/token"}, {"name": "DB_SECRET_NAME", "value": "db"}]
	count(literal_credential.violation) == 0 with input as inp(deploy(e))
}

test_url_credentials if {
	e := [{"name": "DATABASE_URL", "value": "postgres://app:s3cret@db:5432/app"}]
	vs := literal_credential.violation with input as inp(deploy(e))
	count(vs) == 1
	some v in vs
	not contains(v.msg, "s3cret")
}

test_url_without_credentials_passes if {
	e := [{"name": "DATABASE_URL", "value": "postgres://db:5432/app"}]
	count(literal_credential.violation) == 0 with input as inp(deploy(e))
}

test_cronjob_init_containers if {
	o := {"apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": "c"}, "spec": {"jobTemplate": {"spec": {"template": {"spec": {"initContainers": [{"name": "i", "env": [{"name": "API_KEY", "value": "abc"}]}]}}}}}}
	count(literal_credential.violation) == 1 with input as inp(o)
}

# --- references are not values

# base64 of "op://vault/item/field" and of "hunter2"
op_ref_b64 := "b3A6Ly92YXVsdC9pdGVtL2ZpZWxk"

test_plaintext_secret_references_pass if {
	o := secret({
		"data": {"token": op_ref_b64, "empty": ""},
		"stringData": {
			"a": "op://vault/item/field", "b": "vault:secret/data/db#password", "c": "ref+awsssm://db/password",
			"d": "<path:kv/data/db#password>", "e": "${DB_PASSWORD}", "f": "{{ .Values.password }}", "g": "",
		},
	})
	count(plaintext_secret.violation) == 0 with input as inp(o)
}

test_plaintext_secret_names_only_plaintext_keys if {
	o := secret({"stringData": {"ref": "op://vault/item/field", "password": "hunter2", "user": "app"}})
	vs := plaintext_secret.violation with input as inp(o)
	count(vs) == 1
	some v in vs
	contains(v.msg, "carries 2 plaintext value(s) in stringData (keys: password, user)")
	not contains(v.msg, "ref")
}

test_plaintext_secret_data_reference_with_newline_passes if {
	# base64 of "op://vault/item/field\n" (echo ... | base64)
	o := secret({"data": {"token": "b3A6Ly92YXVsdC9pdGVtL2ZpZWxkCg=="}})
	count(plaintext_secret.violation) == 0 with input as inp(o)
}

test_plaintext_secret_data_not_base64_is_judged_raw if {
	count(plaintext_secret.violation) == 0 with input as inp(secret({"data": {"token": "op://vault/item/field"}}))
	count(plaintext_secret.violation) == 1 with input as inp(secret({"data": {"token": "not base64!"}}))
}

test_plaintext_secret_reference_patterns_are_a_parameter if {
	o := secret({"stringData": {"a": "op://vault/item/field"}})
	count(plaintext_secret.violation) == 1 with input as inp(o) with data.ova.params.secrets.reference_patterns as []
}

# the patterns are matched as one alternation: each keeps its own flags and anchors
test_reference_patterns_keep_their_own_flags if {
	o := secret({"stringData": {"a": "secretref:abc", "b": "X", "c": "x"}})
	vs := plaintext_secret.violation with input as inp(o) with data.ova.params.secrets.reference_patterns as ["(?i)^SECRETREF:", "^x$"]
	count(vs) == 1
	some v in vs
	contains(v.msg, "carries 1 plaintext value(s) in stringData (keys: b)")
}

test_literal_credential_reference_passes if {
	e := [{"name": "DB_PASSWORD", "value": "op://vault/db/password"}, {"name": "API_TOKEN", "value": "ref+vault://secret/api#token"}]
	count(literal_credential.violation) == 0 with input as inp(deploy(e))
}

# --- provenance (input.origin)

with_origin(o, origin) := object.union(inp(o), {"origin": origin})

plain := secret({"data": {"password": "aHVudGVyMg=="}})

test_origin_file_and_kustomize_are_judged_as_written if {
	count(plaintext_secret.violation) == 1 with input as with_origin(plain, {"producer": "file"})
	count(plaintext_secret.violation) == 1 with input as with_origin(plain, {"producer": "kustomize", "chain": []})
	count(plaintext_secret.violation) == 1 with input as inp(plain)
}

helm_secret := secret({
	"data": {"api-key": "aHVudGVyMg==", "generated": "cmFuZG9t", "ref": op_ref_b64},
	"stringData": {"url": "https://x"},
})

test_origin_helm_without_git_values_passes if {
	count(plaintext_secret.violation) == 0 with input as with_origin(helm_secret, {"producer": "helm", "chain": []})
	count(plaintext_secret.violation) == 0 with input as with_origin(helm_secret, {"producer": "helm", "git_values": {}})
}

test_origin_helm_flags_only_traced_values if {
	origin := {"producer": "helm", "chain": [], "git_values": {
		"stringData.url": {"file": "apps/db/values.yaml", "line": 9, "column": 8, "via": "values.yaml"},
		"data.api-key": {"file": "apps/db/helmrelease.yaml", "line": 21, "column": 14, "via": "HelmRelease values"},
		"data.ref": {"file": "apps/db/values.yaml", "line": 3, "column": 6, "via": "values.yaml"},
	}}
	vs := plaintext_secret.violation with input as with_origin(helm_secret, origin)
	count(vs) == 1
	some v in vs
	v.file == "apps/db/helmrelease.yaml"
	v.line == 21
	v.column == 14
	v.path == ["data", "api-key"]
	contains(v.msg, "carries 2 value(s) that trace back to Git")
	contains(v.msg, "data.api-key (via HelmRelease values, apps/db/helmrelease.yaml:21)")
	contains(v.msg, "stringData.url (via values.yaml, apps/db/values.yaml:9)")
	not contains(v.msg, "generated")
	not contains(v.msg, "data.ref")
	not contains(v.msg, "hunter2")
	contains(v.fix, "ExternalSecret")
}

test_origin_helm_key_with_dots if {
	o := secret({"data": {"tls.key": "aHVudGVyMg=="}})
	origin := {"producer": "helm", "git_values": {"data.tls.key": {"file": "c/templates/s.yaml", "line": 7, "column": 3}}}
	vs := plaintext_secret.violation with input as with_origin(o, origin)
	some v in vs
	v.path == ["data", "tls.key"]
	contains(v.msg, "data.tls.key (c/templates/s.yaml:7)")
}

test_origin_admission_helm_controller_is_admitted if {
	origin := {"producer": "admission", "applied_by": "helm-controller"}
	count(plaintext_secret.violation) == 0 with input as with_origin(plain, origin)
	count(plaintext_secret.violation) == 1 with input as with_origin(plain, origin) with data.ova.params.secrets.admit_helm_secrets as false
}

test_origin_admission_kustomize_controller_is_denied if {
	count(plaintext_secret.violation) == 1 with input as with_origin(plain, {"producer": "admission", "applied_by": "kustomize-controller"})
	count(plaintext_secret.violation) == 1 with input as with_origin(plain, {"producer": "admission", "applied_by": ""})
	count(plaintext_secret.violation) == 1 with input as with_origin(plain, {"producer": "admission"})
}
