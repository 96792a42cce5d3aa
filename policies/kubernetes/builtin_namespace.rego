# METADATA
# title: No document declares a namespace Kubernetes owns
# description: >-
#   No document declares a Namespace that Kubernetes creates itself (kubernetes.builtin_namespaces:
#   default, kube-system, kube-public, kube-node-lease). Declared in Git, it gets two owners: a
#   pruning Kustomization deletes it (and all it holds) when the file goes, and a second
#   declaration elsewhere fights over its labels and annotations. Objects are placed in those
#   namespaces by metadata.namespace, without declaring them. The finding is on metadata.name.
# related_resources:
#   - ref: https://kubernetes.io/docs/concepts/overview/working-with-objects/namespaces/#initial-namespaces
#     description: Kubernetes documentation, Namespaces, "Initial namespaces"
#   - ref: https://fluxcd.io/flux/components/kustomize/kustomizations/#prune
#     description: Flux Kustomization API, spec.prune (garbage collection of objects removed from Git)
# custom:
#   id: builtin-namespace
#   severity: error
#   scope: object
#   runs: [cli]
#   kinds: [Namespace]
#   params:
#     kubernetes.builtin_namespaces: {type: array, items: {type: string, pattern: "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"}}
package ova.rules.builtin_namespace

violation contains v if {
	input.object.kind == "Namespace"
	input.object.apiVersion == "v1"
	name := input.object.metadata.name
	name in data.ova.params.kubernetes.builtin_namespaces
	v := {
		"path": ["metadata", "name"],
		"msg": sprintf("Namespace %s is created and owned by Kubernetes; declared here, pruning or a second declaration fights over it", [name]),
		"fix": sprintf("remove this Namespace document and keep metadata.namespace: %s on the objects that live there", [name]),
	}
}
