package webhook

// The Flux controllers that apply objects, as input.origin.applied_by names them.
const (
	HelmController      = "helm-controller"
	KustomizeController = "kustomize-controller"
)

// AppliedBy names the Flux controller that applied an object, from the labels it puts on every
// object it applies: kustomize-controller, helm-controller, or "" for neither. An object that
// carries kustomize-controller's label is kustomize-controller's, whatever else it carries: a
// helm-controller label on a manifest committed to Git does not make it a chart's object.
func AppliedBy(labels map[string]any) string {
	if v, ok := labels[LabelKustomizeName].(string); ok && v != "" {
		return KustomizeController
	}
	if v, ok := labels[LabelHelmName].(string); ok && v != "" {
		return HelmController
	}
	return ""
}

// admissionOrigin is input.origin at admission: {"producer": "admission", "applied_by": ...}.
// The rules decide what the origin changes (plaintext-secret admits helm-controller's Secrets
// unless secrets.admit_helm_secrets is false); the webhook only says where the object comes from.
func admissionOrigin(labels map[string]any) map[string]any {
	return map[string]any{"producer": "admission", "applied_by": AppliedBy(labels)}
}
