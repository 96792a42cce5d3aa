package input

import "github.com/open-policy-agent/opa/v1/ast"

// internedKeys are strings every input holds: the keys of the wrapper ObjectInput builds around
// an object, and the keys (and a few values) most Kubernetes and Flux objects carry.
//
// OPA makes a term for each key of an object it converts (ast.InterfaceToValue, and the
// webhook's decoder, through ast.InternedTerm), unless the string is in its table of interned
// terms: then the one shared term serves. That table held few of these, so a Kustomization's
// input cost some 50 allocations of terms for its keys alone. OPA's own packages add their keys
// the same way, at initialization (ast.InternStringTerm must not be called later).
var internedKeys = [...]string{
	// the wrapper (ObjectInputValue, Source.term, Source.originTerm)
	"object", "source", "environment", "origin", "producer", "versions", "kubernetes", "flux",
	"index", "text", "file", "path", "root", "base", "dir", "operation", "user", "dry_run",
	"parse", "duplicate_keys", "key", "line", "column", "first_line", "applied_by",
	"admission", "kustomize", "helm", "render_error",
	// Kubernetes and Flux objects
	"apiVersion", "kind", "metadata", "namespace", "labels", "spec", "status", "data",
	"stringData", "interval", "timeout", "prune", "wait", "healthChecks", "dependsOn",
	"sourceRef", "targetNamespace", "postBuild", "substitute", "substituteFrom", "decryption",
	"chart", "releaseName", "install", "upgrade", "remediation", "retries", "disableWait",
	"values", "valuesFrom", "url", "ref", "branch", "tag", "semver", "commit", "secretRef",
	"provider", "suspend", "force", "optional", "enabled", "repository", "image", "images",
	"containers", "initContainers", "env", "value", "valueFrom", "secretKeyRef",
	"configMapKeyRef", "ports", "port", "targetPort", "containerPort", "protocol", "resources",
	"limits", "requests", "cpu", "memory", "selector", "matchLabels", "template", "replicas",
	"securityContext", "serviceAccountName", "volumes", "volumeMounts", "mountPath",
	"annotations", "target", "secretStoreRef", "remoteRef", "refreshInterval", "creationPolicy",
	"app", "app.kubernetes.io/name", "app.kubernetes.io/instance", "app.kubernetes.io/managed-by",
	"kustomize.toolkit.fluxcd.io/name", "kustomize.toolkit.fluxcd.io/namespace",
	"helm.toolkit.fluxcd.io/name", "helm.toolkit.fluxcd.io/namespace",
	"generation", "uid", "resourceVersion", "creationTimestamp", "managedFields", "finalizers",
	"ownerReferences",
	// values
	"v1", "apps/v1", "TCP", "Opaque", "GitRepository", "HelmRepository", "OCIRepository",
	"Kustomization", "HelmRelease", "ConfigMap", "Secret", "Service", "Deployment",
	"ExternalSecret", "flux-system",
	// input.versions: the Kubernetes and Flux minors the schema catalogue carries, and nearby
	"1.28", "1.29", "1.30", "1.31", "1.32", "1.33", "1.34", "1.35", "1.36", "1.37",
	"2.3", "2.4", "2.5", "2.6", "2.7", "2.8", "2.9", "2.10",
}

func init() { ast.InternStringTerm(internedKeys[:]...) }
