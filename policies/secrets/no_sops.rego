# METADATA
# title: No SOPS anywhere
# description: >-
#   SOPS has been eliminated from the architecture: no top-level sops: block, no
#   ENC[AES256_GCM,...] values, no Flux Kustomization spec.decryption, no .sops.yaml file.
#   Secrets come through External Secrets Operator.
# related_resources:
#   - ref: platform/flux/README.md#secrets-management
#     description: platform Flux README, "Secrets Management" (No SOPS)
# custom:
#   id: no-sops
#   severity: error
#   scope: object
#   runs: [cli, admission]
package ova.rules.no_sops

import data.ova.lib.k8s

fix := "remove the SOPS encryption; deliver the secret through an ExternalSecret (External Secrets Operator) backed by OpenBao"

violation contains v if {
	input.object.sops
	v := {
		"path": ["sops"],
		"msg": sprintf("%s carries a SOPS metadata block (sops:)", [k8s.display]),
		"fix": fix,
	}
}

violation contains v if {
	input.object.kind == "Kustomization"
	startswith(input.object.apiVersion, "kustomize.toolkit.fluxcd.io/")
	input.object.spec.decryption
	v := {
		"path": ["spec", "decryption"],
		"msg": sprintf("%s decrypts SOPS secrets (spec.decryption)", [k8s.display]),
		"fix": "remove spec.decryption; secrets come through External Secrets Operator",
	}
}

violation contains v if {
	input.source.base in {".sops.yaml", ".sops.yml"}
	v := {
		"path": [],
		"msg": sprintf("%s is a SOPS configuration file", [k8s.file_base]),
		"fix": "delete the SOPS configuration; secrets come through External Secrets Operator",
	}
}

# The value itself is never shown: only where it is.
violation contains v if {
	not input.object.sops
	contains(input.source.text, "AES256_GCM") # the file's text: walk only where a marker exists
	some path, value
	walk(input.object, [path, value])
	is_string(value)
	startswith(value, "ENC[")
	contains(value, "AES256_GCM")
	v := {
		"path": path,
		"msg": sprintf("%s holds a SOPS-encrypted value (ENC[AES256_GCM,...])", [k8s.display]),
		"fix": fix,
	}
}
