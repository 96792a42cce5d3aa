package webhook_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	admissionv1 "k8s.io/api/admission/v1"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"
)

// benchReviews are AdmissionReviews of the kinds the webhook sees most: Flux CRs (clean, denied,
// warned), a Deployment and a Secret that Flux applies, and a controller's Secret it skips.
func benchReviews(b *testing.B) map[string][]byte {
	b.Helper()
	secret := yamlObject(b, plaintextSecret)
	return map[string][]byte{
		"Kustomization/allowed": reviewJSON(b, request{op: admissionv1.Create, obj: yamlObject(b, goodKustomization)}),
		"Kustomization/denied":  reviewJSON(b, request{op: admissionv1.Create, obj: yamlObject(b, badKustomization)}),
		"Kustomization/warned":  reviewJSON(b, request{op: admissionv1.Create, obj: set(yamlObject(b, goodKustomization), "5m", "spec", "interval")}),
		"GitRepository/allowed": reviewJSON(b, request{op: admissionv1.Create, obj: yamlObject(b, goodGitRepository)}),
		"Deployment/denied":     reviewJSON(b, request{op: admissionv1.Create, obj: fluxApplied(yamlObject(b, literalCredentialDeployment))}),
		"Secret/denied":         reviewJSON(b, request{op: admissionv1.Create, obj: fluxApplied(secret)}),
		"Secret/skipped":        reviewJSON(b, request{op: admissionv1.Create, obj: set(fluxApplied(secret), "helm.sh/release.v1", "type")}),
		"Kustomization/update":  reviewJSON(b, request{op: admissionv1.Update, obj: yamlObject(b, badKustomization), old: yamlObject(b, badKustomization)}),
	}
}

// BenchmarkHandler is the in-process cost of one AdmissionReview through the handler: decode the
// object, build the engine input, evaluate, turn the verdict into a response.
func BenchmarkHandler(b *testing.B) {
	e := newEnv(b, "")
	for name, body := range benchReviews(b) {
		var review admissionv1.AdmissionReview
		if err := json.Unmarshal(body, &review); err != nil {
			b.Fatal(err)
		}
		req := admission.Request{AdmissionRequest: *review.Request}
		b.Run(name, func(b *testing.B) {
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				_ = e.handler.Handle(ctx, req)
			}
		})
	}
}

// BenchmarkServeHTTP adds controller-runtime's HTTP layer: the AdmissionReview JSON in, the
// response JSON out (no TLS, no network).
func BenchmarkServeHTTP(b *testing.B) {
	e := newEnv(b, "")
	for name, body := range benchReviews(b) {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(body)))
			for b.Loop() {
				rec := httptest.NewRecorder()
				req := httptest.NewRequest(http.MethodPost, "/validate", bytes.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				e.http.ServeHTTP(rec, req)
				if rec.Code != http.StatusOK {
					b.Fatal(rec.Body.String())
				}
			}
		})
	}
}

// BenchmarkHandlerParallel is the handler on every core at once (the engine is shared).
func BenchmarkHandlerParallel(b *testing.B) {
	e := newEnv(b, "")
	var review admissionv1.AdmissionReview
	if err := json.Unmarshal(benchReviews(b)["Kustomization/allowed"], &review); err != nil {
		b.Fatal(err)
	}
	req := admission.Request{AdmissionRequest: *review.Request}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		ctx := context.Background()
		for pb.Next() {
			_ = e.handler.Handle(ctx, req)
		}
	})
}
