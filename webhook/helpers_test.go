package webhook_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	admissionv1 "k8s.io/api/admission/v1"
	authenticationv1 "k8s.io/api/authentication/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"
	sigsyaml "sigs.k8s.io/yaml"

	"github.com/openova-io/ova-lint/linter/config"
	"github.com/openova-io/ova-lint/linter/engine"
	"github.com/openova-io/ova-lint/webhook"
)

// testNamespace is the webhook's own namespace in the tests.
const testNamespace = "ova-lint"

// env is a handler served the way controller-runtime serves it, with the config it was built on.
type env struct {
	cfg     *config.Config
	engine  *engine.Engine
	handler *webhook.Handler
	http    http.Handler
}

// newEnv builds the engine and handler from a config document merged over the defaults ("" for
// the defaults) and extra policy directories.
func newEnv(t testing.TB, cfgYAML string, policyDirs ...string) *env {
	t.Helper()
	cfg, err := config.Default()
	require.NoError(t, err)
	if cfgYAML != "" {
		cfg, err = config.Parse([]byte(cfgYAML))
		require.NoError(t, err)
	}
	eng, err := engine.New(context.Background(), engine.Options{Config: cfg, PolicyDirs: policyDirs})
	require.NoError(t, err)
	h, err := webhook.NewHandler(webhook.Options{Engine: eng, Config: cfg, Namespace: testNamespace})
	require.NoError(t, err)
	return &env{cfg: cfg, engine: eng, handler: h, http: &admission.Webhook{Handler: h}}
}

// request describes one AdmissionReview to send.
type request struct {
	op        admissionv1.Operation
	obj, old  map[string]any
	namespace string // defaults to the object's namespace
	dryRun    bool
	user      string
}

// reviewJSON renders the AdmissionReview the apiserver would send for r, as JSON.
func reviewJSON(t testing.TB, r request) []byte {
	t.Helper()
	subject := r.obj
	if subject == nil {
		subject = r.old
	}
	apiVersion, _ := subject["apiVersion"].(string)
	kind, _ := subject["kind"].(string)
	group, version := "", apiVersion
	if i := strings.Index(apiVersion, "/"); i >= 0 {
		group, version = apiVersion[:i], apiVersion[i+1:]
	}
	md, _ := subject["metadata"].(map[string]any)
	name, _ := md["name"].(string)
	ns := r.namespace
	if ns == "" {
		ns, _ = md["namespace"].(string)
	}
	gvk := metav1.GroupVersionKind{Group: group, Version: version, Kind: kind}
	resource := strings.ToLower(kind) + "s"
	user := r.user
	if user == "" {
		user = "system:serviceaccount:flux-system:kustomize-controller"
	}
	req := &admissionv1.AdmissionRequest{
		UID:                types.UID("705ab4f5-6393-11e8-b7cc-42010a800002"),
		Kind:               gvk,
		Resource:           metav1.GroupVersionResource{Group: group, Version: version, Resource: resource},
		RequestKind:        &gvk,
		RequestResource:    &metav1.GroupVersionResource{Group: group, Version: version, Resource: resource},
		Name:               name,
		Namespace:          ns,
		Operation:          r.op,
		UserInfo:           authenticationv1.UserInfo{Username: user, Groups: []string{"system:serviceaccounts", "system:authenticated"}},
		DryRun:             &r.dryRun,
		Options:            runtime.RawExtension{Raw: []byte(`{"kind":"CreateOptions","apiVersion":"meta.k8s.io/v1"}`)},
		Object:             raw(t, r.obj),
		OldObject:          raw(t, r.old),
		SubResource:        "",
		RequestSubResource: "",
	}
	out, err := json.Marshal(admissionv1.AdmissionReview{
		TypeMeta: metav1.TypeMeta{APIVersion: "admission.k8s.io/v1", Kind: "AdmissionReview"},
		Request:  req,
	})
	require.NoError(t, err)
	return out
}

func raw(t testing.TB, obj map[string]any) runtime.RawExtension {
	t.Helper()
	if obj == nil {
		return runtime.RawExtension{}
	}
	b, err := json.Marshal(obj)
	require.NoError(t, err)
	return runtime.RawExtension{Raw: b}
}

// post sends an AdmissionReview body to h over HTTP and decodes the AdmissionReview it returns.
func post(t testing.TB, h http.Handler, body []byte) *admissionv1.AdmissionResponse {
	t.Helper()
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodPost, "/validate", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	h.ServeHTTP(rec, req)
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	var review admissionv1.AdmissionReview
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &review), rec.Body.String())
	require.Equal(t, "admission.k8s.io/v1", review.APIVersion)
	require.Equal(t, "AdmissionReview", review.Kind)
	require.NotNil(t, review.Response)
	return review.Response
}

func (e *env) send(t testing.TB, r request) *admissionv1.AdmissionResponse {
	t.Helper()
	return post(t, e.http, reviewJSON(t, r))
}

// verdict is what an admission response says about one finding, in the CLI's terms.
type verdict struct {
	Rule, Severity, Message string
}

var warningRe = regexp.MustCompile(`^ova-lint (error|warning|info) ([a-z0-9-]+)(?: at (\S+))?: (.*?)( \(not blocking: the stored object already has it\))?$`)

// verdicts reads the findings an admission response carries: the denial's causes and the warnings.
func verdicts(t testing.TB, resp *admissionv1.AdmissionResponse) []verdict {
	t.Helper()
	var out []verdict
	if !resp.Allowed {
		require.NotNil(t, resp.Result)
		require.NotNil(t, resp.Result.Details, "a denial lists its findings as causes")
		for _, c := range resp.Result.Details.Causes {
			rule, ok := strings.CutPrefix(string(c.Type), webhook.CauseTypePrefix)
			require.True(t, ok, "cause type %q", c.Type)
			out = append(out, verdict{Rule: rule, Severity: config.SeverityError, Message: c.Message})
		}
	}
	for _, w := range resp.Warnings {
		m := warningRe.FindStringSubmatch(w)
		require.NotNil(t, m, "warning %q", w)
		out = append(out, verdict{Rule: m[2], Severity: m[1], Message: m[4]})
	}
	sortVerdicts(out)
	return out
}

func sortVerdicts(vs []verdict) {
	sort.Slice(vs, func(i, j int) bool {
		if vs[i].Rule != vs[j].Rule {
			return vs[i].Rule < vs[j].Rule
		}
		return vs[i].Message < vs[j].Message
	})
}

// withLabels returns a copy of obj with labels added to its metadata.
func withLabels(obj map[string]any, labels map[string]string) map[string]any {
	out := deepCopy(obj)
	md, _ := out["metadata"].(map[string]any)
	if md == nil {
		md = map[string]any{}
		out["metadata"] = md
	}
	l, _ := md["labels"].(map[string]any)
	if l == nil {
		l = map[string]any{}
		md["labels"] = l
	}
	for k, v := range labels {
		l[k] = v
	}
	return out
}

func deepCopy(obj map[string]any) map[string]any {
	b, err := json.Marshal(obj)
	if err != nil {
		panic(err)
	}
	var out map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		panic(err)
	}
	return out
}

// fluxApplied marks obj the way kustomize-controller does when it applies it from Git.
func fluxApplied(obj map[string]any) map[string]any {
	return withLabels(obj, map[string]string{
		webhook.LabelKustomizeName:              "apps",
		"kustomize.toolkit.fluxcd.io/namespace": "flux-system",
	})
}

// yamlObject parses one YAML document into the plain map the apiserver's JSON would give.
func yamlObject(t testing.TB, doc string) map[string]any {
	t.Helper()
	var obj map[string]any
	require.NoError(t, sigsyaml.Unmarshal([]byte(doc), &obj))
	return obj
}
