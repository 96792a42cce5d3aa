package webhook_test

import (
	"context"
	"fmt"

	admissionv1 "k8s.io/api/admission/v1"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/openova-io/ova-lint/linter/config"
	"github.com/openova-io/ova-lint/linter/engine"
	"github.com/openova-io/ova-lint/webhook"
)

// A Handler built on the linter's engine decides on an AdmissionReview's request.
func ExampleHandler_Handle() {
	ctx := context.Background()
	cfg, _ := config.Default()
	eng, _ := engine.New(ctx, engine.Options{Config: cfg})
	h, _ := webhook.NewHandler(webhook.Options{Engine: eng, Config: cfg, Namespace: "ova-lint"})

	req := admission.Request{AdmissionRequest: admissionv1.AdmissionRequest{
		UID: "1", Operation: admissionv1.Create, Namespace: "flux-system", Name: "apps",
	}}
	req.Kind.Group, req.Kind.Version, req.Kind.Kind = "kustomize.toolkit.fluxcd.io", "v1", "Kustomization"
	req.Object.Raw = []byte(`{"apiVersion":"kustomize.toolkit.fluxcd.io/v1","kind":"Kustomization",
	  "metadata":{"name":"apps","namespace":"flux-system"},
	  "spec":{"interval":"10m","path":"./apps","prune":true,"wait":false,
	    "sourceRef":{"kind":"GitRepository","name":"platform"},
	    "healthChecks":[{"apiVersion":"apps/v1","kind":"Deployment","name":"api","namespace":"apps"}]}}`)

	resp := h.Handle(ctx, req)
	fmt.Println(resp.Allowed, resp.Result.Code)
	for _, c := range resp.Result.Details.Causes {
		fmt.Println(c.Type, c.Field)
	}
	// Output:
	// false 403
	// ova-lint/kustomization-wait spec.wait
}
