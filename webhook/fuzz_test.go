package webhook_test

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	admissionv1 "k8s.io/api/admission/v1"
	admissionv1beta1 "k8s.io/api/admission/v1beta1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/apimachinery/pkg/types"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/openova-io/ova-lint/webhook"
)

// The fuzz targets run their seed corpora (testdata/fuzz/FuzzXxx) with every go test; hack/fuzz.sh
// fuzzes them (make test: 5 s each). The seeds are the AdmissionReviews of the handler tests,
// written by: go test ./webhook -run TestFuzzSeedCorpus -update-corpus
var updateCorpus = flag.Bool("update-corpus", false, "rewrite the seed corpora under testdata/fuzz")

// slowReview is how long one small fuzz input may take before it counts as a hang (the
// handler's own evaluation timeout is 4 s).
const slowReview = 5 * time.Second

// FuzzAdmissionReview: any request body through controller-runtime's admission HTTP handler (the
// path `ova-lint serve` serves) gets HTTP 200 with a well-formed AdmissionReview response, never a
// panic: a decision answering the request's uid, or an error status with a 4xx/5xx code.
func FuzzAdmissionReview(f *testing.F) {
	e := newEnv(f, "")
	f.Fuzz(func(t *testing.T, body []byte) {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest(http.MethodPost, "/validate", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		start := time.Now()
		e.http.ServeHTTP(rec, req)
		if d := time.Since(start); d > slowReview {
			t.Fatalf("review took %v on %d bytes", d, len(body))
		}
		if rec.Code != http.StatusOK {
			t.Fatalf("HTTP %d: %s", rec.Code, rec.Body.String())
		}
		var out admissionv1.AdmissionReview
		if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
			t.Fatalf("response is not an AdmissionReview: %v: %s", err, rec.Body.String())
		}
		if out.Response == nil {
			t.Fatalf("AdmissionReview without a response: %s", rec.Body.String())
		}
		// When the body decodes as controller-runtime decodes it, the handler ran: the response
		// names its type and answers the request's uid. Otherwise it is an error status.
		var in unversionedReview
		in.SetGroupVersionKind(admissionv1.SchemeGroupVersion.WithKind("AdmissionReview"))
		_, gvk, err := reviewCodec.Decode(body, nil, &in)
		decided := err == nil
		if decided {
			// The apiserver's AdmissionReview version is answered in kind (a body naming some
			// other type gets it echoed: controller-runtime's choice, harmless for non-apiserver
			// clients).
			if gvk.Group == "admission.k8s.io" && gvk.Kind == "AdmissionReview" && (out.APIVersion != gvk.GroupVersion().String() || out.Kind != gvk.Kind) {
				t.Fatalf("a %s review is answered as %q %q", gvk, out.APIVersion, out.Kind)
			}
			if in.Request != nil && in.Request.UID != out.Response.UID {
				t.Fatalf("response uid %q answers request uid %q", out.Response.UID, in.Request.UID)
			}
		} else if out.Response.Allowed || out.Response.Result == nil || out.Response.Result.Code != http.StatusBadRequest {
			t.Fatalf("an undecodable body gets a 400 status: %s", rec.Body.String())
		}
		checkResponse(t, out.Response, decided)
	})
}

// FuzzAdmissionObject: the object (and, for an UPDATE, the stored object) of a well-formed
// AdmissionReview holds arbitrary bytes; the handler decides on it (allowed, denied with causes,
// warned) or answers an error status, and never panics or quotes the object in an error.
func FuzzAdmissionObject(f *testing.F) {
	e := newEnv(f, "")
	kinds := []struct{ group, kind string }{
		{"kustomize.toolkit.fluxcd.io", "Kustomization"},
		{"source.toolkit.fluxcd.io", "GitRepository"},
		{"helm.toolkit.fluxcd.io", "HelmRelease"},
		{"", "Secret"},
		{"apps", "Deployment"},
	}
	ops := []admissionv1.Operation{admissionv1.Create, admissionv1.Update, admissionv1.Delete, admissionv1.Connect}
	f.Fuzz(func(t *testing.T, object, old []byte, op byte) {
		k := kinds[int(op>>2)%len(kinds)]
		req := admission.Request{AdmissionRequest: admissionv1.AdmissionRequest{
			UID: types.UID("fuzz"), Operation: ops[int(op)%len(ops)], Namespace: "apps", Name: "fuzz",
		}}
		req.Kind.Group, req.Kind.Version, req.Kind.Kind = k.group, "v1", k.kind
		req.Object.Raw, req.OldObject.Raw = object, old
		start := time.Now()
		resp := e.handler.Handle(context.Background(), req)
		if d := time.Since(start); d > slowReview {
			t.Fatalf("review took %v on %d+%d bytes", d, len(object), len(old))
		}
		checkResponse(t, &resp.AdmissionResponse, true)
		if resp.Result != nil && resp.Result.Code == http.StatusInternalServerError {
			// An error names where the object failed to decode, never what it holds.
			msg := resp.Result.Message
			if !decodeError.MatchString(msg) {
				msg = strings.TrimPrefix(msg, "evaluate policies: ")
				if msg == resp.Result.Message {
					t.Fatalf("unexpected error: %s", msg)
				}
				for _, raw := range [][]byte{object, old} {
					if s := longestQuoted(msg, raw); len(s) >= 8 {
						t.Fatalf("error message quotes %q of the object: %s", s, resp.Result.Message)
					}
				}
			}
		}
	})
}

// decodeError is the message of an object that does not decode: where, never what.
var decodeError = regexp.MustCompile(`^decode (the stored )?[A-Za-z]+ apps/fuzz: (object is not valid JSON \(byte \d+\)|object is not a JSON object|the request carries no object)$`)

// reviewCodec decodes an AdmissionReview as controller-runtime's handler does (v1 and v1beta1).
var reviewCodec = func() runtime.Decoder {
	scheme := runtime.NewScheme()
	utilruntime.Must(admissionv1.AddToScheme(scheme))
	utilruntime.Must(admissionv1beta1.AddToScheme(scheme))
	return serializer.NewCodecFactory(scheme).UniversalDeserializer()
}()

// unversionedReview is not registered in reviewCodec's scheme, so a v1 or v1beta1 review
// decodes into it as it does into controller-runtime's unversionedAdmissionReview.
type unversionedReview struct {
	admissionv1.AdmissionReview
}

// checkResponse asserts the shape every admission response of the webhook has. decided says the
// handler ran (not a decode error of the envelope).
func checkResponse(t *testing.T, r *admissionv1.AdmissionResponse, decided bool) {
	t.Helper()
	if r.Allowed {
		if r.Result != nil && r.Result.Code != 0 && r.Result.Code != http.StatusOK {
			t.Fatalf("allowed with status %d: %s", r.Result.Code, r.Result.Message)
		}
		for _, w := range r.Warnings {
			if !strings.HasPrefix(w, "ova-lint ") {
				t.Fatalf("warning not from ova-lint: %q", w)
			}
		}
		return
	}
	if r.Result == nil || r.Result.Message == "" {
		t.Fatalf("denied without a status message: %+v", r)
	}
	switch code := r.Result.Code; {
	case code == http.StatusForbidden:
		if !decided {
			t.Fatalf("a policy denial without a request uid: %+v", r.Result)
		}
		if !strings.HasPrefix(r.Result.Message, "ova-lint rejected ") {
			t.Fatalf("denial message: %q", r.Result.Message)
		}
		if r.Result.Details == nil || len(r.Result.Details.Causes) == 0 {
			t.Fatalf("a denial lists its findings as causes: %+v", r.Result)
		}
		for _, c := range r.Result.Details.Causes {
			if !strings.HasPrefix(string(c.Type), webhook.CauseTypePrefix) || c.Message == "" {
				t.Fatalf("cause %+v", c)
			}
		}
	case code >= 400 && code < 600:
	default:
		t.Fatalf("denied with status %d: %s", code, r.Result.Message)
	}
}

// longestQuoted is the longest run of raw that msg contains (only runs of at least 8 bytes are
// looked for; quadratic, for small fuzz inputs).
func longestQuoted(msg string, raw []byte) string {
	best := ""
	for i := 0; i+8 <= len(raw); i++ {
		for j := i + len(best) + 1; j <= len(raw) && j-i <= 64; j++ {
			if j-i < 8 {
				continue
			}
			if !strings.Contains(msg, string(raw[i:j])) {
				break
			}
			best = string(raw[i:j])
		}
	}
	return best
}

// objectSeed is one FuzzAdmissionObject input.
type objectSeed struct {
	object, old []byte
	op          byte
}

// fuzzObjectSeeds are the objects of the handler tests (op: 0 CREATE, 1 UPDATE, 4 picks the next
// kind; see FuzzAdmissionObject).
func fuzzObjectSeeds(t testing.TB) []objectSeed {
	js := func(obj map[string]any) []byte {
		b, err := json.Marshal(obj)
		require.NoError(t, err)
		return b
	}
	good, bad := yamlObject(t, goodKustomization), yamlObject(t, badKustomization)
	return []objectSeed{
		{js(good), nil, 0},
		{js(bad), nil, 0},
		{js(bad), js(bad), 1},
		{js(set(bad, false, "spec", "wait")), js(bad), 1},
		{js(yamlObject(t, goodGitRepository)), nil, 1 << 2},
		{js(set(bad, map[string]any{"ova-lint.openova.io/waive": "kustomization-prune; reason=r; until=2026-12-31"}, "metadata", "annotations")), nil, 0},
		{js(fluxApplied(yamlObject(t, plaintextSecret))), nil, 3 << 2},
		{js(fluxApplied(yamlObject(t, literalCredentialDeployment))), nil, 4 << 2},
		{[]byte(`{"metadata":{"managedFields":[{}],"labels":{"kustomize.toolkit.fluxcd.io/name":"x"}},"data":{"k":"ENC[AES256_GCM,data:Zm9v,iv:aXY=,tag:dGFn,type:str]"}}`), nil, 3 << 2},
	}
}

// fuzzReviewSeeds are the AdmissionReview bodies of the handler tests, by seed file name.
func fuzzReviewSeeds(t testing.TB) map[string][]byte {
	good, bad := yamlObject(t, goodKustomization), yamlObject(t, badKustomization)
	secret := yamlObject(t, plaintextSecret)
	owner := []any{map[string]any{"apiVersion": "external-secrets.io/v1", "kind": "ExternalSecret", "name": "db", "uid": "0b9b8a43-2a65-4d6c-9a55-1f1c2c3d4e5f", "controller": true}}
	seeds := map[string][]byte{
		"kustomization-allowed":     reviewJSON(t, request{op: admissionv1.Create, obj: good}),
		"kustomization-denied":      reviewJSON(t, request{op: admissionv1.Create, obj: bad}),
		"kustomization-dry-run":     reviewJSON(t, request{op: admissionv1.Create, obj: bad, dryRun: true}),
		"kustomization-update":      reviewJSON(t, request{op: admissionv1.Update, obj: set(bad, false, "spec", "wait"), old: bad}),
		"kustomization-delete":      reviewJSON(t, request{op: admissionv1.Delete, old: bad}),
		"kustomization-kube-system": reviewJSON(t, request{op: admissionv1.Create, obj: set(bad, "kube-system", "metadata", "namespace")}),
		"kustomization-warned":      reviewJSON(t, request{op: admissionv1.Create, obj: set(good, "5m", "spec", "interval")}),
		"kustomization-waiver":      reviewJSON(t, request{op: admissionv1.Create, obj: set(bad, map[string]any{"ova-lint.openova.io/waive": "kustomization-prune; reason=migration; until=2026-12-31"}, "metadata", "annotations")}),
		"gitrepository-allowed":     reviewJSON(t, request{op: admissionv1.Create, obj: yamlObject(t, goodGitRepository)}),
		"gitrepository-github":      reviewJSON(t, request{op: admissionv1.Create, user: "alice@acme.example", obj: set(yamlObject(t, goodGitRepository), "https://github.com/acme/platform.git", "spec", "url")}),
		"secret-flux-applied":       reviewJSON(t, request{op: admissionv1.Create, obj: fluxApplied(secret)}),
		"secret-eso-owned":          reviewJSON(t, request{op: admissionv1.Create, obj: set(fluxApplied(secret), owner, "metadata", "ownerReferences")}),
		"secret-helm-release":       reviewJSON(t, request{op: admissionv1.Create, obj: set(fluxApplied(secret), "helm.sh/release.v1", "type")}),
		"deployment-literal":        reviewJSON(t, request{op: admissionv1.Create, obj: fluxApplied(yamlObject(t, literalCredentialDeployment))}),
		"kustomization-sops-value":  reviewJSON(t, request{op: admissionv1.Create, obj: set(good, map[string]any{"password": "ENC[AES256_GCM,data:Zm9v,iv:aXY=,tag:dGFn,type:str]"}, "spec", "postBuild", "substitute")}),
	}
	// the v1beta1 AdmissionReview an older webhook configuration asks for
	seeds["kustomization-v1beta1"] = bytes.Replace(seeds["kustomization-denied"], []byte(`"apiVersion":"admission.k8s.io/v1"`), []byte(`"apiVersion":"admission.k8s.io/v1beta1"`), 1)
	return seeds
}

// corpusFile is a seed in the go test fuzz v1 encoding.
func corpusFile(args ...any) []byte {
	var b bytes.Buffer
	b.WriteString("go test fuzz v1\n")
	for _, a := range args {
		switch v := a.(type) {
		case []byte:
			fmt.Fprintf(&b, "[]byte(%q)\n", v)
		case byte:
			fmt.Fprintf(&b, "byte(%q)\n", v)
		default:
			panic(fmt.Sprintf("corpusFile: %T", a))
		}
	}
	return b.Bytes()
}

// TestFuzzSeedCorpus: the committed seed corpus of FuzzAdmissionReview is the handler tests'
// AdmissionReviews (and FuzzAdmissionObject's their objects); -update-corpus rewrites it.
func TestFuzzSeedCorpus(t *testing.T) {
	want := map[string][]byte{}
	for name, body := range fuzzReviewSeeds(t) {
		want[filepath.Join("FuzzAdmissionReview", "seed-"+name)] = corpusFile(body)
	}
	for i, s := range fuzzObjectSeeds(t) {
		want[filepath.Join("FuzzAdmissionObject", fmt.Sprintf("seed-%02d", i))] = corpusFile(s.object, s.old, s.op)
	}
	root := filepath.Join("testdata", "fuzz")
	var names []string
	for name := range want {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		path := filepath.Join(root, name)
		if *updateCorpus {
			require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
			require.NoError(t, os.WriteFile(path, want[name], 0o644))
			continue
		}
		got, err := os.ReadFile(path)
		require.NoError(t, err, "run go test ./webhook -run TestFuzzSeedCorpus -update-corpus")
		assert.Equal(t, string(want[name]), string(got), "%s is stale: go test ./webhook -run TestFuzzSeedCorpus -update-corpus", path)
	}
}
