package serve

import (
	"context"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/go-logr/logr"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/spf13/pflag"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/klog/v2"

	"github.com/openova-io/ova-lint/audit"
	"github.com/openova-io/ova-lint/audit/background"
	"github.com/openova-io/ova-lint/audit/report"
	"github.com/openova-io/ova-lint/internal/command"
	"github.com/openova-io/ova-lint/linter/config"
	"github.com/openova-io/ova-lint/linter/engine"
)

// serveAuditFlags are the background audit's flags of `ova-lint serve`.
type serveAuditFlags struct {
	interval                 time.Duration
	resultLimit, reportLimit int
	reportAPI, lease         string
	kubeconfig               string
}

func (a *serveAuditFlags) register(fl *pflag.FlagSet) {
	fl.DurationVar(&a.interval, "audit-interval", 0, "audit the cluster this often on the replica holding the audit Lease and write one report per object (0: off)")
	fl.StringVar(&a.reportAPI, "report-api", string(report.OpenReports), "reports the audit writes: openreports (openreports.io/v1alpha1) or wgpolicyk8s (wgpolicyk8s.io/v1alpha2)")
	fl.IntVar(&a.resultLimit, "audit-result-limit", report.DefaultResultLimit, "results kept per report (failures first); the summary counts all")
	fl.IntVar(&a.reportLimit, "audit-report-limit", report.DefaultReportLimit, "reports written per audit run (objects with failures first)")
	fl.StringVar(&a.lease, "audit-lease", background.DefaultLeaseName, "name of the Lease in --namespace that elects the replica that audits")
	fl.StringVar(&a.kubeconfig, "kubeconfig", "", "kubeconfig file the audit uses (default: the pod's service account)")
}

// startAudit starts the background audit when --audit-interval is set and returns the function
// that stops it (releasing the Lease). Bad flags are a usage error; a cluster configuration that
// cannot be loaded turns the audit off with an error line, and admission is served regardless.
func startAudit(ctx context.Context, f *serveFlags, logger *slog.Logger, reg prometheus.Registerer, eng *engine.Engine, cfg *config.Config) (stop func(), err error) {
	a := f.audit
	if a.interval <= 0 {
		return func() {}, nil
	}
	api, err := report.ParseAPI(a.reportAPI)
	if err != nil {
		return nil, command.Usage("--report-api: %v", err)
	}
	if a.resultLimit <= 0 || a.reportLimit <= 0 {
		return nil, command.Usage("--audit-result-limit and --audit-report-limit must be positive")
	}
	log := logger.With(slog.String("component", "audit"))
	var rc *rest.Config
	if a.kubeconfig != "" {
		rc, err = clientcmd.BuildConfigFromFlags("", a.kubeconfig)
	} else {
		rc, err = rest.InClusterConfig()
	}
	if err != nil {
		log.Error("background audit off: no cluster configuration (in a pod: mount the service account token)", slog.String("error", err.Error()))
		return func() {}, nil
	}
	// client-go's leader election logs through klog: into the same structured log.
	klog.SetLogger(logr.FromSlogHandler(log.Handler()))
	metrics, err := background.NewMetrics(reg)
	if err != nil {
		return nil, err
	}
	var rules []*engine.Rule
	for _, r := range eng.Rules() {
		if r.RunsAt(engine.RunsAdmission) && !r.Disabled {
			rules = append(rules, r)
		}
	}
	exempt := slices.DeleteFunc(append([]string{f.namespace}, f.exemptNamespaces...), func(s string) bool { return s == "" })
	aud, err := background.New(background.Options{
		Config:         rc,
		Interval:       a.interval,
		Audit:          audit.Options{Engine: eng, Rules: cfg, ExemptNamespaces: exempt},
		Report:         report.Options{API: api, ResultLimit: a.resultLimit, ReportLimit: a.reportLimit, Rules: rules},
		LeaseNamespace: f.namespace,
		LeaseName:      a.lease,
		Metrics:        metrics,
		Logger:         log,
	})
	if err != nil {
		return nil, command.Usage("%v", err)
	}
	log.Info("background audit on", slog.Duration("interval", a.interval), slog.String("report_api", string(api)),
		slog.String("lease", f.namespace+"/"+a.lease), slog.String("identity", aud.Identity()))
	actx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	var wg sync.WaitGroup
	wg.Go(func() { aud.Run(actx) })
	go func() { // the serve context's end (SIGTERM) stops the audit and releases the Lease at once
		select {
		case <-ctx.Done():
			cancel()
		case <-actx.Done():
		}
	}()
	return func() { cancel(); wg.Wait() }, nil
}
