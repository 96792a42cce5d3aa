# METADATA
# title: Document conforms to its schema
# description: >-
#   Every Kubernetes object is validated, strictly (unknown fields are errors), against the schema
#   of its apiVersion and kind, offline: core Kubernetes (kubernetesVersion, default 1.31, the
#   platform's k3s line), Flux (fluxVersion, default 2.4, the release the platform pins), External
#   Secrets Operator, cert-manager, the platform's Blueprint, Helm's Chart.yaml and kustomize's
#   kustomization.yaml; CustomResourceDefinitions found in the linted tree add their kinds. A kind
#   with no schema is reported with the severity schema.no_schema_severity (default info), never
#   passed silently. Validation runs in Go with kubeconform's JSON-schema engine; this package
#   carries the catalogue entry.
# related_resources:
#   - ref: https://kubernetes.io/docs/reference/kubernetes-api/
#     description: Kubernetes API reference and the Flux/ESO CRD schemas (linter/schema/catalog/SOURCES.md)
# custom:
#   id: schema
#   severity: error
#   scope: object
#   runs: [cli]
#   kinds: []
#   params:
#     schema.no_schema_severity: {enum: [error, warning, info]}
package ova.rules.schema

# Produced in Go (linter/schemacheck.go): nothing here fires from an object.
violation := set()
