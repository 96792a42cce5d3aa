package webhook

import (
	"strings"
)

// Labels that Flux's controllers put on every object they apply.
const (
	// LabelKustomizeName is set by kustomize-controller to the name of the Kustomization.
	LabelKustomizeName = "kustomize.toolkit.fluxcd.io/name"
	// LabelHelmName is set by helm-controller to the name of the HelmRelease.
	LabelHelmName = "helm.toolkit.fluxcd.io/name"
)

// KubeSystem is never checked.
const KubeSystem = "kube-system"

// IsFluxKind reports whether group/kind is one of the Flux custom resources the webhook checks
// whoever writes them.
func IsFluxKind(group, kind string) bool {
	switch group {
	case "source.toolkit.fluxcd.io":
		return kind == "GitRepository" || kind == "OCIRepository" || kind == "HelmRepository"
	case "kustomize.toolkit.fluxcd.io":
		return kind == "Kustomization"
	case "helm.toolkit.fluxcd.io":
		return kind == "HelmRelease"
	}
	return false
}

// AppliedByFlux reports whether an object carries the label of a Flux controller that applied it.
func AppliedByFlux(labels map[string]any) bool {
	for _, l := range []string{LabelKustomizeName, LabelHelmName} {
		if v, ok := labels[l].(string); ok && v != "" {
			return true
		}
	}
	return false
}

// controllerSecretTypes are Secret types that only controllers write.
func controllerSecretType(t string) bool {
	switch t {
	case "helm.sh/release.v1", "kubernetes.io/service-account-token", "bootstrap.kubernetes.io/token":
		return true
	}
	return false
}

// ControllerSecret says why a core/v1 Secret is one a controller created, or "" when it is not.
// Helm release storage and token Secrets are recognised by their type, ESO targets (and any other
// owned Secret) by a controller ownerReference. cert-manager's and ESO's markers (an annotation
// or label anyone can write) count only on a Secret that Flux did not apply, so a Secret
// committed to Git cannot exempt itself by copying them.
func ControllerSecret(obj map[string]any) string {
	if t, _ := obj["type"].(string); controllerSecretType(t) {
		return "Secret of type " + t + " is written by a controller"
	}
	md, _ := obj["metadata"].(map[string]any)
	if refs, ok := md["ownerReferences"].([]any); ok {
		for _, r := range refs {
			if ref, ok := r.(map[string]any); ok && ref["controller"] == true {
				kind, _ := ref["kind"].(string)
				return "Secret is controlled by its owner " + kind
			}
		}
	}
	labels, _ := md["labels"].(map[string]any)
	if AppliedByFlux(labels) {
		return ""
	}
	annotations, _ := md["annotations"].(map[string]any)
	for k := range annotations {
		if strings.HasPrefix(k, "cert-manager.io/") {
			return "Secret is issued by cert-manager"
		}
	}
	for k := range labels {
		if strings.HasPrefix(k, "reconcile.external-secrets.io/") || k == "controller.cert-manager.io/fao" {
			return "Secret is written by a controller (" + k + ")"
		}
	}
	return ""
}
