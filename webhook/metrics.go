package webhook

import (
	"errors"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/openova-io/ova-lint/linter/engine"
)

// Metrics count what the webhook decided. controller-runtime's webhook server adds its own
// request, latency and in-flight metrics for the path the handler is served on.
type Metrics struct {
	reviews  *prometheus.CounterVec
	denials  *prometheus.CounterVec
	warnings *prometheus.CounterVec
}

// NewMetrics registers the webhook's counters with reg (or reuses them when they are already
// registered there). The per-rule series of every rule that
// runs at admission start at zero, so a dashboard sees each rule before its first denial.
func NewMetrics(reg prometheus.Registerer, rules []*engine.Rule) (*Metrics, error) {
	m := &Metrics{
		reviews: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ova_lint_admission_reviews_total",
			Help: "Admission reviews by operation and decision (allowed, warned, denied, skipped, error).",
		}, []string{"operation", "decision"}),
		denials: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ova_lint_admission_denials_total",
			Help: "Error findings that denied an admission request, by rule id.",
		}, []string{"rule"}),
		warnings: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ova_lint_admission_warnings_total",
			Help: "Findings returned as admission warnings, by rule id.",
		}, []string{"rule"}),
	}
	for _, c := range []**prometheus.CounterVec{&m.reviews, &m.denials, &m.warnings} {
		if err := reg.Register(*c); err != nil {
			// A second server in the same process (a restart in tests) shares the counters.
			var already prometheus.AlreadyRegisteredError
			if !errors.As(err, &already) {
				return nil, fmt.Errorf("register webhook metrics: %w", err)
			}
			existing, ok := already.ExistingCollector.(*prometheus.CounterVec)
			if !ok {
				return nil, fmt.Errorf("register webhook metrics: %w", err)
			}
			*c = existing
		}
	}
	for _, r := range rules {
		if r.RunsAt(engine.RunsAdmission) && !r.Disabled {
			m.denials.WithLabelValues(r.ID)
			m.warnings.WithLabelValues(r.ID)
		}
	}
	return m, nil
}

func (m *Metrics) review(operation, decision string) {
	if m == nil {
		return
	}
	m.reviews.WithLabelValues(operation, decision).Inc()
}

func (m *Metrics) observe(d Decision, decision string) {
	if m == nil {
		return
	}
	m.reviews.WithLabelValues(d.Operation, decision).Inc()
	for _, f := range d.Denials {
		m.denials.WithLabelValues(f.Rule).Inc()
	}
	for _, f := range d.Warnings {
		m.warnings.WithLabelValues(f.Rule).Inc()
	}
}
