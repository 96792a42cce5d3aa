package webhook_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"

	admissionv1 "k8s.io/api/admission/v1"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/openova-io/ova-lint/linter/engine"
	"github.com/openova-io/ova-lint/linter/input"
	"github.com/openova-io/ova-lint/webhook"
)

// benchReviews are AdmissionReviews of the kinds the webhook sees most: Flux CRs (clean, denied,
// warned), a Deployment and a Secret that Flux applies, and a controller's Secret it skips.
func benchReviews(b testing.TB) map[string][]byte {
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
		// an UPDATE whose stored object has the same error (evaluated for that rule), and a no-op
		// apply, whose stored object is the object (not evaluated)
		"Kustomization/update":      reviewJSON(b, request{op: admissionv1.Update, obj: set(yamlObject(b, badKustomization), map[string]any{"reconcile.fluxcd.io/requestedAt": "2026-11-27T10:00:00Z"}, "metadata", "annotations"), old: yamlObject(b, badKustomization)}),
		"Kustomization/update-noop": reviewJSON(b, request{op: admissionv1.Update, obj: yamlObject(b, badKustomization), old: yamlObject(b, badKustomization)}),
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

// BenchmarkServeHTTP adds the HTTP layer `ova-lint serve` serves (the Handler's own ServeHTTP):
// the AdmissionReview JSON in, the response JSON out (no TLS, no network).
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
				e.handler.ServeHTTP(rec, req)
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

// largeConfigMaps are two ConfigMaps of about 1 MiB that Flux applies: a Grafana dashboard (one
// key holding 1 MiB of JSON) and 20,000 small keys. Their review must cost time linear in their
// size (≤ 20 ms in-process, issue 12).
func largeConfigMaps(b *testing.B) map[string][]byte {
	b.Helper()
	// A dashboard: panels of targets, the shape Grafana exports, until the text passes 1 MiB.
	var panels []any
	var size int
	for i := 0; size < 1<<20; i++ {
		p := map[string]any{
			"id": i, "type": "timeseries", "title": fmt.Sprintf("Requests per second %d", i),
			"gridPos":    map[string]any{"h": 8, "w": 12, "x": (i % 2) * 12, "y": i / 2 * 8},
			"datasource": map[string]any{"type": "prometheus", "uid": "${datasource}"},
			"targets": []any{map[string]any{
				"expr":         fmt.Sprintf(`sum(rate(http_requests_total{namespace="$namespace",pod=~"api-%d.*"}[$__rate_interval])) by (code)`, i),
				"legendFormat": "{{code}}", "refId": "A",
			}},
			"fieldConfig": map[string]any{"defaults": map[string]any{"unit": "reqps", "color": map[string]any{"mode": "palette-classic"}}},
		}
		raw, err := json.Marshal(p)
		if err != nil {
			b.Fatal(err)
		}
		size += len(raw)
		panels = append(panels, p)
	}
	dashboard, err := json.Marshal(map[string]any{"title": "API", "uid": "api", "schemaVersion": 39, "panels": panels})
	if err != nil {
		b.Fatal(err)
	}
	grafana := fluxApplied(map[string]any{
		"apiVersion": "v1", "kind": "ConfigMap",
		"metadata": map[string]any{"name": "grafana-dashboard-api", "namespace": "monitoring", "labels": map[string]any{"grafana_dashboard": "1"}},
		"data":     map[string]any{"api.json": string(dashboard)},
	})
	keys := map[string]any{}
	for i := range 20000 {
		keys[fmt.Sprintf("key-%05d", i)] = fmt.Sprintf("value %05d of a small setting", i)
	}
	small := fluxApplied(map[string]any{
		"apiVersion": "v1", "kind": "ConfigMap",
		"metadata": map[string]any{"name": "settings", "namespace": "apps"},
		"data":     keys,
	})
	return map[string][]byte{
		"ConfigMap/grafana-1MiB":      reviewJSON(b, request{op: admissionv1.Create, obj: grafana}),
		"ConfigMap/20000-keys":        reviewJSON(b, request{op: admissionv1.Create, obj: small}),
		"ConfigMap/20000-keys/update": reviewJSON(b, request{op: admissionv1.Update, obj: small, old: small}),
	}
}

// BenchmarkHandlerLarge is the handler on the large ConfigMaps: size in, time out, linear.
func BenchmarkHandlerLarge(b *testing.B) {
	e := newEnv(b, "")
	for name, body := range largeConfigMaps(b) {
		var review admissionv1.AdmissionReview
		if err := json.Unmarshal(body, &review); err != nil {
			b.Fatal(err)
		}
		req := admission.Request{AdmissionRequest: *review.Request}
		b.Run(name, func(b *testing.B) {
			ctx := context.Background()
			b.ReportAllocs()
			b.SetBytes(int64(len(review.Request.Object.Raw)))
			for b.Loop() {
				if resp := e.handler.Handle(ctx, req); resp.Result != nil && resp.Result.Code >= 500 {
					b.Fatal(resp.Result.Message)
				}
			}
		})
	}
}

// BenchmarkServeHTTPLarge is the large ConfigMaps through the HTTP layer: the review's JSON is
// read once more (checked and sliced, not copied) before the object is decoded.
func BenchmarkServeHTTPLarge(b *testing.B) {
	e := newEnv(b, "")
	for name, body := range largeConfigMaps(b) {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(body)))
			for b.Loop() {
				rec := httptest.NewRecorder()
				req := httptest.NewRequest(http.MethodPost, "/validate", bytes.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				e.handler.ServeHTTP(rec, req)
				if rec.Code != http.StatusOK {
					b.Fatal(rec.Body.String())
				}
			}
		})
	}
}

// BenchmarkAdmissionRules is the cost of each rule that runs at admission, alone, on the objects
// of BenchmarkHandler (engine.EvalRules with one package): where the time of a review goes once
// the webhook's own work is done.
func BenchmarkAdmissionRules(b *testing.B) {
	e := newEnv(b, "")
	ctx := context.Background()
	objects := map[string]map[string]any{
		"Kustomization": yamlObject(b, goodKustomization),
		"GitRepository": yamlObject(b, goodGitRepository),
		"Deployment":    fluxApplied(yamlObject(b, literalCredentialDeployment)),
		"Secret":        fluxApplied(yamlObject(b, plaintextSecret)),
	}
	for kind, obj := range objects {
		raw, err := json.Marshal(obj)
		if err != nil {
			b.Fatal(err)
		}
		md, _ := obj["metadata"].(map[string]any)
		labels, _ := md["labels"].(map[string]any)
		src := input.Source{Text: string(raw), Operation: "CREATE", Namespace: "apps", Origin: map[string]any{"producer": "admission", "applied_by": webhook.AppliedBy(labels)}}
		in, err := input.ObjectInput(e.cfg, obj, src, nil)
		if err != nil {
			b.Fatal(err)
		}
		for _, r := range e.engine.Rules() {
			if !r.RunsAt(engine.RunsAdmission) || r.Disabled || (r.Kinds != nil && !slices.Contains(r.Kinds, kind)) {
				continue
			}
			b.Run(kind+"/"+r.ID, func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if _, err := e.engine.EvalRules(ctx, in, []string{r.Package}); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
