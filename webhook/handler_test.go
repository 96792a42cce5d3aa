package webhook_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	admissionv1 "k8s.io/api/admission/v1"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/openova-io/ova-lint/linter/engine"
	"github.com/openova-io/ova-lint/linter/input"
	"github.com/openova-io/ova-lint/webhook"
)

const goodKustomization = `
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {name: apps, namespace: flux-system}
spec:
  interval: 10m
  path: ./apps
  prune: true
  wait: true
  sourceRef: {kind: GitRepository, name: platform}
  healthChecks:
    - {apiVersion: apps/v1, kind: Deployment, name: api, namespace: apps}
`

const badKustomization = `
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {name: apps, namespace: flux-system}
spec:
  interval: 10m
  path: ./apps
  prune: false
  wait: true
  sourceRef: {kind: GitRepository, name: platform}
  healthChecks:
    - {apiVersion: apps/v1, kind: Deployment, name: api, namespace: apps}
`

const goodGitRepository = `
apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata: {name: platform, namespace: flux-system}
spec:
  interval: 1m
  url: https://gitea.fsn1.acme.example/platform/platform.git
  ref: {branch: main}
  secretRef: {name: gitea-token}
`

const plaintextSecret = `
apiVersion: v1
kind: Secret
metadata: {name: db, namespace: apps}
type: Opaque
data: {password: aHVudGVyMi1saXRlcmFs}
`

const literalCredentialDeployment = `
apiVersion: apps/v1
kind: Deployment
metadata: {name: api, namespace: apps}
spec:
  selector: {matchLabels: {app: api}}
  template:
    metadata: {labels: {app: api}}
    spec:
      containers:
        - name: api
          image: ghcr.io/acme/api:1.0.0
          env:
            - {name: DB_PASSWORD, value: hunter2-literal}
`

func set(obj map[string]any, value any, path ...string) map[string]any {
	out := deepCopy(obj)
	m := out
	for _, p := range path[:len(path)-1] {
		next, _ := m[p].(map[string]any)
		if next == nil {
			next = map[string]any{}
			m[p] = next
		}
		m = next
	}
	if value == nil {
		delete(m, path[len(path)-1])
	} else {
		m[path[len(path)-1]] = value
	}
	return out
}

// TestHandler replays AdmissionReview JSON through controller-runtime's admission HTTP handler.
func TestHandler(t *testing.T) {
	e := newEnv(t, "")
	good := yamlObject(t, goodKustomization)
	bad := yamlObject(t, badKustomization)
	secret := yamlObject(t, plaintextSecret)
	owner := []any{map[string]any{"apiVersion": "external-secrets.io/v1", "kind": "ExternalSecret", "name": "db", "uid": "0b9b8a43-2a65-4d6c-9a55-1f1c2c3d4e5f", "controller": true, "blockOwnerDeletion": true}}

	tests := []struct {
		name    string
		req     request
		allowed bool
		// rules are the rule ids expected in the response (denial causes and warnings), sorted.
		rules []string
		// contains are substrings of the denial message.
		contains []string
		warning  string
	}{
		{name: "good Kustomization is admitted", req: request{op: admissionv1.Create, obj: good}, allowed: true},
		{
			name: "bad Kustomization is denied naming rule, object and fix", req: request{op: admissionv1.Create, obj: bad},
			rules:    []string{"kustomization-prune"},
			contains: []string{"ova-lint rejected Kustomization flux-system/apps", "error kustomization-prune at spec.prune", "fix: set spec.prune: true"},
		},
		{name: "dry-run requests are checked", req: request{op: admissionv1.Create, obj: bad, dryRun: true}, rules: []string{"kustomization-prune"}},
		{name: "UPDATE introducing an error is denied", req: request{op: admissionv1.Update, obj: bad, old: good}, rules: []string{"kustomization-prune"}},
		{name: "DELETE is never blocked", req: request{op: admissionv1.Delete, old: bad}, allowed: true},
		{name: "kube-system is exempt", req: request{op: admissionv1.Create, obj: set(bad, "kube-system", "metadata", "namespace")}, allowed: true},
		{name: "own namespace is exempt", req: request{op: admissionv1.Create, obj: set(bad, testNamespace, "metadata", "namespace")}, allowed: true},
		{
			name: "warning finding is an admission warning", req: request{op: admissionv1.Create, obj: set(good, "5m", "spec", "interval")},
			allowed: true, rules: []string{"sync-interval"}, warning: "ova-lint warning sync-interval at spec.interval: Kustomization apps reconciles every 5m",
		},
		{
			name: "several errors are listed one per line", req: request{op: admissionv1.Create, obj: set(set(bad, nil, "spec", "wait"), "5m", "spec", "interval")},
			rules:    []string{"kustomization-prune", "kustomization-wait", "sync-interval"},
			contains: []string{"(2 errors):\n- error kustomization-prune at spec.prune", "\n- error kustomization-wait at spec: "},
		},
		{
			name: "Flux CRs are checked whoever writes them", req: request{op: admissionv1.Create, user: "alice@acme.example",
				obj: set(yamlObject(t, goodGitRepository), "https://github.com/acme/platform.git", "spec", "url")},
			rules: []string{"gitea-url"}, contains: []string{"GitRepository flux-system/platform", "gitea-url"},
		},
		{name: "good GitRepository is admitted", req: request{op: admissionv1.Create, obj: yamlObject(t, goodGitRepository)}, allowed: true},
		{
			name: "plaintext Secret applied by Flux is denied", req: request{op: admissionv1.Create, obj: fluxApplied(secret)},
			rules: []string{"plaintext-secret"}, contains: []string{"Secret apps/db", "keys: password", "ExternalSecret"},
		},
		{
			name: "Secret applied by helm-controller is admitted by plaintext-secret (values may be generated in the cluster)", req: request{op: admissionv1.Create,
				obj: withLabels(secret, map[string]string{webhook.LabelHelmName: "db", "helm.toolkit.fluxcd.io/namespace": "apps"})},
			allowed: true,
		},
		{
			name: "a helm-controller label on a Secret kustomize-controller applies exempts nothing", req: request{op: admissionv1.Create,
				obj: withLabels(fluxApplied(secret), map[string]string{webhook.LabelHelmName: "db"})},
			rules: []string{"plaintext-secret"},
		},
		{name: "Secret not applied by Flux is not guarded", req: request{op: admissionv1.Create, obj: secret}, allowed: true},
		{name: "ESO-owned Secret is admitted", req: request{op: admissionv1.Create, obj: set(fluxApplied(secret), owner, "metadata", "ownerReferences")}, allowed: true},
		{name: "Helm release storage Secret is admitted", req: request{op: admissionv1.Create, obj: set(set(fluxApplied(secret), "helm.sh/release.v1", "type"), "sh.helm.release.v1.api.v1", "metadata", "name")}, allowed: true},
		{name: "service-account token Secret is admitted", req: request{op: admissionv1.Create, obj: set(fluxApplied(secret), "kubernetes.io/service-account-token", "type")}, allowed: true},
		{
			name: "cert-manager Secret is admitted", req: request{op: admissionv1.Create,
				obj: set(set(secret, "kubernetes.io/tls", "type"), map[string]any{"cert-manager.io/certificate-name": "api"}, "metadata", "annotations")},
			allowed: true,
		},
		{
			name: "cert-manager annotation does not exempt a Secret from Git", req: request{op: admissionv1.Create,
				obj: set(fluxApplied(secret), map[string]any{"cert-manager.io/certificate-name": "api"}, "metadata", "annotations")},
			rules: []string{"plaintext-secret"},
		},
		{
			name: "literal credential in a Flux-applied Deployment is denied", req: request{op: admissionv1.Create, obj: fluxApplied(yamlObject(t, literalCredentialDeployment))},
			rules: []string{"literal-credential"}, contains: []string{"spec.template.spec.containers[0].env[0].value", "DB_PASSWORD"},
		},
		{
			name: "a SOPS-encrypted value without a sops block is denied (the object's JSON is the rule's text)", req: request{op: admissionv1.Create,
				obj: set(yamlObject(t, goodKustomization), map[string]any{"password": "ENC[AES256_GCM,data:Zm9v,iv:aXY=,tag:dGFn,type:str]"}, "spec", "postBuild", "substitute")},
			rules: []string{"no-sops"}, contains: []string{"error no-sops at spec.postBuild.substitute.password"},
		},
		{name: "object not applied by Flux is not guarded", req: request{op: admissionv1.Create, obj: yamlObject(t, literalCredentialDeployment)}, allowed: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp := e.send(t, tc.req)
			assert.Equal(t, "705ab4f5-6393-11e8-b7cc-42010a800002", string(resp.UID), "the response answers the request's uid")
			var got []string
			for _, v := range verdicts(t, resp) {
				got = append(got, v.Rule)
			}
			assert.Equal(t, tc.rules, got)
			if tc.allowed {
				assert.True(t, resp.Allowed, "expected allowed, got %v", resp.Result)
			} else {
				require.False(t, resp.Allowed)
				assert.Equal(t, int32(http.StatusForbidden), resp.Result.Code)
				for _, c := range tc.contains {
					assert.Contains(t, resp.Result.Message, c)
				}
			}
			if tc.warning != "" {
				require.NotEmpty(t, resp.Warnings)
				assert.Contains(t, resp.Warnings[0], tc.warning)
			}
			body, err := json.Marshal(resp)
			require.NoError(t, err)
			for _, secret := range []string{"hunter2-literal", "aHVudGVyMi1saXRlcmFs"} {
				assert.NotContains(t, string(body), secret, "no secret value in a response")
			}
		})
	}
}

// TestUpdateRatchet: an UPDATE is not blocked for an error the stored object already had.
func TestUpdateRatchet(t *testing.T) {
	e := newEnv(t, "")
	bad := yamlObject(t, badKustomization)
	annotated := set(bad, map[string]any{"reconcile.fluxcd.io/requestedAt": "2026-11-25T10:00:00Z"}, "metadata", "annotations")

	resp := e.send(t, request{op: admissionv1.Update, obj: annotated, old: bad})
	require.True(t, resp.Allowed, "a reconcile annotation on a pre-existing bad object is not blocked: %v", resp.Result)
	require.Len(t, resp.Warnings, 1)
	assert.Contains(t, resp.Warnings[0], "kustomization-prune")
	assert.Contains(t, resp.Warnings[0], "not blocking: the stored object already has it")

	// a different violation of the same rule is new
	resp = e.send(t, request{op: admissionv1.Update, obj: set(bad, nil, "spec", "prune"), old: bad})
	require.False(t, resp.Allowed)
	assert.Contains(t, resp.Result.Message, "spec.prune is unset")

	// a new rule broken on top of an old one: only the new one blocks, the old one warns
	resp = e.send(t, request{op: admissionv1.Update, obj: set(annotated, false, "spec", "wait"), old: bad})
	require.False(t, resp.Allowed)
	var rules []string
	for _, c := range resp.Result.Details.Causes {
		rules = append(rules, string(c.Type))
	}
	assert.Equal(t, []string{"ova-lint/kustomization-wait"}, rules)
	require.Len(t, resp.Warnings, 1)
	assert.Contains(t, resp.Warnings[0], "kustomization-prune")
}

func TestDenialCauses(t *testing.T) {
	e := newEnv(t, "")
	resp := e.send(t, request{op: admissionv1.Create, obj: yamlObject(t, badKustomization)})
	require.False(t, resp.Allowed)
	require.NotNil(t, resp.Result.Details)
	assert.Equal(t, "apps", resp.Result.Details.Name)
	assert.Equal(t, "Kustomization", resp.Result.Details.Kind)
	require.Len(t, resp.Result.Details.Causes, 1)
	c := resp.Result.Details.Causes[0]
	assert.Equal(t, "ova-lint/kustomization-prune", string(c.Type))
	assert.Equal(t, "spec.prune", c.Field)
	assert.Contains(t, c.Message, "fix: set spec.prune: true")
	assert.Equal(t, "Forbidden", string(resp.Result.Reason))
}

func TestConfigDrivesAdmission(t *testing.T) {
	interval5m := set(yamlObject(t, goodKustomization), "5m", "spec", "interval")
	other := set(yamlObject(t, goodGitRepository), "https://gitea.hel1.other.example/platform/platform.git", "spec", "url")
	tests := []struct {
		name, cfg string
		obj       map[string]any
		allowed   bool
		rule      string
	}{
		{"severity override turns a warning into a denial", "rules: {sync-interval: {severity: error}}", interval5m, false, "sync-interval"},
		{"a disabled rule does not decide", "rules: {kustomization-prune: {disabled: true}}", yamlObject(t, badKustomization), true, ""},
		{"environment by namespace: staging wants 1m", "", set(set(yamlObject(t, goodKustomization), "apps-staging", "metadata", "namespace"), "10m", "spec", "interval"), true, "sync-interval"},
		{"environment by label: staging wants 1m", "", withLabels(yamlObject(t, goodKustomization), map[string]string{"environment": "staging"}), true, "sync-interval"},
		{"single-gitea runs at admission against params.gitea.host", "params: {gitea: {host: gitea.fsn1.acme.example}}", other, false, "single-gitea"},
		{"single-gitea has no facts without params.gitea.host", "", other, true, ""},
		{"params reach the rules", "params: {gitrepository: {branches: [release]}}", yamlObject(t, goodGitRepository), false, "gitrepository-ref"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, tc.cfg)
			resp := e.send(t, request{op: admissionv1.Create, obj: tc.obj})
			assert.Equal(t, tc.allowed, resp.Allowed, "%v", resp.Result)
			var rules []string
			for _, v := range verdicts(t, resp) {
				rules = append(rules, v.Rule)
			}
			if tc.rule == "" {
				assert.Empty(t, rules)
			} else {
				assert.Equal(t, []string{tc.rule}, rules)
			}
		})
	}
}

// TestOnlyAdmissionRulesDecide: a rule whose METADATA runs do not include admission never decides
// at admission, though the engine reports it; info findings are allowed without a warning.
func TestOnlyAdmissionRulesDecide(t *testing.T) {
	dir := t.TempDir()
	rule := func(pkg, id, severity, runs string) string {
		return `# METADATA
# title: test rule ` + id + `
# related_resources:
#   - ref: https://example.test/` + id + `
# custom:
#   id: ` + id + `
#   severity: ` + severity + `
#   scope: object
#   runs: ` + runs + `
package ova.rules.` + pkg + `

violation contains {"path": ["data"], "msg": "ConfigMap says no (` + id + `)", "fix": "remove it"} if {
	input.object.kind == "ConfigMap"
	input.object.data.verdict == "` + id + `"
}
`
	}
	require.NoError(t, os.WriteFile(filepath.Join(dir, "cli_only.rego"), []byte(rule("cli_only", "test-cli-only", "error", "[cli]")), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "both.rego"), []byte(rule("both", "test-both", "error", "[cli, admission]")), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "info.rego"), []byte(rule("info", "test-info", "info", "[cli, admission]")), 0o644))
	e := newEnv(t, "", dir)
	cm := func(verdict string) map[string]any {
		return fluxApplied(map[string]any{"apiVersion": "v1", "kind": "ConfigMap", "metadata": map[string]any{"name": "c", "namespace": "apps"}, "data": map[string]any{"verdict": verdict}})
	}

	// the engine does report the CLI-only rule...
	in, err := input.ObjectInput(e.cfg, cm("test-cli-only"), input.Source{}, nil)
	require.NoError(t, err)
	res, err := e.engine.Eval(context.Background(), in)
	require.NoError(t, err)
	require.Len(t, res.Violations, 1)
	assert.Equal(t, "test-cli-only", res.Violations[0].Rule.ID)
	// ...but admission does not count it
	resp := e.send(t, request{op: admissionv1.Create, obj: cm("test-cli-only")})
	assert.True(t, resp.Allowed)
	assert.Empty(t, resp.Warnings)

	resp = e.send(t, request{op: admissionv1.Create, obj: cm("test-both")})
	assert.False(t, resp.Allowed)
	assert.Contains(t, resp.Result.Message, "test-both")

	resp = e.send(t, request{op: admissionv1.Create, obj: cm("test-info")})
	assert.True(t, resp.Allowed)
	assert.Empty(t, resp.Warnings, "info findings are not warnings")
}

func TestMalformedObjectIsAnError(t *testing.T) {
	e := newEnv(t, "")
	req := admission.Request{AdmissionRequest: admissionv1.AdmissionRequest{
		UID: "u", Operation: admissionv1.Create, Namespace: "apps", Name: "x",
	}}
	req.Kind.Group, req.Kind.Version, req.Kind.Kind = "kustomize.toolkit.fluxcd.io", "v1", "Kustomization"
	req.Object.Raw = []byte(`["not", "an", "object", "hunter2-literal"]`)
	resp := e.handler.Handle(context.Background(), req)
	assert.False(t, resp.Allowed)
	assert.Equal(t, int32(http.StatusInternalServerError), resp.Result.Code)
	assert.NotContains(t, resp.Result.Message, "hunter2")
}

// TestLogsCarryNoObjectData: one structured line per review naming the request and the rule ids,
// never a value or a message from the object.
func TestLogsCarryNoObjectData(t *testing.T) {
	var buf bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	base := newEnv(t, "")
	h, err := webhook.NewHandler(webhook.Options{Engine: base.engine, Config: base.cfg, Logger: logger})
	require.NoError(t, err)
	srv := &admission.Webhook{Handler: h}
	post(t, srv, reviewJSON(t, request{op: admissionv1.Create, obj: fluxApplied(yamlObject(t, literalCredentialDeployment))}))
	post(t, srv, reviewJSON(t, request{op: admissionv1.Create, obj: fluxApplied(yamlObject(t, plaintextSecret))}))
	post(t, srv, reviewJSON(t, request{op: admissionv1.Create, obj: set(yamlObject(t, goodGitRepository), "https://github.com/acme/private-repo.git", "spec", "url")}))

	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	require.Len(t, lines, 3)
	for _, l := range lines {
		var rec map[string]any
		require.NoError(t, json.Unmarshal([]byte(l), &rec), l)
		assert.Equal(t, "admission review", rec["msg"])
		assert.Equal(t, "denied", rec["decision"])
		assert.NotEmpty(t, rec["uid"])
		assert.NotEmpty(t, rec["denied_by"])
	}
	for _, leak := range []string{"hunter2", "aHVudGVyMi1saXRlcmFs", "private-repo", "DB_PASSWORD", "password"} {
		assert.NotContains(t, buf.String(), leak)
	}
}

func TestMetricsCountDenialsPerRule(t *testing.T) {
	base := newEnv(t, "")
	reg := prometheus.NewRegistry()
	m, err := webhook.NewMetrics(reg, base.engine.Rules())
	require.NoError(t, err)
	h, err := webhook.NewHandler(webhook.Options{Engine: base.engine, Config: base.cfg, Metrics: m})
	require.NoError(t, err)
	srv := &admission.Webhook{Handler: h}
	bad := yamlObject(t, badKustomization)
	post(t, srv, reviewJSON(t, request{op: admissionv1.Create, obj: bad}))
	post(t, srv, reviewJSON(t, request{op: admissionv1.Create, obj: bad, dryRun: true}))
	post(t, srv, reviewJSON(t, request{op: admissionv1.Create, obj: set(yamlObject(t, goodKustomization), "5m", "spec", "interval")}))
	post(t, srv, reviewJSON(t, request{op: admissionv1.Delete, old: bad}))

	var expected strings.Builder
	expected.WriteString("# HELP ova_lint_admission_denials_total Error findings that denied an admission request, by rule id.\n# TYPE ova_lint_admission_denials_total counter\n")
	for _, r := range base.engine.Rules() {
		if !r.RunsAt(engine.RunsAdmission) {
			continue
		}
		n := 0
		if r.ID == "kustomization-prune" {
			n = 2 // the CREATE and its dry run
		}
		fmt.Fprintf(&expected, "ova_lint_admission_denials_total{rule=%q} %d\n", r.ID, n)
	}
	assert.NoError(t, testutil.GatherAndCompare(reg, strings.NewReader(expected.String()), "ova_lint_admission_denials_total"))
	assert.InDelta(t, 1, testutil.ToFloat64(mustCounter(t, reg, "ova_lint_admission_warnings_total", "sync-interval")), 0)
	n, err := testutil.GatherAndCount(reg, "ova_lint_admission_reviews_total")
	require.NoError(t, err)
	assert.Equal(t, 3, n, "CREATE/denied, CREATE/warned, DELETE/skipped")
}

func mustCounter(t *testing.T, reg *prometheus.Registry, name, rule string) prometheus.Collector {
	t.Helper()
	mfs, err := reg.Gather()
	require.NoError(t, err)
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "rule" && l.GetValue() == rule {
					c := prometheus.NewCounter(prometheus.CounterOpts{Name: name})
					c.Add(m.GetCounter().GetValue())
					return c
				}
			}
		}
	}
	t.Fatalf("no %s{rule=%q}", name, rule)
	return nil
}

// TestWaiverAnnotation: the object's waiver annotation works at admission as in the CLI.
func TestWaiverAnnotation(t *testing.T) {
	base := newEnv(t, "")
	now := func() time.Time { return time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC) }
	h, err := webhook.NewHandler(webhook.Options{Engine: base.engine, Config: base.cfg, Now: now})
	require.NoError(t, err)
	srv := &admission.Webhook{Handler: h}
	bad := yamlObject(t, badKustomization)
	waived := func(value string) map[string]any {
		return set(bad, map[string]any{"ova-lint.openova.io/waive": value}, "metadata", "annotations")
	}
	tests := []struct {
		name, value string
		allowed     bool
		rules       []string
	}{
		{"a valid waiver exempts the named rule", "kustomization-prune; reason=migration of the apps tree; until=2026-12-31", true, nil},
		{"an expired waiver exempts nothing and warns", "kustomization-prune; reason=migration; until=2026-11-01", false, []string{"kustomization-prune", "waiver-expired"}},
		{"a waiver without a reason is invalid", "kustomization-prune", false, []string{"kustomization-prune", "waiver-invalid"}},
		{"a waiver of another rule does not help", "kustomization-wait; reason=not this one", false, []string{"kustomization-prune"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp := post(t, srv, reviewJSON(t, request{op: admissionv1.Create, obj: waived(tc.value)}))
			assert.Equal(t, tc.allowed, resp.Allowed, "%v", resp.Result)
			var rules []string
			for _, v := range verdicts(t, resp) {
				rules = append(rules, v.Rule)
			}
			assert.Equal(t, tc.rules, rules)
		})
	}
}

func TestMetricsCanBeRegisteredTwice(t *testing.T) {
	base := newEnv(t, "")
	reg := prometheus.NewRegistry()
	m1, err := webhook.NewMetrics(reg, base.engine.Rules())
	require.NoError(t, err)
	m2, err := webhook.NewMetrics(reg, base.engine.Rules())
	require.NoError(t, err, "a restarted server in the same process shares the counters")
	for _, m := range []*webhook.Metrics{m1, m2} {
		h, err := webhook.NewHandler(webhook.Options{Engine: base.engine, Config: base.cfg, Metrics: m})
		require.NoError(t, err)
		post(t, &admission.Webhook{Handler: h}, reviewJSON(t, request{op: admissionv1.Create, obj: yamlObject(t, badKustomization)}))
	}
	assert.InDelta(t, 2, testutil.ToFloat64(mustCounter(t, reg, "ova_lint_admission_denials_total", "kustomization-prune")), 0)
}

// helmChartSecret is what a chart that generates its credentials renders (lookup, then
// randAlphaNum on first install), as the apiserver hands it to the webhook: stringData merged
// into data.
const helmChartSecret = `
apiVersion: v1
kind: Secret
metadata:
  name: powerdns-api-credentials
  namespace: powerdns
  labels: {app.kubernetes.io/name: powerdns}
type: Opaque
data:
  api-key: cjRuZG9tLWdlbmVyYXRlZC1hcGkta2V5LTMyY2hhcnM=
  webserver-password: cjRuZG9tLWdlbmVyYXRlZC13ZWItcGFzc3dvcmQtMzI=
`

// TestSecretsByProvenance: the webhook tells the rules who applied a Secret (input.origin); the
// plaintext-secret rule, not the webhook, admits what helm-controller applies and denies the
// same Secret when kustomize-controller applies it from Git.
func TestSecretsByProvenance(t *testing.T) {
	chart := yamlObject(t, helmChartSecret)
	byHelm := withLabels(chart, map[string]string{webhook.LabelHelmName: "powerdns", "helm.toolkit.fluxcd.io/namespace": "flux-system"})
	byKustomize := withLabels(chart, map[string]string{webhook.LabelKustomizeName: "powerdns", "kustomize.toolkit.fluxcd.io/namespace": "flux-system"})

	t.Run("helm-controller: checked by the engine and allowed by the rule", func(t *testing.T) {
		e := newEnv(t, "")
		d, err := e.handler.Review(context.Background(), admissionRequest(t, request{op: admissionv1.Create, obj: byHelm}))
		require.NoError(t, err)
		assert.True(t, d.Checked, "the Secret reaches the engine (reason %q)", d.Reason)
		assert.True(t, d.Allowed())
		assert.Empty(t, d.Denials)
		assert.True(t, e.send(t, request{op: admissionv1.Create, obj: byHelm}).Allowed)
	})
	t.Run("kustomize-controller: the same data is denied", func(t *testing.T) {
		e := newEnv(t, "")
		resp := e.send(t, request{op: admissionv1.Create, obj: byKustomize})
		require.False(t, resp.Allowed)
		vs := verdicts(t, resp)
		require.Len(t, vs, 1)
		assert.Equal(t, "plaintext-secret", vs[0].Rule)
		assert.Contains(t, vs[0].Message, "keys: api-key, webserver-password")
	})
	t.Run("secrets.admit_helm_secrets: false denies helm-controller's Secrets too", func(t *testing.T) {
		e := newEnv(t, "params: {secrets: {admit_helm_secrets: false}}")
		resp := e.send(t, request{op: admissionv1.Create, obj: byHelm})
		require.False(t, resp.Allowed)
		assert.Contains(t, resp.Result.Message, "plaintext-secret")
	})
	t.Run("a Secret of references is admitted from kustomize-controller", func(t *testing.T) {
		e := newEnv(t, "")
		refs := set(byKustomize, map[string]any{"api-key": "b3A6Ly9rdWJlcm5ldGVzL3Bvd2VyZG5zL2FwaS1rZXk="}, "data")
		assert.True(t, e.send(t, request{op: admissionv1.Create, obj: refs}).Allowed)
	})
	t.Run("the rule receives the origin", func(t *testing.T) {
		dir := t.TempDir()
		require.NoError(t, os.WriteFile(filepath.Join(dir, "origin.rego"), []byte(originEcho), 0o644))
		e := newEnv(t, "", dir)
		for labels, want := range map[string]string{
			webhook.LabelHelmName:      "admission helm-controller",
			webhook.LabelKustomizeName: "admission kustomize-controller",
		} {
			resp := e.send(t, request{op: admissionv1.Create, obj: withLabels(chart, map[string]string{labels: "x"})})
			var got []string
			for _, w := range resp.Warnings {
				if m := warningRe.FindStringSubmatch(w); m != nil && m[2] == "origin-echo" {
					got = append(got, m[4])
				}
			}
			assert.Equal(t, []string{want + " [source: https://example.test/origin-echo]"}, got)
		}
	})
	for _, body := range []string{"cjRuZG9tLWdlbmVyYXRlZC1hcGkta2V5LTMyY2hhcnM=", "r4ndom-generated-api-key-32chars"} {
		e := newEnv(t, "")
		b, err := json.Marshal(e.send(t, request{op: admissionv1.Create, obj: byKustomize}))
		require.NoError(t, err)
		assert.NotContains(t, string(b), body, "no secret value in a response")
	}
}

// originEcho is a rule that reports input.origin back as a warning.
const originEcho = `# METADATA
# title: Echo the origin
# related_resources:
#   - ref: https://example.test/origin-echo
# custom:
#   id: origin-echo
#   severity: warning
#   scope: object
#   runs: [admission]
package ova.rules.origin_echo

violation contains {"path": [], "msg": sprintf("%s %s", [input.origin.producer, input.origin.applied_by])} if input.object.kind == "Secret"
`

func TestAppliedBy(t *testing.T) {
	for _, tc := range []struct {
		labels map[string]any
		want   string
	}{
		{nil, ""},
		{map[string]any{webhook.LabelHelmName: "db"}, webhook.HelmController},
		{map[string]any{webhook.LabelKustomizeName: "apps"}, webhook.KustomizeController},
		{map[string]any{webhook.LabelKustomizeName: "apps", webhook.LabelHelmName: "db"}, webhook.KustomizeController},
		{map[string]any{webhook.LabelHelmName: ""}, ""},
		{map[string]any{webhook.LabelHelmName: 1}, ""},
	} {
		assert.Equal(t, tc.want, webhook.AppliedBy(tc.labels), "%v", tc.labels)
	}
}

// admissionRequest is the admission.Request the handler receives for r.
func admissionRequest(t testing.TB, r request) admission.Request {
	t.Helper()
	var review admissionv1.AdmissionReview
	require.NoError(t, json.Unmarshal(reviewJSON(t, r), &review))
	return admission.Request{AdmissionRequest: *review.Request}
}
