package background

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/uuid"
	coordinationv1 "k8s.io/client-go/kubernetes/typed/coordination/v1"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/leaderelection"
	"k8s.io/client-go/tools/leaderelection/resourcelock"

	"github.com/openova-io/ova-lint/audit"
	"github.com/openova-io/ova-lint/audit/report"
)

// Defaults of Options: controller-runtime's leader-election timings.
const (
	DefaultLeaseName     = "ova-lint-audit"
	DefaultLeaseDuration = 15 * time.Second
	DefaultRenewDeadline = 10 * time.Second
	DefaultRetryPeriod   = 2 * time.Second
	// Report writes have their own client-side limits, apart from the audit's lists.
	reportQPS   = 50
	reportBurst = 100
)

// Options configure the background audit.
type Options struct {
	// Config reaches the cluster (in-cluster or a kubeconfig); required.
	Config *rest.Config
	// Interval is the time between the start of one run and the next; required.
	Interval time.Duration
	// Audit says what to audit (its Config is set from Config).
	Audit audit.Options
	// Report says how to build the reports (API, limits, the rules for passes).
	Report report.Options
	// LeaseNamespace and LeaseName name the Lease the replicas compete for; LeaseNamespace is
	// required, LeaseName defaults to DefaultLeaseName.
	LeaseNamespace, LeaseName string
	// Identity is this replica's name in the Lease; "" means $POD_NAME (else the host name)
	// followed by a random suffix.
	Identity string
	// LeaseDuration, RenewDeadline and RetryPeriod are the leader-election timings; zero means
	// the defaults.
	LeaseDuration, RenewDeadline, RetryPeriod time.Duration
	// Metrics receive each run's outcome; nil publishes nothing.
	Metrics *Metrics
	// Logger receives one line per run and per leadership change; nil discards.
	Logger *slog.Logger
}

// Auditor is the background audit of one replica.
type Auditor struct {
	opts    Options
	leases  coordinationv1.CoordinationV1Interface
	reports report.Clients
	log     *slog.Logger
	// skipped are the kinds the last run could not list, logged again only when they change.
	skipped string
}

// New checks opts and makes the clients.
func New(opts Options) (*Auditor, error) {
	switch {
	case opts.Config == nil:
		return nil, errors.New("background audit: a client configuration is required")
	case opts.Interval <= 0:
		return nil, errors.New("background audit: the interval must be positive")
	case opts.LeaseNamespace == "":
		return nil, errors.New("background audit: the Lease namespace is required (--namespace or $POD_NAMESPACE)")
	}
	if _, err := report.ParseAPI(string(cmp.Or(opts.Report.API, report.OpenReports))); err != nil {
		return nil, fmt.Errorf("background audit: %w", err)
	}
	opts.LeaseName = cmp.Or(opts.LeaseName, DefaultLeaseName)
	opts.LeaseDuration = cmp.Or(opts.LeaseDuration, DefaultLeaseDuration)
	opts.RenewDeadline = cmp.Or(opts.RenewDeadline, DefaultRenewDeadline)
	opts.RetryPeriod = cmp.Or(opts.RetryPeriod, DefaultRetryPeriod)
	if opts.Identity == "" {
		host := os.Getenv("POD_NAME")
		if host == "" {
			host, _ = os.Hostname()
		}
		opts.Identity = host + "_" + string(uuid.NewUUID())
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	opts.Audit.Config = opts.Config
	if opts.Audit.Logger == nil {
		// The audit's per-kind and per-run lines are summed up in the run's line here; its
		// errors still show.
		opts.Audit.Logger = slog.New(minLevel{opts.Logger.Handler(), slog.LevelError})
	}

	lc := rest.CopyConfig(opts.Config)
	lc.UserAgent = "ova-lint-audit-leader-election"
	// the Lease's typed client only, not the clientset of every API group
	leases, err := coordinationv1.NewForConfig(lc)
	if err != nil {
		return nil, fmt.Errorf("background audit: lease client: %w", err)
	}
	rc := rest.CopyConfig(opts.Config)
	rc.QPS, rc.Burst, rc.UserAgent = reportQPS, reportBurst, "ova-lint-audit-reports"
	reports, err := report.NewClients(rc)
	if err != nil {
		return nil, fmt.Errorf("background audit: %w", err)
	}
	return &Auditor{opts: opts, leases: leases, reports: reports,
		log: opts.Logger.With(slog.String("identity", opts.Identity))}, nil
}

// Identity is this replica's name in the Lease.
func (a *Auditor) Identity() string { return a.opts.Identity }

// Run competes for the Lease until ctx ends; while this replica holds it, it audits at once and
// then every Interval. Losing the Lease stops the run in progress and rejoins the competition;
// ending ctx releases the Lease, so another replica takes over without waiting for it to expire.
// The audit runs on Run's goroutine: one replica never runs two audits at once.
func (a *Auditor) Run(ctx context.Context) {
	for ctx.Err() == nil {
		leads := make(chan context.Context, 1)
		le, err := leaderelection.NewLeaderElector(leaderelection.LeaderElectionConfig{
			Lock: &resourcelock.LeaseLock{
				LeaseMeta:  metav1.ObjectMeta{Namespace: a.opts.LeaseNamespace, Name: a.opts.LeaseName},
				Client:     a.leases,
				LockConfig: resourcelock.ResourceLockConfig{Identity: a.opts.Identity},
			},
			LeaseDuration:   a.opts.LeaseDuration,
			RenewDeadline:   a.opts.RenewDeadline,
			RetryPeriod:     a.opts.RetryPeriod,
			ReleaseOnCancel: true,
			Name:            a.opts.LeaseName,
			Callbacks: leaderelection.LeaderCallbacks{
				OnStartedLeading: func(lctx context.Context) { leads <- lctx },
				OnStoppedLeading: func() { a.opts.Metrics.setLeader(false) },
				OnNewLeader: func(id string) {
					if id != a.opts.Identity {
						a.log.Info("audit lease held by another replica", slog.String("leader", id))
					}
				},
			},
		})
		if err != nil { // a bad configuration only: the timings are checked in New
			a.log.Error("background audit off", slog.String("error", err.Error()))
			return
		}
		elected := make(chan struct{})
		go func() {
			defer close(elected)
			le.Run(ctx) // returns when ctx ends or the Lease is lost
		}()
		lead := func(lctx context.Context) {
			a.log.Info("audit lease acquired: this replica audits", slog.String("lease", a.opts.LeaseNamespace+"/"+a.opts.LeaseName))
			a.opts.Metrics.setLeader(true)
			a.loop(lctx)
		}
		select {
		case lctx := <-leads:
			lead(lctx)
			<-elected
		case <-elected:
			select {
			case lctx := <-leads: // elected and lost at once: lctx is done already
				lead(lctx)
			default:
			}
		}
		if ctx.Err() == nil {
			a.log.Warn("audit lease lost; competing again")
		}
	}
	a.log.Info("background audit stopped")
}

// loop audits now and then every Interval until ctx ends.
func (a *Auditor) loop(ctx context.Context) {
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		start := time.Now()
		if err := a.RunOnce(ctx); err != nil && ctx.Err() == nil {
			a.log.Error("audit run failed", slog.String("error", err.Error()), slog.Duration("duration", time.Since(start)))
		}
		t.Reset(max(0, a.opts.Interval-time.Since(start)))
	}
}

// RunOnce audits, builds the reports and writes them, and publishes the outcome.
func (a *Auditor) RunOnce(ctx context.Context) error {
	start := time.Now()
	res, err := audit.Run(ctx, a.opts.Audit)
	if err != nil {
		a.opts.Metrics.failed(time.Since(start))
		return err
	}
	ropts := a.opts.Report
	ropts.Now = time.Now()
	set, err := report.Build(res, ropts)
	if err != nil {
		a.opts.Metrics.failed(time.Since(start))
		return err
	}
	st, err := report.Sync(ctx, a.reports, set, report.SyncOptions{Namespaces: a.opts.Audit.Namespaces, Logger: a.log})
	if err != nil {
		a.opts.Metrics.failed(time.Since(start))
		return fmt.Errorf("write reports: %w", err)
	}
	end := time.Now()
	a.opts.Metrics.observe(res, set, st, end.Sub(start), end)
	a.logSkipped(ctx, res.Skipped)
	attrs := []slog.Attr{
		slog.Int("objects", len(res.Objects)), slog.Int("errors", res.Summary.Errors), slog.Int("warnings", res.Summary.Warnings),
		slog.Int("skipped_kinds", len(res.Skipped)), slog.Int("requests", res.Requests),
		slog.String("report_api", string(set.API)), slog.Int("reports", set.Len()),
		slog.Int("created", st.Created), slog.Int("updated", st.Updated), slog.Int("unchanged", st.Unchanged),
		slog.Int("deleted", st.Deleted), slog.Int("kept", st.Kept), slog.Int("failed", st.Failed),
		slog.Int("report_limit", cmp.Or(ropts.ReportLimit, report.DefaultReportLimit)), slog.Int("reports_dropped", set.DroppedReports),
		slog.Int("result_limit", cmp.Or(ropts.ResultLimit, report.DefaultResultLimit)), slog.Int("results_dropped", set.DroppedResults),
		slog.Int("reports_truncated", set.TruncatedReports),
		slog.Duration("duration", end.Sub(start)),
	}
	level := slog.LevelInfo
	if set.DroppedReports > 0 || set.DroppedResults > 0 || st.Failed > 0 {
		level = slog.LevelWarn
	}
	a.log.LogAttrs(ctx, level, "audit run", attrs...)
	return nil
}

// logSkipped names the kinds the run could not list (with the chart's least-privilege role,
// every kind no rule looks at) when they differ from the last run's: one line, not one per kind
// and run.
func (a *Auditor) logSkipped(ctx context.Context, skipped []audit.Skipped) {
	kinds := make([]string, 0, len(skipped))
	for _, s := range skipped {
		kinds = append(kinds, s.GroupVersionResource.GroupResource().String())
	}
	list := strings.Join(kinds, ",")
	if list == a.skipped {
		return
	}
	a.skipped = list
	if len(skipped) == 0 {
		a.log.InfoContext(ctx, "every kind is listed")
		return
	}
	a.log.WarnContext(ctx, "kinds skipped: not audited, their reports kept", slog.Int("count", len(skipped)),
		slog.String("resources", list), slog.String("first_reason", skipped[0].Reason))
}

// minLevel passes on the records at or above level only.
type minLevel struct {
	slog.Handler
	level slog.Level
}

func (h minLevel) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= h.level && h.Handler.Enabled(ctx, l)
}

func (h minLevel) WithAttrs(attrs []slog.Attr) slog.Handler {
	return minLevel{h.Handler.WithAttrs(attrs), h.level}
}

func (h minLevel) WithGroup(name string) slog.Handler {
	return minLevel{h.Handler.WithGroup(name), h.level}
}
