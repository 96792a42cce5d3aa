package webhook_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	admissionv1 "k8s.io/api/admission/v1"
)

// serve sends body to h and returns the HTTP status and the AdmissionReview it answered.
func serve(t testing.TB, h http.Handler, body []byte, contentType string) (int, admissionv1.AdmissionReview) {
	t.Helper()
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodPost, "/validate", bytes.NewReader(body))
	if body == nil {
		req.Body = http.NoBody // what net/http's server gives a handler for an empty body
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	h.ServeHTTP(rec, req)
	var review admissionv1.AdmissionReview
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &review), rec.Body.String())
	require.NotNil(t, review.Response, rec.Body.String())
	return rec.Code, review
}

// seedBodies are the AdmissionReviews of FuzzAdmissionReview's seed corpus.
func seedBodies(t testing.TB) map[string][]byte {
	t.Helper()
	dir := filepath.Join("testdata", "fuzz", "FuzzAdmissionReview")
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	out := map[string][]byte{}
	for _, e := range entries {
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		require.NoError(t, err)
		lines := strings.Split(strings.TrimSpace(string(data)), "\n")
		require.Len(t, lines, 2, e.Name())
		q, ok := strings.CutPrefix(lines[1], "[]byte(")
		require.True(t, ok, e.Name())
		s, err := strconv.Unquote(strings.TrimSuffix(q, ")"))
		require.NoError(t, err, e.Name())
		out["seed/"+e.Name()] = []byte(s)
	}
	return out
}

// TestServeHTTPMatchesControllerRuntime: the Handler's own HTTP handler answers every review as
// controller-runtime's admission.Webhook over the same Handler does: the same HTTP status, and
// the same AdmissionReview (apiVersion, kind, uid, verdict, status, warnings), or for a body
// that is not a review, an error status with the same code.
func TestServeHTTPMatchesControllerRuntime(t *testing.T) {
	e := newEnv(t, "")
	good := yamlObject(t, goodKustomization)
	bad := yamlObject(t, badKustomization)
	create := string(reviewJSON(t, request{op: admissionv1.Create, obj: bad}))
	update := string(reviewJSON(t, request{op: admissionv1.Update, obj: bad, old: bad}))
	objBad, err := json.Marshal(bad)
	require.NoError(t, err)
	objGood, err := json.Marshal(good)
	require.NoError(t, err)
	req := func(fields string) []byte {
		return []byte(`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{` + fields + `}}`)
	}
	bodies := map[string][]byte{
		"v1beta1 review":                    []byte(strings.Replace(create, `"admission.k8s.io/v1"`, `"admission.k8s.io/v1beta1"`, 1)),
		"no apiVersion and kind":            []byte(strings.Replace(strings.Replace(create, `"apiVersion":"admission.k8s.io/v1",`, "", 1), `"kind":"AdmissionReview",`, "", 1)),
		"kind only":                         []byte(strings.Replace(create, `"apiVersion":"admission.k8s.io/v1",`, "", 1)),
		"apiVersion and kind in caps":       []byte(strings.Replace(strings.Replace(create, `"apiVersion":`, `"APIVERSION":`, 1), `"kind":"AdmissionReview"`, `"Kind":"AdmissionReview"`, 1)),
		"another type named":                []byte(strings.Replace(create, `"kind":"AdmissionReview"`, `"kind":"Pod"`, 1)),
		"three-part apiVersion":             []byte(strings.Replace(create, `"admission.k8s.io/v1"`, `"a/b/c"`, 1)),
		"no request":                        []byte(`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview"}`),
		"null request":                      []byte(`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":null}`),
		"empty object":                      []byte(`{}`),
		"request keys in caps are not read": req(`"UID":"u","Operation":"CREATE","object":` + string(objBad)),
		"repeated object: the last wins":    req(`"uid":"u","operation":"CREATE","kind":{"group":"kustomize.toolkit.fluxcd.io","kind":"Kustomization"},"object":` + string(objGood) + `,"object":` + string(objBad)),
		"null after an object keeps it":     req(`"uid":"u","operation":"CREATE","kind":{"group":"kustomize.toolkit.fluxcd.io","kind":"Kustomization"},"object":` + string(objBad) + `,"object":null`),
		"repeated request merges":           []byte(`{"request":{"uid":"u","operation":"CREATE"},"request":{"kind":{"group":"kustomize.toolkit.fluxcd.io","kind":"Kustomization"},"object":` + string(objBad) + `}}`),
		"dryRun null":                       req(`"uid":"u","dryRun":true,"dryRun":null,"operation":"CREATE","kind":{"group":"kustomize.toolkit.fluxcd.io","kind":"Kustomization"},"object":` + string(objBad)),
		"escaped strings":                   req(`"uid":"\u0075\n","operation":"CR\u0045ATE","kind":{"group":"kustomize.toolkit.fluxcd.io","kind":"Kustomization"},"object":` + string(objBad)),
		"update with a stored object":       []byte(update),
		"uid of the wrong type":             req(`"uid":5`),
		"dryRun of the wrong type":          req(`"dryRun":"yes"`),
		"object not JSON":                   req(`"uid":"u","object":{"a":}`),
		"data after the review":             []byte(create + `x`),
		"white space after the review":      []byte(create + " \n"),
		"truncated":                         []byte(create[:len(create)/2]),
		"not an object":                     []byte(`[1,2]`),
		"nested too deeply":                 req(`"uid":"u","object":` + strings.Repeat("[", 10001) + strings.Repeat("]", 10001)),
		"nested deeply":                     req(`"uid":"u","operation":"DELETE","object":{"a":` + strings.Repeat("[", 9990) + strings.Repeat("]", 9990) + `}`),
		"invalid UTF-8 in the uid":          req("\"uid\":\"a\xffb\""),
	}
	for name, body := range benchReviews(t) {
		bodies["bench/"+name] = body
	}
	for name, body := range seedBodies(t) {
		bodies[name] = body
	}
	for name, body := range bodies {
		t.Run(name, func(t *testing.T) {
			wantCode, want := serve(t, e.http, body, "application/json")
			gotCode, got := serve(t, e.handler, body, "application/json")
			assert.Equal(t, wantCode, gotCode, "HTTP status")
			require.NotNil(t, want.Response.Result)
			require.NotNil(t, got.Response.Result)
			if want.Response.Result.Code == http.StatusBadRequest {
				assert.Equal(t, int32(http.StatusBadRequest), got.Response.Result.Code, "a body that is not a review: %s", got.Response.Result.Message)
				assert.False(t, got.Response.Allowed)
				return
			}
			assert.Equal(t, want, got)
		})
	}
}

// TestServeHTTPRefusals: what is not an AdmissionReview request gets controller-runtime's error
// statuses.
func TestServeHTTPRefusals(t *testing.T) {
	e := newEnv(t, "")
	body := reviewJSON(t, request{op: admissionv1.Create, obj: yamlObject(t, goodKustomization)})
	tests := []struct {
		name        string
		body        []byte
		contentType string
		code        int32
	}{
		{"empty body", nil, "application/json", http.StatusBadRequest},
		{"no content type", body, "", http.StatusBadRequest},
		{"another content type", body, "application/yaml", http.StatusBadRequest},
		{"7 MiB", append(bytes.Repeat([]byte(" "), 7<<20), body...), "application/json", http.StatusRequestEntityTooLarge},
		{"just under 7 MiB", append(bytes.Repeat([]byte(" "), 7<<20-len(body)-1), body...), "application/json", http.StatusOK},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for _, h := range []http.Handler{e.http, e.handler} {
				code, review := serve(t, h, tc.body, tc.contentType)
				assert.Equal(t, http.StatusOK, code)
				require.NotNil(t, review.Response.Result)
				assert.Equal(t, tc.code, review.Response.Result.Code, "%T: %s", h, review.Response.Result.Message)
			}
		})
	}
}

// TestServeHTTPReadsTheDeclaredLength: a body is read to its declared Content-Length; one that
// ends before it (a client gone mid-request) is a 400, never a review of what arrived.
func TestServeHTTPReadsTheDeclaredLength(t *testing.T) {
	e := newEnv(t, "")
	body := reviewJSON(t, request{op: admissionv1.Create, obj: yamlObject(t, goodKustomization)})
	for _, tc := range []struct {
		name     string
		declared int64
		code     int32
	}{
		{"as declared", int64(len(body)), http.StatusOK},
		{"shorter than declared", int64(len(body)) + 10, http.StatusBadRequest},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			req := httptest.NewRequest(http.MethodPost, "/validate", bytes.NewReader(body))
			req.ContentLength = tc.declared
			req.Header.Set("Content-Type", "application/json")
			e.handler.ServeHTTP(rec, req)
			var review admissionv1.AdmissionReview
			require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &review), rec.Body.String())
			require.NotNil(t, review.Response)
			require.NotNil(t, review.Response.Result)
			assert.Equal(t, tc.code, review.Response.Result.Code, review.Response.Result.Message)
		})
	}
}

// FuzzReviewDecoding: any body that controller-runtime's handler decodes and reviews gets the same
// answer from the Handler's own HTTP handler; a body it refuses as not a review is refused too,
// unless the difference is only in a field the review does not read (checked to be JSON only).
func FuzzReviewDecoding(f *testing.F) {
	e := newEnv(f, "")
	for _, body := range seedBodies(f) {
		f.Add(body)
	}
	f.Add([]byte(`{"request":{"uid":"u","operation":"CREATE","object":{"kind":"Secret"}},"request":null}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		if !bytes.HasPrefix(bytes.TrimLeft(body, " \t\r\n"), []byte("{")) {
			return // the server's guard refuses it before either handler (and controller-runtime reads YAML)
		}
		_, want := serve(t, e.http, body, "application/json")
		_, got := serve(t, e.handler, body, "application/json")
		if want.Response.Result != nil && want.Response.Result.Code == http.StatusBadRequest {
			return // refused by controller-runtime: the Handler refuses it too, or reads none of what differs
		}
		if got.Response.Result != nil && got.Response.Result.Code == http.StatusBadRequest {
			t.Fatalf("controller-runtime reviewed the body, the Handler refused it: %s", got.Response.Result.Message)
		}
		assert.Equal(t, want, got)
	})
}
