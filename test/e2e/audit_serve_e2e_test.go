package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	sigsyaml "sigs.k8s.io/yaml"

	"github.com/openova-io/ova-lint/audit/report"
	"github.com/openova-io/ova-lint/internal/cli"
	"github.com/openova-io/ova-lint/linter/engine"
)

// The chart's Lease and service account, as rendered with testRelease in testNamespace.
const (
	auditLease          = "ova-lint-audit"
	auditServiceAccount = "system:serviceaccount:" + testNamespace + ":ova-lint"
)

var reportsGVR = schema.GroupVersionResource{Group: "openreports.io", Version: "v1alpha1", Resource: "reports"}

// auditServe is one `ova-lint serve --audit-interval` instance with its own log and ports.
type auditServe struct {
	logs     *syncBuffer
	probe    string
	stop     func()
	identity string
}

// startAuditServe runs `ova-lint serve` with the chart's arguments plus extra, on its own
// webhook and probe ports when own is set (a second replica: the apiserver calls the first).
func (c *cluster) startAuditServe(t *testing.T, own bool, extra ...string) *auditServe {
	t.Helper()
	s := &auditServe{logs: &syncBuffer{}, probe: freeAddr(t)}
	var args []string
	for _, a := range c.serve {
		switch {
		case strings.HasPrefix(a, "--probe-addr="):
			a = "--probe-addr=" + s.probe
		case own && strings.HasPrefix(a, "--port="):
			_, port, _ := strings.Cut(freeAddr(t), ":")
			a = "--port=" + port
		}
		args = append(args, a)
	}
	args = append(args, extra...)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	go func() { done <- cli.Run(ctx, args, cli.IO{In: strings.NewReader(""), Out: s.logs, Err: s.logs}) }()
	waitFor(t, 30*time.Second, func() (bool, string) {
		select {
		case code := <-done:
			t.Fatalf("ova-lint serve exited with %d:\n%s", code, s.logs.String())
		default:
		}
		resp, err := http.Get("http://" + s.probe + "/readyz")
		if err != nil {
			return false, err.Error()
		}
		defer resp.Body.Close()
		_, _ = io.Copy(io.Discard, resp.Body)
		return resp.StatusCode == http.StatusOK, resp.Status
	}, "serve becomes ready")
	line := logLine(t, s.logs, "background audit on")
	require.NotNil(t, line, "the background audit is on:\n%s", s.logs.String())
	s.identity, _ = line["identity"].(string)
	require.NotEmpty(t, s.identity)
	var once sync.Once
	s.stop = func() {
		once.Do(func() {
			cancel()
			select {
			case code := <-done:
				require.Equal(t, cli.ExitOK, code, "serve exits cleanly:\n%s", s.logs.String())
			case <-time.After(60 * time.Second):
				t.Fatal("ova-lint serve did not stop")
			}
		})
	}
	t.Cleanup(s.stop)
	return s
}

// logLines are the JSON log lines with this message.
func logLines(logs *syncBuffer, msg string) []map[string]any {
	var out []map[string]any
	for _, l := range strings.Split(logs.String(), "\n") {
		var m map[string]any
		if json.Unmarshal([]byte(l), &m) == nil && m["msg"] == msg {
			out = append(out, m)
		}
	}
	return out
}

func logLine(t *testing.T, logs *syncBuffer, msg string) map[string]any {
	t.Helper()
	if ls := logLines(logs, msg); len(ls) > 0 {
		return ls[len(ls)-1]
	}
	return nil
}

// waitFor polls cond until it holds or the deadline passes (generous: the machine is shared).
func waitFor(t *testing.T, deadline time.Duration, cond func() (bool, string), what string) {
	t.Helper()
	end := time.Now().Add(deadline)
	var last string
	for {
		ok, why := cond()
		if ok {
			return
		}
		last = why
		if time.Now().After(end) {
			t.Fatalf("%s: not within %s (last: %s)", what, deadline, last)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// chartObjects installs the rendered chart objects of these kinds (the report CRDs, the
// audit's RBAC), as Helm would.
func (c *cluster) chartObjects(t *testing.T, kinds ...string) {
	t.Helper()
	ctx := context.Background()
	var crds []*apiextensionsv1.CustomResourceDefinition
	for _, kind := range kinds {
		for _, o := range c.chart.find(kind) {
			if kind == "CustomResourceDefinition" {
				raw, err := json.Marshal(o)
				require.NoError(t, err)
				crd := &apiextensionsv1.CustomResourceDefinition{}
				require.NoError(t, json.Unmarshal(raw, crd))
				crds = append(crds, crd)
				continue
			}
			require.NoError(t, c.client.Create(ctx, &unstructured.Unstructured{Object: jsonCopy(t, o)}), "create %s", kind)
		}
	}
	if len(crds) > 0 {
		_, err := envtest.InstallCRDs(c.cfg, envtest.CRDInstallOptions{CRDs: crds, MaxTime: crdWait})
		require.NoError(t, err, "install the chart's report CRDs")
	}
}

// kubeconfigFor writes a kubeconfig of a new user of the test apiserver.
func (c *cluster) kubeconfigFor(t *testing.T, user envtest.User) string {
	t.Helper()
	u, err := c.env.ControlPlane.AddUser(user, nil)
	require.NoError(t, err)
	raw, err := u.KubeConfig()
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), "kubeconfig")
	require.NoError(t, os.WriteFile(path, raw, 0o600))
	return path
}

// result is a report result or an audit finding reduced to what must agree.
type result struct{ Rule, Result, Path string }

// reportsByScope lists ova-lint's Reports, keyed by their scope's namespace/name.
func reportsByScope(t *testing.T, dyn dynamic.Interface) map[string]*unstructured.Unstructured {
	t.Helper()
	l, err := dyn.Resource(reportsGVR).List(context.Background(), metav1.ListOptions{LabelSelector: report.ManagedByLabel + "=" + report.Source})
	require.NoError(t, err)
	out := map[string]*unstructured.Unstructured{}
	for i := range l.Items {
		r := &l.Items[i]
		kind, _, _ := unstructured.NestedString(r.Object, "scope", "kind")
		ns, _, _ := unstructured.NestedString(r.Object, "scope", "namespace")
		name, _, _ := unstructured.NestedString(r.Object, "scope", "name")
		out[kind+" "+ns+"/"+name] = r
	}
	return out
}

// violations are a report's fail and warn results.
func violations(r *unstructured.Unstructured) []result {
	var out []result
	rs, _, _ := unstructured.NestedSlice(r.Object, "results")
	for _, x := range rs {
		m := x.(map[string]any)
		if m["result"] == "pass" {
			continue
		}
		path, _, _ := unstructured.NestedString(m, "properties", "path")
		out = append(out, result{Rule: m["policy"].(string), Result: m["result"].(string), Path: path})
	}
	slices.SortFunc(out, func(a, b result) int { return strings.Compare(fmt.Sprint(a), fmt.Sprint(b)) })
	return out
}

// auditFindings runs `ova-lint audit --format json` with the serve's configuration and returns
// its error and warning findings per object.
func (c *cluster) auditFindings(t *testing.T, kubeconfig string) map[string][]result {
	t.Helper()
	args := []string{"audit", "--format", "json", "--kubeconfig", kubeconfig, "--exempt-namespace", testNamespace}
	for _, a := range c.serve {
		if strings.HasPrefix(a, "--config=") {
			args = append(args, a)
		}
	}
	var out, errOut bytes.Buffer
	code := cli.Run(context.Background(), args, cli.IO{In: strings.NewReader(""), Out: &out, Err: &errOut})
	require.Contains(t, []int{cli.ExitOK, cli.ExitFindings}, code, "ova-lint audit: %s", errOut.String())
	var rep struct {
		Findings []struct{ Rule, Severity, Kind, Namespace, Name, Path string }
	}
	require.NoError(t, json.Unmarshal(out.Bytes(), &rep), out.String())
	got := map[string][]result{}
	for _, f := range rep.Findings {
		r := result{Rule: f.Rule, Result: "fail", Path: f.Path}
		switch f.Severity {
		case "warning":
			r.Result = "warn"
		case "info":
			continue
		}
		k := f.Kind + " " + f.Namespace + "/" + f.Name
		got[k] = append(got[k], r)
	}
	for k := range got {
		slices.SortFunc(got[k], func(a, b result) int { return strings.Compare(fmt.Sprint(a), fmt.Sprint(b)) })
	}
	return got
}

// TestAuditServeEndToEnd: `ova-lint serve --audit-interval` on the real apiserver, with the
// chart's report CRDs and the chart's least-privilege RBAC (the serve authenticates as the
// chart's service account): reports match `ova-lint audit`, follow a fix, drop stale reports,
// are not rewritten when nothing changed, and one of two replicas audits at a time.
func TestAuditServeEndToEnd(t *testing.T) {
	assets := requireControlPlane(t)
	c := startCluster(t, assets, e2eValues)
	ctx := context.Background()
	// The objects below exist before any webhook judges them: the audit is what finds them.
	require.NoError(t, c.client.Delete(ctx, &admissionregistrationv1.ValidatingWebhookConfiguration{ObjectMeta: metav1.ObjectMeta{Name: c.vwc.Name}}))
	c.chartObjects(t, "CustomResourceDefinition", "ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding")

	badKustomization := strings.NewReplacer("name: apps,", "name: apps-bad,", "prune: true", "prune: false", "interval: 10m", "interval: 1h").Replace(goodKustomization)
	for _, doc := range []string{goodKustomization, badKustomization, goodGitRepository, goodHelmRelease, plaintextSecret, esoSecret} {
		require.NoError(t, c.client.Create(ctx, obj(t, doc)))
	}
	admin := c.kubeconfigFor(t, envtest.User{Name: "e2e-audit-admin", Groups: []string{"system:masters"}})
	sa := c.kubeconfigFor(t, envtest.User{Name: auditServiceAccount})
	dyn, err := dynamic.NewForConfig(c.cfg)
	require.NoError(t, err)

	a := c.startAuditServe(t, false, "--audit-interval=2s", "--kubeconfig="+sa)

	t.Run("reports match ova-lint audit, object by object", func(t *testing.T) {
		want := c.auditFindings(t, admin)
		require.NotEmpty(t, want["Kustomization flux-system/apps-bad"], "the bad Kustomization has findings")
		require.NotEmpty(t, want["Secret apps/db"], "the plaintext Secret has findings")
		var reps map[string]*unstructured.Unstructured
		waitFor(t, 60*time.Second, func() (bool, string) {
			reps = reportsByScope(t, dyn)
			for k := range want {
				if reps[k] == nil {
					return false, "no report for " + k
				}
			}
			return reps["Kustomization flux-system/apps"] != nil, fmt.Sprintf("%d reports", len(reps))
		}, "the first run writes a report per object")
		for k, r := range reps {
			assert.Equal(t, want[k], violations(r), "report of %s", k)
		}
		assert.Empty(t, violations(reps["Kustomization flux-system/apps"]), "the clean Kustomization's report has passes only")
		summary, _, _ := unstructured.NestedMap(reps["Kustomization flux-system/apps"].Object, "summary")
		assert.Positive(t, summary["pass"], "passes are counted")
		raw, err := json.Marshal(reps)
		require.NoError(t, err)
		assert.NotContains(t, string(raw), "hunter2", "no Secret value in any report")
		// the run logs its summary after its last report write: the reports can be seen first
		var audit map[string]any
		waitFor(t, 30*time.Second, func() (bool, string) {
			audit = logLine(t, a.logs, "audit run")
			return audit != nil, "no audit run logged yet"
		}, "the first run logs its summary")
		require.NotNil(t, audit, a.logs.String())
		t.Logf("run summary: %v", audit)
	})

	t.Run("a report is owned by its object and named from its uid", func(t *testing.T) {
		k := &unstructured.Unstructured{}
		k.SetGroupVersionKind(schema.GroupVersionKind{Group: "kustomize.toolkit.fluxcd.io", Version: "v1", Kind: "Kustomization"})
		require.NoError(t, c.client.Get(ctx, client.ObjectKey{Namespace: "flux-system", Name: "apps-bad"}, k))
		r, err := dyn.Resource(reportsGVR).Namespace("flux-system").Get(ctx, report.Name(string(k.GetUID())), metav1.GetOptions{})
		require.NoError(t, err)
		require.Len(t, r.GetOwnerReferences(), 1)
		owner := r.GetOwnerReferences()[0]
		assert.Equal(t, metav1.OwnerReference{APIVersion: "kustomize.toolkit.fluxcd.io/v1", Kind: "Kustomization", Name: "apps-bad", UID: k.GetUID()}, owner)
		assert.Equal(t, string(k.GetUID()), fmt.Sprint(r.Object["scope"].(map[string]any)["uid"]))
		assert.Equal(t, "ova-lint", r.GetLabels()["app.kubernetes.io/managed-by"])
		if c.kubectl != nil {
			cache := "--cache-dir=" + t.TempDir()
			out, err := c.kubectlRun(t, "get", "reps", "-n", "flux-system", r.GetName(), "-o", "yaml", cache)
			require.NoError(t, err, out)
			t.Logf("kubectl get reps -n flux-system %s -o yaml:\n%s", r.GetName(), out)
			out, err = c.kubectlRun(t, "get", "reps", "-A", cache)
			require.NoError(t, err, out)
			t.Logf("kubectl get reps -A:\n%s", out)
		}
	})

	// stamp is the timestamp of a report's result for rule.
	stamp := func(r *unstructured.Unstructured, rule string) any {
		rs, _, _ := unstructured.NestedSlice(r.Object, "results")
		for _, x := range rs {
			if m := x.(map[string]any); m["policy"] == rule {
				return m["timestamp"]
			}
		}
		return nil
	}

	t.Run("a fixed object leaves its report's failures on the next run", func(t *testing.T) {
		warnedAt := stamp(reportsByScope(t, dyn)["Kustomization flux-system/apps-bad"], "sync-interval")
		require.NotNil(t, warnedAt)
		k := obj(t, strings.Replace(badKustomization, "prune: false", "prune: true", 1))
		existing := &unstructured.Unstructured{}
		existing.SetGroupVersionKind(k.GroupVersionKind())
		require.NoError(t, c.client.Get(ctx, client.ObjectKeyFromObject(k), existing))
		k.SetResourceVersion(existing.GetResourceVersion())
		require.NoError(t, c.client.Update(ctx, k))
		waitFor(t, 60*time.Second, func() (bool, string) {
			r := reportsByScope(t, dyn)["Kustomization flux-system/apps-bad"]
			if r == nil {
				return false, "no report"
			}
			v := violations(r)
			for _, x := range v {
				if x.Rule == "kustomization-prune" {
					return false, fmt.Sprint(v)
				}
			}
			return len(v) > 0, fmt.Sprint(v) // sync-interval (1h) still warns
		}, "kustomization-prune leaves the report")
		assert.Equal(t, warnedAt, stamp(reportsByScope(t, dyn)["Kustomization flux-system/apps-bad"], "sync-interval"),
			"the rewrite keeps the timestamp of a result that did not change")
	})

	t.Run("stale reports are deleted on the next run", func(t *testing.T) {
		// envtest runs no garbage collector: a deleted object's report goes through the
		// stale-report cleanup, as does a report for an object that never existed.
		stale := &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": "openreports.io/v1alpha1", "kind": "Report", "source": "ova-lint",
			"metadata": map[string]any{"name": report.Name("00000000-0000-0000-0000-000000000000"), "namespace": "apps",
				"labels": map[string]any{report.ManagedByLabel: report.Source}},
			"scope": map[string]any{"apiVersion": "v1", "kind": "ConfigMap", "namespace": "apps", "name": "gone"},
		}}
		_, err := dyn.Resource(reportsGVR).Namespace("apps").Create(ctx, stale, metav1.CreateOptions{})
		require.NoError(t, err)
		// A report on a kind the chart's role may not list (Services) is not known to be stale.
		unlisted := stale.DeepCopy()
		unlisted.SetName(report.Name("00000000-0000-0000-0000-000000000001"))
		unlisted.SetOwnerReferences([]metav1.OwnerReference{{APIVersion: "v1", Kind: "Service", Name: "api", UID: "00000000-0000-0000-0000-000000000001"}})
		unlisted.Object["scope"] = map[string]any{"apiVersion": "v1", "kind": "Service", "namespace": "apps", "name": "api"}
		_, err = dyn.Resource(reportsGVR).Namespace("apps").Create(ctx, unlisted, metav1.CreateOptions{})
		require.NoError(t, err)
		require.NoError(t, c.client.Delete(ctx, obj(t, plaintextSecret)))
		waitFor(t, 60*time.Second, func() (bool, string) {
			reps := reportsByScope(t, dyn)
			return reps["Secret apps/db"] == nil && reps["ConfigMap apps/gone"] == nil, fmt.Sprintf("%d reports", len(reps))
		}, "the deleted Secret's report and the orphan report are gone")
		assert.NotNil(t, reportsByScope(t, dyn)["Kustomization flux-system/apps"], "the others stay")
		assert.NotNil(t, reportsByScope(t, dyn)["Service apps/api"], "the report of a kind the audit could not list stays")
		// the run that deleted them logs its summary after its deletes
		waitFor(t, 30*time.Second, func() (bool, string) {
			kept := logLine(t, a.logs, "audit run")["kept"]
			return kept != nil && kept != float64(0), fmt.Sprintf("last run kept %v", kept)
		}, "the run that deleted them logs its summary")
		assert.EqualValues(t, 1, logLine(t, a.logs, "audit run")["kept"])
	})

	t.Run("a steady cluster makes no writes", func(t *testing.T) {
		before := map[string]string{}
		for k, r := range reportsByScope(t, dyn) {
			before[k] = r.GetResourceVersion()
		}
		delete(before, "Service apps/api") // kept, not audited
		runs := len(logLines(a.logs, "audit run"))
		waitFor(t, 60*time.Second, func() (bool, string) {
			n := len(logLines(a.logs, "audit run"))
			return n >= runs+2, fmt.Sprintf("%d runs", n-runs)
		}, "two more runs")
		last := logLine(t, a.logs, "audit run")
		for _, op := range []string{"created", "updated", "deleted", "failed"} {
			assert.EqualValues(t, 0, last[op], op)
		}
		assert.EqualValues(t, len(before), last["unchanged"])
		after := map[string]string{}
		for k, r := range reportsByScope(t, dyn) {
			after[k] = r.GetResourceVersion()
		}
		delete(after, "Service apps/api")
		assert.Equal(t, before, after, "no report was rewritten")
		skipped := logLines(a.logs, "kinds skipped: not audited, their reports kept")
		require.Len(t, skipped, 1, "the kinds the chart's role does not grant, once, not every run")
		assert.Positive(t, skipped[0]["count"])
		assert.Contains(t, skipped[0]["resources"], "services", "e.g. services: no rule looks at them")
		assert.NotContains(t, skipped[0]["resources"], "toolkit.fluxcd.io", "every Flux kind is listed")
		assert.Empty(t, logLines(a.logs, "kind skipped"), "not one line per kind and run")
	})

	t.Run("metrics", func(t *testing.T) {
		resp, err := http.Get("http://" + a.probe + "/metrics")
		require.NoError(t, err)
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		m := string(body)
		assert.Contains(t, m, `ova_lint_audit_violations{namespace="flux-system",rule="sync-interval",severity="warning"} 1`)
		assert.NotContains(t, m, `ova_lint_audit_violations{namespace="flux-system",rule="kustomization-prune"`, "reset each run: the fixed violation is gone")
		for _, name := range []string{"ova_lint_audit_duration_seconds_count", "ova_lint_audit_objects ", "ova_lint_audit_last_success_timestamp_seconds ", `ova_lint_audit_runs_total{result="success"}`, "ova_lint_audit_leader 1"} {
			assert.Contains(t, m, name)
		}
	})

	t.Run("two replicas: the Lease holder audits, the other takes over when it stops", func(t *testing.T) {
		b := c.startAuditServe(t, true, "--audit-interval=2s", "--kubeconfig="+sa)
		holder := func() string {
			l := &coordinationv1.Lease{}
			if err := c.client.Get(ctx, client.ObjectKey{Namespace: testNamespace, Name: auditLease}, l); err != nil || l.Spec.HolderIdentity == nil {
				return ""
			}
			return *l.Spec.HolderIdentity
		}
		waitFor(t, 30*time.Second, func() (bool, string) {
			return len(logLines(b.logs, "audit lease held by another replica")) > 0, b.logs.String()
		}, "the second replica sees the first hold the Lease")
		runs := len(logLines(a.logs, "audit run"))
		waitFor(t, 60*time.Second, func() (bool, string) {
			return len(logLines(a.logs, "audit run")) >= runs+2, "waiting for two runs of the first replica"
		}, "the first replica keeps auditing")
		assert.Equal(t, a.identity, holder())
		assert.Empty(t, logLines(b.logs, "audit run"), "the second replica does not audit while the first holds the Lease")
		assert.Empty(t, logLines(b.logs, "audit lease acquired: this replica audits"))

		a.stop()
		waitFor(t, 60*time.Second, func() (bool, string) {
			return holder() == b.identity && len(logLines(b.logs, "audit run")) > 0, "holder " + holder()
		}, "the second replica takes the Lease and audits")
		assert.NotEmpty(t, logLines(a.logs, "background audit stopped"))
	})

	t.Run("wgpolicyk8s PolicyReports, with the limits and what they dropped in the run summary", func(t *testing.T) {
		wg, err := renderChart(t, testRelease, testNamespace, e2eValues+"reports: {api: wgpolicyk8s}\n")
		require.NoError(t, err)
		var crds []*apiextensionsv1.CustomResourceDefinition
		for _, o := range wg.find("CustomResourceDefinition") {
			crd := &apiextensionsv1.CustomResourceDefinition{}
			raw, err := json.Marshal(o)
			require.NoError(t, err)
			require.NoError(t, json.Unmarshal(raw, crd))
			crds = append(crds, crd)
		}
		require.Len(t, crds, 2)

		w := c.startAuditServe(t, true, "--audit-interval=2s", "--kubeconfig="+admin, "--report-api=wgpolicyk8s",
			"--audit-lease=ova-lint-audit-wgpolicyk8s", "--audit-result-limit=2", "--audit-report-limit=3")
		// Without the CRDs, a run fails with what to do, and the next runs go on trying.
		waitFor(t, 60*time.Second, func() (bool, string) {
			failed := logLine(t, w.logs, "audit run failed")
			return failed != nil && strings.Contains(fmt.Sprint(failed["error"]), "policyreports.wgpolicyk8s.io are not served: install their CRDs"), w.logs.String()
		}, "a run without the report CRDs fails, saying so")
		_, err = envtest.InstallCRDs(c.cfg, envtest.CRDInstallOptions{CRDs: crds, MaxTime: crdWait})
		require.NoError(t, err)

		var run map[string]any
		waitFor(t, 60*time.Second, func() (bool, string) {
			run = logLine(t, w.logs, "audit run")
			return run != nil, w.logs.String()
		}, "a run with wgpolicyk8s reports")
		objects := int(run["objects"].(float64))
		require.Greater(t, objects, 3)
		assert.Equal(t, "WARN", run["level"], "dropping is a warning")
		assert.EqualValues(t, 3, run["reports"])
		assert.EqualValues(t, 3, run["report_limit"])
		assert.EqualValues(t, objects-3, run["reports_dropped"])
		assert.EqualValues(t, 2, run["result_limit"])
		assert.Positive(t, run["results_dropped"])

		polr := schema.GroupVersionResource{Group: "wgpolicyk8s.io", Version: "v1alpha2", Resource: "policyreports"}
		l, err := dyn.Resource(polr).List(ctx, metav1.ListOptions{LabelSelector: report.ManagedByLabel + "=" + report.Source})
		require.NoError(t, err)
		require.Len(t, l.Items, 3)
		openReports := reportsByScope(t, dyn)
		var hr bool
		for _, p := range l.Items {
			kind, _, _ := unstructured.NestedString(p.Object, "scope", "kind")
			ns, _, _ := unstructured.NestedString(p.Object, "scope", "namespace")
			name, _, _ := unstructured.NestedString(p.Object, "scope", "name")
			hr = hr || kind == "HelmRelease"
			rs, _, _ := unstructured.NestedSlice(p.Object, "results")
			assert.Len(t, rs, 2, "the result limit")
			for _, r := range rs {
				assert.Equal(t, "ova-lint", r.(map[string]any)["source"], "the v1alpha2 schema keeps a result's source")
			}
			or := openReports[kind+" "+ns+"/"+name]
			require.NotNil(t, or, "an OpenReports report for the same object")
			orResults, _, _ := unstructured.NestedSlice(or.Object, "results")
			for i := range rs {
				assert.Equal(t, orResults[i].(map[string]any)["policy"], rs[i].(map[string]any)["policy"], "the same results, failures first")
				assert.Equal(t, orResults[i].(map[string]any)["result"], rs[i].(map[string]any)["result"])
			}
			orSummary, _, _ := unstructured.NestedMap(or.Object, "summary")
			summary, _, _ := unstructured.NestedMap(p.Object, "summary")
			assert.Equal(t, orSummary, summary, "the summary counts every result, dropped or not")
			assert.Equal(t, fmt.Sprint(len(orResults)-2), p.GetAnnotations()[report.ResultsDroppedAnnotation])
		}
		assert.True(t, hr, "the HelmRelease (a flux-source-ref failure) is among the reports kept: failures first")
	})
}

// TestChartReportCRDsAreUpstream: the chart's OpenReports CRDs are the reports-api module's
// config/crd files (the version go.mod pins), with only Helm's keep annotation added.
func TestChartReportCRDsAreUpstream(t *testing.T) {
	cmd := exec.Command("go", "mod", "download", "-json", "github.com/openreports/reports-api")
	out, err := cmd.Output()
	require.NoError(t, err, "go mod download: %s", out)
	var info struct{ Dir, Error string }
	require.NoError(t, json.Unmarshal(out, &info))
	require.Empty(t, info.Error)
	r, err := renderChart(t, testRelease, testNamespace, "")
	require.NoError(t, err)
	crds := map[string]map[string]any{}
	for _, o := range r.find("CustomResourceDefinition") {
		crds[get(o, "metadata", "name").(string)] = o
	}
	require.Len(t, crds, 2)
	for name, file := range map[string]string{"reports.openreports.io": "openreports.io_reports.yaml", "clusterreports.openreports.io": "openreports.io_clusterreports.yaml"} {
		raw, err := os.ReadFile(filepath.Join(info.Dir, "config", "crd", file))
		require.NoError(t, err)
		var want map[string]any
		require.NoError(t, sigsyaml.Unmarshal(raw, &want))
		got := crds[name]
		require.NotNil(t, got, name)
		ann := get(got, "metadata", "annotations").(map[string]any)
		assert.Equal(t, "keep", ann["helm.sh/resource-policy"], "a CRD outlives the release: deleting it deletes every report")
		delete(ann, "helm.sh/resource-policy")
		assert.Equal(t, want, got, "%s is the module's %s", name, file)
	}
}

// TestChartAuditValues: what audit.enabled, reports.api and reports.installCRDs render, each
// variant linted by ova-lint as the chart test does.
func TestChartAuditValues(t *testing.T) {
	for _, tc := range []struct {
		name, values string
		crds         []string
		reportGroup  string // "" means no audit RBAC
		automount    bool
	}{
		{"defaults", "", []string{"clusterreports.openreports.io", "reports.openreports.io"}, "openreports.io", true},
		{"wgpolicyk8s", "reports: {api: wgpolicyk8s}", []string{"clusterpolicyreports.wgpolicyk8s.io", "policyreports.wgpolicyk8s.io"}, "wgpolicyk8s.io", true},
		{"CRDs from another tool", "reports: {installCRDs: false}", nil, "openreports.io", true},
		{"audit off", "audit: {enabled: false}", nil, "", false},
		{"no Secrets", "audit: {secrets: false}", []string{"clusterreports.openreports.io", "reports.openreports.io"}, "openreports.io", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := renderChart(t, testRelease, testNamespace, tc.values)
			require.NoError(t, err)
			var crds []string
			for _, o := range r.find("CustomResourceDefinition") {
				crds = append(crds, get(o, "metadata", "name").(string))
			}
			slices.Sort(crds)
			assert.Equal(t, tc.crds, crds)
			pod := get(r.one(t, "Deployment"), "spec", "template", "spec")
			assert.Equal(t, tc.automount, get(pod, "automountServiceAccountToken"))
			args := fmt.Sprint(get(pod, "containers", 0, "args"))
			if tc.reportGroup == "" {
				assert.Empty(t, r.find("ClusterRole"))
				assert.Empty(t, r.find("Role"))
				assert.NotContains(t, args, "--audit-interval")
			} else {
				assert.Contains(t, args, "--audit-interval=1h")
				assert.Contains(t, args, "--audit-result-limit=100")
				assert.Contains(t, args, "--audit-lease="+auditLease)
				rules := get(r.one(t, "ClusterRole"), "rules").([]any)
				var readsSecrets bool
				for _, rule := range rules {
					verbs := fmt.Sprint(get(rule, "verbs"))
					group := get(rule, "apiGroups", 0)
					if group == tc.reportGroup {
						assert.Equal(t, "[get list create update delete]", verbs, "write verbs on reports")
						continue
					}
					assert.Equal(t, "[get list]", verbs, "read-only on %v", group)
					assert.False(t, slices.Contains(get(rule, "resources").([]any), any("*")) && !strings.HasSuffix(group.(string), ".toolkit.fluxcd.io"),
						"a wildcard on Flux's groups only")
					readsSecrets = readsSecrets || slices.Contains(get(rule, "resources").([]any), any("secrets"))
				}
				assert.Equal(t, tc.name != "no Secrets", readsSecrets)
				lease := get(r.one(t, "Role"), "rules").([]any)
				assert.Equal(t, []any{auditLease}, get(lease, 1, "resourceNames"), "get/update on its own Lease only")
			}
			dir := t.TempDir()
			r.write(t, dir)
			var out, errOut bytes.Buffer
			code := cli.Run(context.Background(), []string{"lint", "--format", "text", dir}, cli.IO{Out: &out, Err: &errOut})
			assert.Equal(t, cli.ExitOK, code, "ova-lint lint:\n%s%s", out.String(), errOut.String())
			assert.Contains(t, out.String(), " 0 errors, 0 warnings")
		})
	}
}

// TestChartAuditRoleCoversTheRules: the audit's ClusterRole may list every kind a rule that
// runs at admission names (a new rule on a new kind needs the role to grow).
func TestChartAuditRoleCoversTheRules(t *testing.T) {
	eng, err := engine.New(context.Background(), engine.Options{})
	require.NoError(t, err)
	r, err := renderChart(t, testRelease, testNamespace, "")
	require.NoError(t, err)
	granted := map[string]bool{}
	for _, rule := range get(r.one(t, "ClusterRole"), "rules").([]any) {
		if !slices.Contains(get(rule, "verbs").([]any), any("list")) {
			continue
		}
		for _, res := range get(rule, "resources").([]any) {
			if res == "*" {
				for _, g := range get(rule, "apiGroups").([]any) {
					granted[g.(string)+"/*"] = true
				}
				continue
			}
			granted[res.(string)] = true
		}
	}
	// Every Flux group is read whole: the audit's graph rules need every Flux kind listed.
	fluxGroups := map[string]string{"GitRepository": "source.toolkit.fluxcd.io", "OCIRepository": "source.toolkit.fluxcd.io",
		"HelmRepository": "source.toolkit.fluxcd.io", "HelmChart": "source.toolkit.fluxcd.io", "Bucket": "source.toolkit.fluxcd.io",
		"ExternalArtifact": "source.toolkit.fluxcd.io", "ArtifactGenerator": "source.extensions.fluxcd.io",
		"Kustomization": "kustomize.toolkit.fluxcd.io", "HelmRelease": "helm.toolkit.fluxcd.io",
		"Alert": "notification.toolkit.fluxcd.io", "Provider": "notification.toolkit.fluxcd.io", "Receiver": "notification.toolkit.fluxcd.io",
		"ImageRepository": "image.toolkit.fluxcd.io", "ImagePolicy": "image.toolkit.fluxcd.io", "ImageUpdateAutomation": "image.toolkit.fluxcd.io"}
	for _, g := range []string{"source.toolkit.fluxcd.io", "kustomize.toolkit.fluxcd.io", "helm.toolkit.fluxcd.io",
		"notification.toolkit.fluxcd.io", "image.toolkit.fluxcd.io", "source.extensions.fluxcd.io"} {
		assert.True(t, granted[g+"/*"], "the audit lists every kind of %s", g)
	}
	for _, rule := range eng.Rules() {
		if !rule.RunsAt(engine.RunsAdmission) {
			continue
		}
		if rule.ID == "kubernetes-api-version" {
			// Its kinds are every kind with a deprecated or removed version: a removed version
			// cannot be stored, and the deprecated ones are judged on the kinds the audit reads
			// anyway. Granting list on every such kind (RBAC, storage, CSRs...) is not least
			// privilege.
			continue
		}
		for _, kind := range rule.Kinds {
			if g, ok := fluxGroups[kind]; ok {
				assert.True(t, granted[g+"/*"], "rule %s looks at %s", rule.ID, kind)
				continue
			}
			plural := strings.ToLower(kind) + "s"
			if strings.HasSuffix(plural, "ys") {
				plural = strings.TrimSuffix(plural, "ys") + "ies"
			}
			assert.True(t, granted[plural], "rule %s looks at %s: the audit's ClusterRole lists %s", rule.ID, kind, plural)
		}
	}
}
