# METADATA
# title: Kubernetes objects use an API version the cluster still serves
# description: >-
#   A core Kubernetes object uses an apiVersion that the configured Kubernetes version
#   (kubernetesVersion, default 1.31) serves, as pluto and kubent report: an apiVersion removed
#   in that version or earlier is an error (the API server refuses the object), one deprecated
#   by then, or removed in a later carried Kubernetes version, is a warning. The message names
#   the replacement. The data is the Kubernetes deprecated API migration guide (a table in
#   linter/schema/internal/gen) and what the carried swagger.json files show: an apiVersion/kind
#   served by one carried Kubernetes minor and absent from a later one.
# related_resources:
#   - ref: https://kubernetes.io/docs/reference/using-api/deprecation-guide/
#     description: Kubernetes "Deprecated API Migration Guide"
#   - ref: linter/schema/catalog/SOURCES.md
#     description: the carried Kubernetes OpenAPI documents (swagger.json) of each minor
# custom:
#   id: kubernetes-api-version
#   severity: warning
#   scope: object
#   runs: [cli, admission]
#   # every kind with a removed or deprecated version (data.ova.apis.kubernetes.removed; a test
#   # keeps the list whole)
#   kinds: [APIService, CSIDriver, CSINode, CSIStorageCapacity, CertificateSigningRequest, ClusterRole, ClusterRoleBinding, ControllerRevision, CronJob, CustomResourceDefinition, DaemonSet, Deployment, DeviceClass, EndpointSlice, Event, FlowSchema, HorizontalPodAutoscaler, Ingress, IngressClass, Lease, LeaseCandidate, LocalSubjectAccessReview, MutatingWebhookConfiguration, NetworkPolicy, PodDisruptionBudget, PodSchedulingContext, PodSecurityPolicy, PriorityClass, PriorityLevelConfiguration, ReplicaSet, ResourceClaim, ResourceClaimTemplate, ResourceSlice, Role, RoleBinding, RuntimeClass, SelfSubjectAccessReview, SelfSubjectReview, SelfSubjectRulesReview, StatefulSet, StorageClass, StorageVersionMigration, SubjectAccessReview, TokenReview, ValidatingAdmissionPolicy, ValidatingAdmissionPolicyBinding, ValidatingWebhookConfiguration, VolumeAttachment, VolumeAttributesClass]
package ova.rules.kubernetes_api_version

import data.ova.lib.k8s

kube := input.versions.kubernetes

entry := data.ova.apis.kubernetes.removed[sprintf("%s/%s", [input.object.apiVersion, input.object.kind])]

use := sprintf("use %s", [entry.replacement]) if entry.replacement != "" else := "the API has no replacement: remove the object or move to what replaced its feature"

# removed in the configured version or earlier
violation contains v if {
	not minor_less(kube, entry.removed_in)
	v := {
		"path": ["apiVersion"],
		"severity": "error",
		"msg": sprintf("%s uses %s, which Kubernetes %s no longer serves (%s): %s", [k8s.display, input.object.apiVersion, kube, removed(entry), use]),
		"fix": fix,
	}
}

# deprecated by the configured version, or gone from a later carried one
violation contains v if {
	minor_less(kube, entry.removed_in)
	deprecated
	v := {
		"path": ["apiVersion"],
		"msg": sprintf("%s uses %s, which is %s: %s", [k8s.display, input.object.apiVersion, deprecation(entry), use]),
		"fix": fix,
	}
}

deprecated if entry.derived

deprecated if {
	entry.deprecated_in
	not minor_less(kube, entry.deprecated_in)
}

fix := sprintf("set apiVersion: %s and adapt the fields that changed (kubectl convert, or the migration guide)", [entry.replacement]) if entry.replacement != "" else := "remove the object"

removed(e) := sprintf("absent from Kubernetes %s's OpenAPI", [e.removed_in]) if e.derived else := sprintf("removed in %s, deprecated since %s", [e.removed_in, e.deprecated_in])

deprecation(e) := sprintf("served by Kubernetes %s but absent from %s's OpenAPI", [kube, e.removed_in]) if e.derived else := sprintf("deprecated since Kubernetes %s and removed in %s", [e.deprecated_in, e.removed_in])

# minor_less("1.31", "1.36") compares Kubernetes minors as numbers.
minor_less(a, b) if {
	pa := [to_number(x) | some x in split(a, ".")]
	pb := [to_number(x) | some x in split(b, ".")]
	pa < pb
}
