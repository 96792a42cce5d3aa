package server

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	admissionv1 "k8s.io/api/admission/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"
)

// allowAll is the cheapest admission handler: the fuzz target is about what comes before it.
type allowAll struct{}

func (allowAll) Handle(context.Context, admission.Request) admission.Response {
	return admission.Allowed("")
}

// FuzzGuard: any body, with its length announced or not, through what the webhook listener
// serves (the guard in front of controller-runtime's admission handler), with a small body limit
// so the fuzzer reaches it. The answer is HTTP 200 with an AdmissionReview response, or a 4xx
// with a Kubernetes Status of the same code; never a panic, never a 5xx. hack/fuzz.sh fuzzes it.
func FuzzGuard(f *testing.F) {
	f.Add([]byte(`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"u","operation":"CREATE","object":{}}}`), false)
	f.Add([]byte(`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"u","operation":"CREATE","object":{}}}`), true)
	f.Add([]byte("  \n{\"request\":{}}"), true)
	f.Add([]byte("request:\n  uid: x\n"), false)
	f.Add(bytes.Repeat([]byte("{"), 300), true)
	f.Add([]byte(""), false)
	s := &Server{opts: Options{MaxRequestBytes: 256}, budget: newBudget(1 << 20), log: slog.New(slog.DiscardHandler)}
	h := s.guard(&admission.Webhook{Handler: allowAll{}})
	f.Fuzz(func(t *testing.T, body []byte, chunked bool) {
		var r io.Reader = bytes.NewReader(body)
		if chunked {
			r = io.MultiReader(r)
		}
		req := httptest.NewRequest(http.MethodPost, "/validate", r)
		if chunked {
			req.ContentLength = -1
		}
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		switch {
		case rec.Code == http.StatusOK:
			var review admissionv1.AdmissionReview
			if err := json.Unmarshal(rec.Body.Bytes(), &review); err != nil || review.Response == nil {
				t.Fatalf("HTTP 200 without an AdmissionReview response (%v): %s", err, rec.Body.String())
			}
			if len(body) > 256 && review.Response.Allowed {
				t.Fatalf("a body of %d bytes over the limit of 256 was admitted", len(body))
			}
		case rec.Code >= 400 && rec.Code < 500:
			var st metav1.Status
			if err := json.Unmarshal(rec.Body.Bytes(), &st); err != nil || st.Kind != "Status" || int(st.Code) != rec.Code || st.Message == "" {
				t.Fatalf("HTTP %d without a matching Status (%v): %s", rec.Code, err, rec.Body.String())
			}
			if rec.Code == http.StatusRequestEntityTooLarge && len(body) <= 256 {
				t.Fatalf("a body of %d bytes refused as too large", len(body))
			}
		default:
			t.Fatalf("HTTP %d: %s", rec.Code, rec.Body.String())
		}
	})
}
