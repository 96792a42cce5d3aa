// Package serve is the `serve` command: the rules that run at admission as a validating
// admission webhook, and the in-cluster audit on the replica that holds the audit Lease. Both
// binaries carry it: ova-lint, and ova-lint-webhook, which carries nothing else and so maps a
// fraction of ova-lint's pages.
package serve

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime/debug"
	"strings"
	"time"

	"github.com/go-logr/logr"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/spf13/cobra"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"
	crmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"

	"github.com/openova-io/ova-lint/internal/command"
	"github.com/openova-io/ova-lint/linter/config"
	"github.com/openova-io/ova-lint/linter/engine"
	"github.com/openova-io/ova-lint/webhook"
	"github.com/openova-io/ova-lint/webhook/server"
)

// GC settings of `ova-lint serve` when GOGC / GOMEMLIMIT are not set.
const (
	serveGCPercent = 400
	// 32 MiB: under load the live heap is ~8-11 MiB and the runtime's other memory (GC
	// metadata, stacks, profiling buckets) ~9 MiB, now that evaluations run on a few workers'
	// stacks (webhook/workers.go): on every connection's goroutine they held ~8 MiB of stacks
	// at 50 connections, and under 32 MiB the collector ran back to back. RSS adds ~31 MiB of
	// the binary's pages: ~59 MiB at 2,000 reviews/s (make loadtest).
	serveMemoryLimit = 32 << 20
)

type serveFlags struct {
	command.CommonFlags
	host, certDir, certName, keyName string
	port                             int
	path, probeAddr                  string
	namespace                        string
	exemptNamespaces                 []string
	shutdownDelay, shutdownTimeout   time.Duration
	evalTimeout, certPollInterval    time.Duration
	enableHTTP2                      bool
	logLevel, logFormat              string
	cpuProfile                       string
	maxRequestBytes, maxInFlight     int64
	audit                            serveAuditFlags
}

// NewCommand returns the serve command.
func NewCommand(streams command.IO) *cobra.Command {
	var f serveFlags
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Serve the rules as a validating admission webhook (TLS, /healthz, /readyz, /metrics)",
		Long: "Serve the rules that run at admission as a validating admission webhook, with the same engine\n" +
			"and configuration file as `ova-lint lint`. Error findings deny the request, warnings come back as\n" +
			"admission warnings. TLS is read from --cert-dir and reloaded when the files change; probes and\n" +
			"Prometheus metrics are served over plain HTTP on --probe-addr. SIGTERM turns /readyz off and\n" +
			"closes each connection after its next answer for --shutdown-delay, then stops accepting\n" +
			"connections and answers every review already accepted. A body over --max-request-bytes gets\n" +
			"413; the bodies read and evaluated at once stay within --max-in-flight-bytes (the memory),\n" +
			"others wait up to the apiserver's timeout, then get 429. Only JSON bodies are read.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runServe(cmd, streams, &f)
		},
	}
	f.Register(cmd)
	fl := cmd.Flags()
	fl.StringVar(&f.host, "host", "", "address the webhook listens on (default all)")
	fl.IntVar(&f.port, "port", server.DefaultPort, "port of the TLS webhook listener")
	fl.StringVar(&f.path, "path", server.DefaultPath, "URL path of the validating webhook")
	fl.StringVar(&f.certDir, "cert-dir", "/tls", "directory holding the serving certificate and key (reloaded on change)")
	fl.StringVar(&f.certName, "cert-name", server.DefaultCertName, "certificate file name in --cert-dir")
	fl.StringVar(&f.keyName, "key-name", server.DefaultKeyName, "key file name in --cert-dir")
	fl.DurationVar(&f.certPollInterval, "cert-poll-interval", 10*time.Second, "re-read the certificate this often besides file events")
	fl.StringVar(&f.probeAddr, "probe-addr", server.DefaultProbeAddr, "plain-HTTP address of /healthz, /readyz and /metrics")
	fl.StringVar(&f.namespace, "namespace", os.Getenv("POD_NAMESPACE"), "the webhook's own namespace, never checked (default $POD_NAMESPACE)")
	fl.StringArrayVar(&f.exemptNamespaces, "exempt-namespace", nil, "namespace never checked, besides kube-system and --namespace (repeatable)")
	fl.DurationVar(&f.shutdownDelay, "shutdown-delay", 0, "how long /readyz fails before the listener closes on SIGTERM")
	fl.DurationVar(&f.shutdownTimeout, "shutdown-timeout", server.DefaultShutdownTimeout, "longest drain of in-flight reviews")
	fl.DurationVar(&f.evalTimeout, "eval-timeout", webhook.DefaultEvalTimeout, "longest evaluation of one review")
	fl.BoolVar(&f.enableHTTP2, "enable-http2", false, "offer HTTP/2 on the webhook listener")
	fl.Int64Var(&f.maxRequestBytes, "max-request-bytes", server.DefaultMaxRequestBytes, "largest AdmissionReview accepted, in bytes (larger: 413); at most the default")
	fl.Int64Var(&f.maxInFlight, "max-in-flight-bytes", server.DefaultMaxInFlightBytes, "request bytes read and evaluated at once (memory: evaluating takes up to ~5x); others wait, then 429")
	fl.StringVar(&f.logLevel, "log-level", "info", "debug, info, warn or error (debug-4 and below add controller-runtime's per-request lines)")
	fl.StringVar(&f.logFormat, "log-format", "json", "json or text")
	fl.StringVar(&f.cpuProfile, "cpuprofile", "", "write a CPU profile of the whole run, until it stops, to this file (go tool pprof)")
	_ = fl.MarkHidden("cpuprofile")
	f.audit.register(fl)
	return cmd
}

func runServe(cmd *cobra.Command, streams command.IO, f *serveFlags) error {
	ctx := cmd.Context()
	stopProfile, err := command.StartCPUProfile(f.cpuProfile)
	if err != nil {
		return err
	}
	defer stopProfile()
	logger, err := newLogger(streams.Err, f.logLevel, f.logFormat)
	if err != nil {
		return command.Usage("%v", err)
	}
	// controller-runtime logs through logr: send it to the same structured log. Its per-request
	// lines are at V(5) and quote response messages; "debug" is V(4), so they never show.
	ctrllog.SetLogger(logr.FromSlogHandler(logger.Handler()))
	// The webhook's live heap is small (~5 MiB) and its garbage high (~30 KiB per review): with
	// Go's default pacing it collects ~15 times a second at 2,000 reviews/s. Collect less often,
	// and let a soft memory limit bound the footprint instead (chart/README.md, "Sizing").
	// GOGC and GOMEMLIMIT in the environment win (the chart sets GOMEMLIMIT).
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(serveGCPercent)
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(serveMemoryLimit)
	}

	cfg, err := f.Load(".")
	if err != nil {
		return serveNotReady(ctx, logger, f.probeAddr, err)
	}
	eng, err := engine.New(ctx, engine.Options{PolicyDirs: f.PolicyDirs, Config: cfg})
	if err != nil {
		return command.Usage("%v", err)
	}
	source := cfg.Source
	if source == "" {
		source = "embedded defaults"
	}
	logRules(logger, eng.Rules(), source, cfg.Params)

	reg := crmetrics.Registry
	for _, c := range []prometheus.Collector{collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{})} {
		if err := reg.Register(c); err != nil {
			var already prometheus.AlreadyRegisteredError
			if !errors.As(err, &already) {
				return fmt.Errorf("register runtime metrics: %w", err)
			}
		}
	}
	metrics, err := webhook.NewMetrics(reg, eng.Rules())
	if err != nil {
		return err
	}
	h, err := webhook.NewHandler(webhook.Options{
		Engine: eng, Config: cfg, Namespace: f.namespace, ExemptNamespaces: f.exemptNamespaces,
		Metrics: metrics, Logger: logger, EvalTimeout: f.evalTimeout,
	})
	if err != nil {
		return err
	}
	srv, err := server.New(server.Options{
		Handler: h, Path: f.path, Host: f.host, Port: f.port,
		CertDir: f.certDir, CertName: f.certName, KeyName: f.keyName, CertPollInterval: f.certPollInterval,
		ProbeAddr: f.probeAddr, Gatherer: reg,
		ShutdownDelay: f.shutdownDelay, ShutdownTimeout: f.shutdownTimeout,
		EnableHTTP2: f.enableHTTP2, Logger: logger,
		MaxRequestBytes: f.maxRequestBytes, MaxInFlightBytes: f.maxInFlight,
	})
	if err != nil {
		return command.Usage("%v", err)
	}
	stopAudit, err := startAudit(ctx, f, logger, reg, eng, cfg)
	if err != nil {
		return err
	}
	defer stopAudit()
	if err := srv.Run(ctx); err != nil {
		logger.Error("webhook stopped", slog.String("error", err.Error()))
		return command.ExitError{Code: command.ExitFindings}
	}
	return nil
}

// serveNotReady keeps a webhook whose configuration does not load alive but never ready: it
// logs every problem with its key path, serves /healthz and a failing /readyz, and returns the
// error when ctx ends. With the chart's maxUnavailable 0, a rollout of a bad ConfigMap stops at
// its first new pod and the old pods keep serving the good configuration.
func serveNotReady(ctx context.Context, logger *slog.Logger, probeAddr string, cause error) error {
	var cerr *config.Error
	problems := 1
	if errors.As(cause, &cerr) {
		problems = len(cerr.Problems)
		for _, p := range cerr.Problems {
			attrs := []any{slog.String("key", p.Path), slog.String("file", p.File), slog.Int("line", p.Line),
				slog.Int("column", p.Column), slog.String("problem", p.Message)}
			if p.Suggestion != "" {
				attrs = append(attrs, slog.String("suggestion", p.Suggestion))
			}
			logger.Error("invalid configuration", attrs...)
		}
	} else {
		logger.Error("configuration does not load", slog.String("error", cause.Error()))
	}
	reg := prometheus.NewRegistry()
	g := prometheus.NewGauge(prometheus.GaugeOpts{Name: "ova_lint_config_problems", Help: "Problems found in the configuration at start-up; the webhook is never ready while there are any."})
	g.Set(float64(problems))
	reg.MustRegister(g)
	nr, err := server.NewNotReady(probeAddr, cause, reg)
	if err != nil {
		return command.Usage("%v", err)
	}
	logger.Error("not becoming ready: fix the configuration and roll out again; the pods serving the previous configuration keep serving", slog.Int("problems", problems))
	if err := nr.Run(ctx, logger); err != nil {
		return err
	}
	return command.Usage("%v", cause)
}

// logRules says at start-up which rules decide at admission and which are CLI-only, so nothing
// is skipped silently.
func logRules(logger *slog.Logger, rules []*engine.Rule, source string, params map[string]any) {
	var admission, cliOnly, disabled []string
	for _, r := range rules {
		switch {
		case r.Disabled:
			disabled = append(disabled, r.ID)
		case r.RunsAt(engine.RunsAdmission):
			admission = append(admission, r.ID)
		default:
			cliOnly = append(cliOnly, r.ID)
		}
	}
	logger.Info("rules loaded", slog.String("config", source),
		slog.String("admission", strings.Join(admission, ",")),
		slog.String("cli_only", strings.Join(cliOnly, ",")),
		slog.String("disabled", strings.Join(disabled, ",")))
	for _, r := range rules {
		if r.Scope != engine.ScopeRepo || !r.RunsAt(engine.RunsAdmission) || r.Disabled {
			continue
		}
		if r.ID == "single-gitea" && giteaHost(params) == "" {
			logger.Warn("repo-scope rule has no facts at admission: set params.gitea.host to the Sovereign's Gitea to check it per object", slog.String("rule", r.ID))
			continue
		}
		logger.Info("repo-scope rule runs per object at admission on the facts config supplies", slog.String("rule", r.ID))
	}
}

func giteaHost(params map[string]any) string {
	g, _ := params["gitea"].(map[string]any)
	h, _ := g["host"].(string)
	return h
}

func newLogger(w io.Writer, level, format string) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level %q: %w", level, err)
	}
	opts := &slog.HandlerOptions{Level: l}
	switch format {
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("--log-format %q: want json or text", format)
}
