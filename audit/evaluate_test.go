package audit

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	admissionv1 "k8s.io/api/admission/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/openova-io/ova-lint/fixtures"
	"github.com/openova-io/ova-lint/linter/config"
	"github.com/openova-io/ova-lint/linter/engine"
	"github.com/openova-io/ova-lint/linter/input"
	"github.com/openova-io/ova-lint/linter/loader"
	"github.com/openova-io/ova-lint/webhook"
)

// testEnv is the engine, configuration and scrubber of the default profile.
type testEnv struct {
	cfg      *config.Config
	engine   *engine.Engine
	scrubber *Scrubber
	ev       *evaluator
}

func newTestEnv(t *testing.T, cfg *config.Config) *testEnv {
	t.Helper()
	ctx := context.Background()
	if cfg == nil {
		var err error
		cfg, err = config.Default()
		require.NoError(t, err)
	}
	eng, err := engine.New(ctx, engine.Options{Config: cfg})
	require.NoError(t, err)
	s, err := NewScrubber(ctx, cfg)
	require.NoError(t, err)
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	return &testEnv{cfg: cfg, engine: eng, scrubber: s, ev: &evaluator{
		engine: eng, cfg: cfg, exempt: map[string]bool{webhook.KubeSystem: true}, cluster: "cluster", now: now,
	}}
}

// verdictKey is one finding in the terms both doors share.
type verdictKey struct{ Rule, Severity, Kind, Namespace, Name, Path, Message string }

// auditVerdict is what the audit says about obj: scrubbed first, as Run does.
func (e *testEnv) auditVerdict(t *testing.T, obj map[string]any) (bool, []verdictKey) {
	t.Helper()
	ctx := context.Background()
	obj = deepCopy(t, obj)
	require.NoError(t, e.scrubber.Scrub(ctx, obj))
	text, err := objectText(obj)
	require.NoError(t, err)
	v, err := e.ev.evaluate(ctx, obj, text)
	require.NoError(t, err)
	var out []verdictKey
	for _, f := range v.findings {
		out = append(out, verdictKey{f.Rule, f.Severity, f.Kind, f.Namespace, f.Name, f.Path, f.Message})
	}
	return v.checked, sortVerdicts(out)
}

// webhookVerdict is what the admission webhook says about obj on CREATE, values included.
func (e *testEnv) webhookVerdict(t *testing.T, obj map[string]any) (bool, []verdictKey) {
	t.Helper()
	h, err := webhook.NewHandler(webhook.Options{Engine: e.engine, Config: e.cfg, Now: func() time.Time { return e.ev.now }})
	require.NoError(t, err)
	raw, err := json.Marshal(obj)
	require.NoError(t, err)
	apiVersion, _ := obj["apiVersion"].(string)
	group, version, ok := strings.Cut(apiVersion, "/")
	if !ok {
		group, version = "", apiVersion
	}
	kind, ns, name := input.Identity(obj)
	d, err := h.Review(context.Background(), admission.Request{AdmissionRequest: admissionv1.AdmissionRequest{
		UID:       "parity",
		Kind:      metav1.GroupVersionKind{Group: group, Version: version, Kind: kind},
		Namespace: ns, Name: name,
		Operation: admissionv1.Create,
		Object:    runtime.RawExtension{Raw: raw},
	}})
	require.NoError(t, err)
	var out []verdictKey
	for _, fs := range [][]webhook.Finding{d.Denials, d.Warnings, d.Infos} {
		for _, f := range fs {
			out = append(out, verdictKey{f.Rule, f.Severity, f.Kind, f.Namespace, f.Name, f.Field, f.Message})
		}
	}
	return d.Checked, sortVerdicts(out)
}

func sortVerdicts(ks []verdictKey) []verdictKey {
	sort.Slice(ks, func(i, j int) bool { return fmt.Sprint(ks[i]) < fmt.Sprint(ks[j]) })
	return ks
}

func deepCopy(t *testing.T, obj map[string]any) map[string]any {
	t.Helper()
	raw, err := json.Marshal(obj)
	require.NoError(t, err)
	var out map[string]any
	require.NoError(t, json.Unmarshal(raw, &out))
	return out
}

// fluxApplied returns obj with kustomize-controller's labels (or helm-controller's), as an
// object Flux applied from Git carries them, and a namespace when it has none.
func fluxApplied(obj map[string]any, label string) map[string]any {
	md, _ := obj["metadata"].(map[string]any)
	if md == nil {
		md = map[string]any{}
		obj["metadata"] = md
	}
	labels, _ := md["labels"].(map[string]any)
	if labels == nil {
		labels = map[string]any{}
		md["labels"] = labels
	}
	labels[label] = "apps"
	return obj
}

// fixtureObjects are the Kubernetes objects of every rule fixture case.
func fixtureObjects(t *testing.T) map[string]map[string]any {
	t.Helper()
	cases, err := fixtures.Cases("../fixtures/rules")
	require.NoError(t, err)
	out := map[string]map[string]any{}
	for _, c := range cases {
		walked, err := loader.Walk(context.Background(), []string{c.Dir}, nil)
		require.NoError(t, err)
		for _, f := range walked.Files {
			data, err := os.ReadFile(f.OSPath)
			require.NoError(t, err)
			docs, _ := loader.Parse(data, loader.DefaultLimits())
			for _, doc := range docs {
				obj, ok := doc.Object.(map[string]any)
				kind, _, name := input.Identity(doc.Object)
				if !ok || kind == "" || name == "" || obj["apiVersion"] == nil {
					continue
				}
				rel, _ := filepath.Rel(c.Dir, f.OSPath)
				out[fmt.Sprintf("%s/%s/%s#%d", c.Rule, c.Name, rel, doc.Index)] = deepCopy(t, obj)
			}
		}
	}
	require.NotEmpty(t, out)
	return out
}

// TestWebhookParity: every object of the rule fixtures, as applied by kustomize-controller and
// by helm-controller, gets the same verdict from the audit (its values scrubbed) as from the
// admission webhook (its values intact): the same scope decision and the same findings, with
// the same field paths and messages.
func TestWebhookParity(t *testing.T) {
	e := newTestEnv(t, nil)
	objects := fixtureObjects(t)
	secrets := 0
	for name, obj := range objects {
		for _, label := range []string{"", webhook.LabelKustomizeName, webhook.LabelHelmName} {
			o := deepCopy(t, obj)
			if label != "" {
				o = fluxApplied(o, label)
			}
			if IsSecret(o) {
				secrets++
			}
			t.Run(name+"/"+label, func(t *testing.T) {
				wChecked, want := e.webhookVerdict(t, o)
				aChecked, got := e.auditVerdict(t, o)
				assert.Equal(t, wChecked, aChecked, "checked")
				assert.Equal(t, want, got)
			})
		}
	}
	assert.Positive(t, secrets, "the fixtures hold Secrets: the scrubbed verdicts are compared")
}
