package background

import (
	"errors"
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/openova-io/ova-lint/audit"
	"github.com/openova-io/ova-lint/audit/report"
)

// Metrics are the background audit's Prometheus metrics, each a view of the last run.
type Metrics struct {
	violations  *prometheus.GaugeVec
	duration    prometheus.Histogram
	objects     prometheus.Gauge
	lastSuccess prometheus.Gauge
	runs        *prometheus.CounterVec
	reports     *prometheus.GaugeVec
	dropped     *prometheus.GaugeVec
	skipped     prometheus.Gauge
	requests    prometheus.Gauge
	leader      prometheus.Gauge
}

// NewMetrics registers the audit's metrics with reg, or reuses those already registered there
// (a second server in the same process, as in tests).
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	var errs []error
	m := &Metrics{
		violations: register(reg, &errs, prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "ova_lint_audit_violations",
			Help: "Error and warning findings of the last audit, by rule, severity and namespace (\"\" for cluster-scoped objects); reset every run.",
		}, []string{"rule", "severity", "namespace"})),
		duration: register(reg, &errs, prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "ova_lint_audit_duration_seconds",
			Help:    "Wall time of one audit run: listing, evaluation and report writes.",
			Buckets: prometheus.ExponentialBuckets(0.25, 2, 14), // 0.25 s .. ~34 min
		})),
		objects: register(reg, &errs, prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "ova_lint_audit_objects",
			Help: "Objects audited by the last run.",
		})),
		lastSuccess: register(reg, &errs, prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "ova_lint_audit_last_success_timestamp_seconds",
			Help: "Unix time at which the last successful audit run ended.",
		})),
		runs: register(reg, &errs, prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ova_lint_audit_runs_total",
			Help: "Audit runs by result (success, error).",
		}, []string{"result"})),
		reports: register(reg, &errs, prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "ova_lint_audit_reports",
			Help: "Reports of the last run by operation (created, updated, unchanged, deleted, kept, failed).",
		}, []string{"operation"})),
		dropped: register(reg, &errs, prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "ova_lint_audit_dropped",
			Help: "What the limits left out of the last run: reports (report limit) and results (result limit).",
		}, []string{"what"})),
		skipped: register(reg, &errs, prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "ova_lint_audit_skipped_kinds",
			Help: "Kinds the last run could not list (e.g. RBAC forbids it); their reports are kept.",
		})),
		requests: register(reg, &errs, prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "ova_lint_audit_api_requests",
			Help: "API requests the last run's listing made (discovery and paged lists).",
		})),
		leader: register(reg, &errs, prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "ova_lint_audit_leader",
			Help: "1 while this replica holds the audit Lease, else 0.",
		})),
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("register audit metrics: %w", err)
	}
	m.runs.WithLabelValues("success")
	m.runs.WithLabelValues("error")
	return m, nil
}

// register registers c with reg and returns it, or returns the collector of the same type
// already registered under its name; a failure is appended to errs.
func register[T prometheus.Collector](reg prometheus.Registerer, errs *[]error, c T) T {
	err := reg.Register(c)
	if err == nil {
		return c
	}
	var already prometheus.AlreadyRegisteredError
	if errors.As(err, &already) {
		if existing, ok := already.ExistingCollector.(T); ok {
			return existing
		}
	}
	*errs = append(*errs, err)
	return c
}

// setLeader records whether this replica leads.
func (m *Metrics) setLeader(leading bool) {
	if m == nil {
		return
	}
	if leading {
		m.leader.Set(1)
	} else {
		m.leader.Set(0)
	}
}

// failed counts a run that did not complete.
func (m *Metrics) failed(d time.Duration) {
	if m == nil {
		return
	}
	m.runs.WithLabelValues("error").Inc()
	m.duration.Observe(d.Seconds())
}

// observe publishes a completed run.
func (m *Metrics) observe(res *audit.Result, set *report.Set, st report.Stats, d time.Duration, end time.Time) {
	if m == nil {
		return
	}
	m.violations.Reset()
	for _, f := range res.Findings {
		if f.Severity == "error" || f.Severity == "warning" {
			m.violations.WithLabelValues(f.Rule, f.Severity, f.Namespace).Inc()
		}
	}
	m.duration.Observe(d.Seconds())
	m.objects.Set(float64(len(res.Objects)))
	m.skipped.Set(float64(len(res.Skipped)))
	m.requests.Set(float64(res.Requests))
	for op, n := range map[string]int{"created": st.Created, "updated": st.Updated, "unchanged": st.Unchanged,
		"deleted": st.Deleted, "kept": st.Kept, "failed": st.Failed} {
		m.reports.WithLabelValues(op).Set(float64(n))
	}
	m.dropped.WithLabelValues("reports").Set(float64(set.DroppedReports))
	m.dropped.WithLabelValues("results").Set(float64(set.DroppedResults))
	m.runs.WithLabelValues("success").Inc()
	m.lastSuccess.Set(float64(end.UnixNano()) / 1e9)
}
