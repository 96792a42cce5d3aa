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
