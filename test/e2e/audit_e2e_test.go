package e2e

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	rbacv1 "k8s.io/api/rbac/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/openova-io/ova-lint/audit"
	"github.com/openova-io/ova-lint/internal/cli"
	"github.com/openova-io/ova-lint/linter/engine"
)

// auditConfig is the configuration both doors read in the audit parity test: the embedded
// defaults, so single-gitea compares hosts across what it sees (no gitea.host).
const auditConfig = "params: {}\n"

// Secret values that must never appear in an output.
const (
	auditSecretValue = "pl41ntext-hunter2-audit"
	auditSOPSValue   = "ENC[AES256_GCM,data:c2VjcmV0LXNvcHMtYXVkaXQ=,iv:AAAA,tag:BBBB,type:str]"
	auditRefValue    = "op://platform/db/password"
)

// auditCase is one object created in the cluster, with the rule ids that the audit and the
// CLI (on the same object written as a file) must both report for it.
type auditCase struct {
	doc  string
	want []string
}

// auditCases: violating and clean objects of every audited shape. A want is checked by hand
// against the rule's METADATA; the same list is the CLI's verdict on the file.
var auditCases = []auditCase{
	{doc: `
apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata: {name: platform, namespace: flux-system}
spec:
  interval: 1m
  url: https://gitea.fsn1.acme.example/platform/platform.git
  ref: {branch: main}
  secretRef: {name: gitea-token}
`},
	{doc: `
apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata: {name: apps, namespace: flux-system}
spec:
  interval: 1m
  url: https://gitea.fsn1.acme.example/platform/apps.git
  ref: {branch: main}
  secretRef: {name: gitea-token}
`},
	// another Gitea host, a branch that is not main, no token, a slow interval
	{doc: `
apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata: {name: mirror, namespace: flux-system}
spec:
  interval: 5m
  url: https://gitea.hel1.other.example/platform/platform.git
  ref: {branch: develop}
`, want: []string{"gitrepository-ref", "gitrepository-secret", "single-gitea", "sync-interval"}},
	{doc: `
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {name: apps, namespace: flux-system}
spec:
  interval: 10m
  path: ./apps
  prune: true
  wait: true
  sourceRef: {kind: GitRepository, name: apps}
  healthChecks:
    - {apiVersion: apps/v1, kind: Deployment, name: api, namespace: apps}
`},
	// no prune, no wait, a source and a dependency that do not exist
	{doc: `
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {name: infra, namespace: flux-system}
spec:
  interval: 10m
  path: ./infra
  prune: false
  sourceRef: {kind: GitRepository, name: missing}
  dependsOn:
    - {name: nowhere}
`, want: []string{"flux-depends-on", "flux-source-ref", "kustomization-health-checks", "kustomization-prune", "kustomization-wait"}},
	// depends on an existing Kustomization: clean
	{doc: `
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {name: tenants, namespace: flux-system}
spec:
  interval: 10m
  path: ./tenants
  prune: true
  wait: true
  sourceRef: {kind: GitRepository, name: platform}
  dependsOn:
    - {name: apps}
  healthChecks:
    - {apiVersion: apps/v1, kind: Deployment, name: api, namespace: apps}
`},
	{doc: `
apiVersion: source.toolkit.fluxcd.io/v1
kind: HelmRepository
metadata: {name: charts, namespace: flux-system}
spec:
  interval: 10m
  url: https://charts.example.com
`},
	{doc: `
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata: {name: api, namespace: flux-system}
spec:
  interval: 10m
  chart:
    spec:
      chart: api
      version: 1.0.0
      sourceRef: {kind: HelmRepository, name: charts}
`},
	// a version range and a repository that does not exist
	{doc: `
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata: {name: web, namespace: flux-system}
spec:
  interval: 10m
  chart:
    spec:
      chart: web
      version: ">=1.0.0"
      sourceRef: {kind: HelmRepository, name: elsewhere}
`, want: []string{"flux-source-ref", "helmrelease-version-pin"}},
	// applied as v1beta2, a version the configured Flux (2.4) deprecates: stored and listed as
	// v1, judged as written
	{doc: `
apiVersion: kustomize.toolkit.fluxcd.io/v1beta2
kind: Kustomization
metadata: {name: older, namespace: flux-system}
spec:
  interval: 10m
  path: ./older
  prune: true
  wait: true
  sourceRef: {kind: GitRepository, name: platform}
  healthChecks:
    - {apiVersion: apps/v1, kind: Deployment, name: api, namespace: apps}
`, want: []string{"flux-api-version"}},
	// a waiver annotation waives the prune rule (with a reason)
	{doc: `
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: waived
  namespace: flux-system
  annotations:
    ova-lint.openova.io/waive: "kustomization-prune; reason=the namespace holds state that outlives its Kustomization"
spec:
  interval: 10m
  path: ./waived
  prune: false
  wait: true
  sourceRef: {kind: GitRepository, name: platform}
  healthChecks:
    - {apiVersion: apps/v1, kind: Deployment, name: api, namespace: apps}
`},
	{doc: `
apiVersion: v1
kind: Secret
metadata:
  name: db
  namespace: apps
  labels: {kustomize.toolkit.fluxcd.io/name: apps, kustomize.toolkit.fluxcd.io/namespace: flux-system}
type: Opaque
stringData: {password: ` + auditSecretValue + `, username: ""}
`, want: []string{"plaintext-secret"}},
	{doc: `
apiVersion: v1
kind: Secret
metadata:
  name: db-reference
  namespace: apps
  labels: {kustomize.toolkit.fluxcd.io/name: apps, kustomize.toolkit.fluxcd.io/namespace: flux-system}
type: Opaque
stringData: {password: "` + auditRefValue + `", url: "${DB_URL}"}
`},
	// A SOPS value in a Secret cannot be stored (data is base64; stringData becomes data), but
	// a ConfigMap can carry one.
	{doc: `
apiVersion: v1
kind: ConfigMap
metadata:
  name: sops-leftover
  namespace: apps
  labels: {kustomize.toolkit.fluxcd.io/name: apps, kustomize.toolkit.fluxcd.io/namespace: flux-system}
data: {password: "` + auditSOPSValue + `"}
`, want: []string{"no-sops"}},
	{doc: `
apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
  namespace: apps
  labels: {helm.toolkit.fluxcd.io/name: api, helm.toolkit.fluxcd.io/namespace: flux-system}
data: {LOG_LEVEL: info}
`},
	{doc: `
apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
  namespace: apps
  labels: {kustomize.toolkit.fluxcd.io/name: apps, kustomize.toolkit.fluxcd.io/namespace: flux-system}
spec:
  selector: {matchLabels: {app: api}}
  template:
    metadata: {labels: {app: api}}
    spec:
      containers:
        - name: api
          image: registry.example.com/api:1.0.0
          env:
            - {name: DB_PASSWORD, value: "` + auditSecretValue + `"}
            - {name: DB_HOST, value: db.apps.svc}
`, want: []string{"literal-credential"}},
}

// outOfScope are created in the cluster but not applied by Flux (no Flux label) nor Flux
// kinds, or Secrets a controller owns: the webhook never sees them, nor does the audit.
var outOfScope = []string{`
apiVersion: v1
kind: Secret
metadata: {name: hand-made, namespace: apps}
type: Opaque
stringData: {password: ` + auditSecretValue + `}
`, `
apiVersion: v1
kind: ConfigMap
metadata: {name: unmanaged, namespace: apps}
data: {a: b}
`, `
apiVersion: v1
kind: Secret
metadata:
  name: sh.helm.release.v1.api.v1
  namespace: apps
  labels: {owner: helm, helm.toolkit.fluxcd.io/name: api}
type: helm.sh/release.v1
data: {release: ` + base64.StdEncoding.EncodeToString([]byte(auditSecretValue)) + `}
`}

// liveRules are the rules the audit runs: those that run at admission, plus the repo-scope
// rules that run on live objects.
func liveRules(t *testing.T) map[string]bool {
	t.Helper()
	eng, err := engine.New(context.Background(), engine.Options{})
	require.NoError(t, err)
	out := map[string]bool{"flux-depends-on": true, "flux-source-ref": true, "single-gitea": true}
	for _, r := range eng.Rules() {
		if r.RunsAt(engine.RunsAdmission) {
			out[r.ID] = true
		}
	}
	return out
}

type jsonReport struct {
	Findings []struct {
		Rule, Severity, File, Kind, Namespace, Name, Message, Path string
		Line                                                       int
	} `json:"findings"`
	Summary struct{ Documents, Errors, Warnings int } `json:"summary"`
}

// byObject groups a JSON report's rule ids by "Kind namespace/name" (rules outside keep left
// out), sorted.
func byObject(t *testing.T, out []byte, keep map[string]bool) map[string][]string {
	t.Helper()
	var rep jsonReport
	require.NoError(t, json.Unmarshal(out, &rep), "%s", out)
	m := map[string][]string{}
	for _, f := range rep.Findings {
		if keep != nil && !keep[f.Rule] {
			continue
		}
		k := f.Kind + " " + f.Namespace + "/" + f.Name
		m[k] = append(m[k], f.Rule)
	}
	for k := range m {
		sort.Strings(m[k])
	}
	return m
}

func runCLI(args ...string) (code int, stdout, stderr string) {
	var out, errb bytes.Buffer
	code = cli.Run(context.Background(), args, cli.IO{In: strings.NewReader(""), Out: &out, Err: &errb})
	return code, out.String(), errb.String()
}

// TestAudit creates violating and clean objects with no webhook registered (kubectl apply: its
// last-applied-configuration annotation repeats each Secret's values), then audits them.
func TestAudit(t *testing.T) {
	assets := requireControlPlane(t)
	c := startCluster(t, assets, e2eValues)
	ctx := context.Background()
	// Stored before any webhook: nothing stops the violations.
	require.NoError(t, c.client.Delete(ctx, c.vwc.DeepCopy()))
	serveOlderKustomizationVersion(t, c)
	var objs []map[string]any
	for _, tc := range auditCases {
		objs = append(objs, obj(t, tc.doc).Object)
	}
	for _, doc := range outOfScope {
		objs = append(objs, obj(t, doc).Object)
	}
	out, err := c.apply(t, objs...)
	require.NoError(t, err, out)

	t.Run("parity with lint", func(t *testing.T) { auditParity(t, c) })
	t.Run("pages", func(t *testing.T) { auditPages(t, c) })
	t.Run("forbidden kind", func(t *testing.T) { auditForbiddenKind(t, c) })
}

// serveOlderKustomizationVersion makes the Kustomization CRD serve v1beta2 besides v1 (the
// Flux CRDs of the test serve v1 only), as a cluster upgraded from an older Flux does, so that an
// object applied as v1beta2 is stored, listed as v1 and judged as v1beta2.
func serveOlderKustomizationVersion(t *testing.T, c *cluster) {
	t.Helper()
	ctx := context.Background()
	crd := &apiextensionsv1.CustomResourceDefinition{}
	require.NoError(t, c.client.Get(ctx, client.ObjectKey{Name: "kustomizations.kustomize.toolkit.fluxcd.io"}, crd))
	v1 := crd.Spec.Versions[0]
	require.Equal(t, "v1", v1.Name)
	older := *v1.DeepCopy()
	older.Name, older.Storage = "v1beta2", false
	crd.Spec.Versions = append(crd.Spec.Versions, older)
	require.NoError(t, c.client.Update(ctx, crd))
	dc, err := discovery.NewDiscoveryClientForConfig(c.cfg)
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		_, err := dc.ServerResourcesForGroupVersion("kustomize.toolkit.fluxcd.io/v1beta2")
		return err == nil
	}, crdWait, 100*time.Millisecond, "v1beta2 served")
}

// auditParity checks that `ova-lint audit` reports for each object exactly what `ova-lint lint`
// reports for the same object written as a file, and what the case expects; that objects out of
// the webhook's scope are not audited; and that no Secret value reaches any output.
func auditParity(t *testing.T, c *cluster) {
	dir := t.TempDir()
	cfgFile := filepath.Join(dir, ".ova-lint.yaml")
	require.NoError(t, os.WriteFile(cfgFile, []byte(auditConfig), 0o644))
	tree := filepath.Join(dir, "tree")
	require.NoError(t, os.MkdirAll(tree, 0o755))

	want := map[string][]string{}
	for i, tc := range auditCases {
		o := obj(t, tc.doc).Object
		require.NoError(t, os.WriteFile(filepath.Join(tree, fmt.Sprintf("%02d.yaml", i)), []byte(strings.TrimSpace(tc.doc)+"\n"), 0o644))
		md := o["metadata"].(map[string]any)
		k := fmt.Sprintf("%s %s/%s", o["kind"], md["namespace"], md["name"])
		want[k] = tc.want
	}

	user, err := c.env.ControlPlane.AddUser(envtest.User{Name: "e2e-auditor-admin", Groups: []string{"system:masters"}}, nil)
	require.NoError(t, err)
	kc, err := user.KubeConfig()
	require.NoError(t, err)
	kubeconfig := filepath.Join(dir, "kubeconfig")
	require.NoError(t, os.WriteFile(kubeconfig, kc, 0o600))

	keep := liveRules(t)
	code, lintOut, lintErr := runCLI("lint", "--config", cfgFile, "--render", "off", "--no-schema", "-f", "json", tree)
	require.Contains(t, []int{cli.ExitOK, cli.ExitFindings}, code, lintErr)
	lint := byObject(t, []byte(lintOut), keep)

	code, auditOut, auditErr := runCLI("audit", "--kubeconfig", kubeconfig, "--config", cfgFile, "-f", "json")
	require.Equal(t, cli.ExitFindings, code, "audit exits 1 on error findings: %s", auditErr)
	live := byObject(t, []byte(auditOut), nil)

	for k, rules := range want {
		assert.Equal(t, rules, lint[k], "lint of the file: %s", k)
		assert.Equal(t, rules, live[k], "audit of the live object: %s", k)
	}
	for k := range live {
		_, ok := want[k]
		assert.True(t, ok, "audit reports an object the test did not create or that is out of scope: %s %v", k, live[k])
	}

	// Every finding of the audit names its object and a field path, never a file.
	var rep jsonReport
	require.NoError(t, json.Unmarshal([]byte(auditOut), &rep))
	for _, f := range rep.Findings {
		assert.Empty(t, f.File, "%+v", f)
		assert.Zero(t, f.Line, "%+v", f)
		assert.NotEmpty(t, f.Path, "%+v", f)
	}

	code, textOut, _ := runCLI("audit", "--kubeconfig", kubeconfig, "--config", cfgFile, "-f", "text", "-n", "flux-system", "-n", "apps")
	require.Equal(t, cli.ExitFindings, code)
	assert.Contains(t, textOut, "Kustomization flux-system/infra: spec.prune: error kustomization-prune: ")
	assert.Contains(t, textOut, "Secret apps/db: data: error plaintext-secret: ")

	// No value of a Secret (nor its base64) in any output, whatever the format.
	outputs := map[string]string{"json": auditOut, "text": textOut}
	for _, format := range []string{"sarif", "junit", "github", "gitlab"} {
		_, o, _ := runCLI("audit", "--kubeconfig", kubeconfig, "--config", cfgFile, "-f", format)
		outputs[format] = o
	}
	// A rule that prints everything it is given about a Secret: each value, each annotation and
	// the object's text. Through the audit it can only print placeholders.
	policy := filepath.Join(dir, "policy")
	require.NoError(t, os.MkdirAll(policy, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(policy, "leak.rego"), []byte(leakPolicy), 0o644))
	code, leakOut, leakErr := runCLI("audit", "--kubeconfig", kubeconfig, "--config", cfgFile, "--policy", policy, "-f", "json")
	require.Equal(t, cli.ExitFindings, code, leakErr)
	outputs["json with a leaking rule"] = leakOut
	assert.Contains(t, leakOut, "redacted-by-ova-lint", "the leaking rule ran on the Secrets and saw placeholders")
	for format, o := range outputs {
		for _, v := range []string{auditSecretValue, auditRefValue, base64.StdEncoding.EncodeToString([]byte(auditSecretValue))} {
			assert.NotContains(t, o, v, "%s output", format)
		}
	}
}

// leakPolicy is a user rule that reports every value, annotation and the text of a Secret.
const leakPolicy = `# METADATA
# title: Leaks what it sees of a Secret (test)
# description: Prints each value, each annotation and the object's text of every Secret.
# related_resources:
#   - ref: https://example.com/test
#     description: test
# custom:
#   id: leak-values
#   severity: warning
#   scope: object
#   runs: [cli, admission]
#   kinds: [Secret]
package ova.rules.leak_values

violation contains v if {
	some k, val in input.object.data
	v := {"path": ["data", k], "msg": sprintf("value %s = %s (%s)", [k, base64.decode(val), val]), "fix": "none"}
}

violation contains v if {
	some k, val in input.object.metadata.annotations
	v := {"path": ["metadata", "annotations", k], "msg": sprintf("annotation %s = %s", [k, val]), "fix": "none"}
}

violation contains v if {
	input.object.kind == "Secret"
	v := {"path": ["kind"], "msg": sprintf("text %s", [input.source.text]), "fix": "none"}
}
`

// auditPages: listed one object a page (limit/continue: every kind with two objects or more
// takes several pages), the audit finds what it finds in pages of 500.
func auditPages(t *testing.T, c *cluster) {
	ctx := context.Background()
	big, err := audit.Run(ctx, audit.Options{Config: c.cfg})
	require.NoError(t, err)
	small, err := audit.Run(ctx, audit.Options{Config: c.cfg, PageSize: 1})
	require.NoError(t, err)
	assert.Len(t, big.Objects, len(auditCases))
	assert.Equal(t, big.Objects, small.Objects)
	assert.Equal(t, big.Findings, small.Findings)
}

// auditForbiddenKind audits as a user whose RBAC lists (and gets: a Flux object written in an
// older version is read in that version) everything but HelmReleases: that kind is skipped with
// the apiserver's reason, the others are audited.
func auditForbiddenKind(t *testing.T, c *cluster) {
	ctx := context.Background()
	dc, err := discovery.NewDiscoveryClientForConfig(c.cfg)
	require.NoError(t, err)
	groups, err := dc.ServerGroups()
	require.NoError(t, err)
	var allowed []string
	for _, g := range groups.Groups {
		if g.Name != "helm.toolkit.fluxcd.io" {
			allowed = append(allowed, g.Name)
		}
	}
	role := &rbacv1.ClusterRole{
		ObjectMeta: metav1.ObjectMeta{Name: "auditor"},
		Rules:      []rbacv1.PolicyRule{{APIGroups: allowed, Resources: []string{"*"}, Verbs: []string{"get", "list"}}},
	}
	require.NoError(t, c.client.Create(ctx, role))
	require.NoError(t, c.client.Create(ctx, &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "auditor"},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "auditor"},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: "auditor"}},
	}))

	admin, err := audit.Run(ctx, audit.Options{Config: c.cfg})
	require.NoError(t, err)
	require.Empty(t, admin.Skipped)

	cfg := rest.CopyConfig(c.cfg)
	cfg.Impersonate = rest.ImpersonationConfig{UserName: "auditor"}
	res, err := audit.Run(ctx, audit.Options{Config: cfg})
	require.NoError(t, err)
	require.Len(t, res.Skipped, 1, "%+v", res.Skipped)
	s := res.Skipped[0]
	assert.Equal(t, "helm.toolkit.fluxcd.io", s.GroupVersionResource.Group)
	assert.Equal(t, "helmreleases", s.GroupVersionResource.Resource)
	assert.Equal(t, "HelmRelease", s.Kind)
	assert.Contains(t, s.Reason, `User "auditor" cannot list resource "helmreleases"`)

	// The rest is audited as by the admin, HelmReleases aside (the repo-scope rules see no
	// HelmRelease either: the listing is incomplete, so "not declared" is not decided).
	ids := func(r *audit.Result, skipKind string) []string {
		var out []string
		for _, f := range r.Findings {
			if f.Kind == skipKind || f.Rule == "flux-source-ref" || f.Rule == "flux-depends-on" {
				continue
			}
			out = append(out, f.Kind+" "+f.Namespace+"/"+f.Name+" "+f.Path+" "+f.Rule)
		}
		return out
	}
	assert.Equal(t, ids(admin, "HelmRelease"), ids(res, "HelmRelease"))
	assert.NotEmpty(t, ids(res, ""))
	for _, o := range res.Objects {
		assert.NotEqual(t, "HelmRelease", o.Kind)
	}
	assert.True(t, slices.ContainsFunc(admin.Objects, func(o audit.Object) bool { return o.Kind == "HelmRelease" }))
	assert.Positive(t, res.Requests)
}
