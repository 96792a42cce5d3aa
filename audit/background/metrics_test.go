package background

import (
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/client-go/rest"

	"github.com/openova-io/ova-lint/audit"
	"github.com/openova-io/ova-lint/audit/report"
	"github.com/openova-io/ova-lint/linter/finding"
)

func TestMetricsResetEachRun(t *testing.T) {
	reg := prometheus.NewRegistry()
	m, err := NewMetrics(reg)
	require.NoError(t, err)
	again, err := NewMetrics(reg)
	require.NoError(t, err, "a second server in the process reuses the registered metrics")
	assert.Same(t, m.violations, again.violations)

	end := time.Unix(1795770000, 0)
	first := &audit.Result{
		Objects: make([]audit.Object, 3),
		Findings: []finding.Finding{
			{Rule: "kustomization-prune", Severity: "error", Namespace: "apps"},
			{Rule: "kustomization-prune", Severity: "error", Namespace: "apps"},
			{Rule: "sync-interval", Severity: "warning", Namespace: "flux-system"},
			{Rule: "schema", Severity: "info", Namespace: "apps"},
		},
		Requests: 12,
	}
	m.observe(first, &report.Set{DroppedReports: 1, DroppedResults: 7}, report.Stats{Created: 2, Unchanged: 1}, 3*time.Second, end)
	want := `
# HELP ova_lint_audit_violations Error and warning findings of the last audit, by rule, severity and namespace ("" for cluster-scoped objects); reset every run.
# TYPE ova_lint_audit_violations gauge
ova_lint_audit_violations{namespace="apps",rule="kustomization-prune",severity="error"} 2
ova_lint_audit_violations{namespace="flux-system",rule="sync-interval",severity="warning"} 1
`
	require.NoError(t, testutil.GatherAndCompare(reg, strings.NewReader(want), "ova_lint_audit_violations"))
	assert.InDelta(t, 1795770000, testutil.ToFloat64(m.lastSuccess), 0.001)
	assert.Equal(t, 3.0, testutil.ToFloat64(m.objects))
	assert.Equal(t, 7.0, testutil.ToFloat64(m.dropped.WithLabelValues("results")))
	assert.Equal(t, 2.0, testutil.ToFloat64(m.reports.WithLabelValues("created")))

	// The violation is fixed: its series goes with the next run; a failed run changes nothing.
	m.observe(&audit.Result{Objects: make([]audit.Object, 3), Findings: first.Findings[2:3]}, &report.Set{}, report.Stats{Unchanged: 3}, time.Second, end.Add(time.Hour))
	m.failed(time.Second)
	want = `
# HELP ova_lint_audit_violations Error and warning findings of the last audit, by rule, severity and namespace ("" for cluster-scoped objects); reset every run.
# TYPE ova_lint_audit_violations gauge
ova_lint_audit_violations{namespace="flux-system",rule="sync-interval",severity="warning"} 1
`
	require.NoError(t, testutil.GatherAndCompare(reg, strings.NewReader(want), "ova_lint_audit_violations"))
	assert.Equal(t, 2.0, testutil.ToFloat64(m.runs.WithLabelValues("success")))
	assert.Equal(t, 1.0, testutil.ToFloat64(m.runs.WithLabelValues("error")))
	assert.InDelta(t, 1795773600, testutil.ToFloat64(m.lastSuccess), 0.001, "a failed run is not a success")
	families, err := reg.Gather()
	require.NoError(t, err)
	var observed uint64
	for _, f := range families {
		if f.GetName() == "ova_lint_audit_duration_seconds" {
			observed = f.GetMetric()[0].GetHistogram().GetSampleCount()
		}
	}
	assert.EqualValues(t, 3, observed, "every run's duration, failed ones too")
}

func TestNewRejectsIncompleteOptions(t *testing.T) {
	for _, tc := range []struct {
		opts Options
		want string
	}{
		{Options{}, "a client configuration is required"},
		{Options{Config: &rest.Config{Host: "https://127.0.0.1:1"}}, "the interval must be positive"},
		{Options{Config: &rest.Config{Host: "https://127.0.0.1:1"}, Interval: time.Hour}, "the Lease namespace is required"},
		{Options{Config: &rest.Config{Host: "https://127.0.0.1:1"}, Interval: time.Hour, LeaseNamespace: "ova-lint", Report: report.Options{API: "policy"}}, `report API "policy"`},
	} {
		_, err := New(tc.opts)
		assert.ErrorContains(t, err, tc.want)
	}
	a, err := New(Options{Config: &rest.Config{Host: "https://127.0.0.1:1"}, Interval: time.Hour, LeaseNamespace: "ova-lint"})
	require.NoError(t, err)
	assert.NotEmpty(t, a.Identity())
}
