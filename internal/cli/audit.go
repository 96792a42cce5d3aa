package cli

import (
	"fmt"
	"os"
	"runtime/debug"
	"runtime/pprof"
	"strings"

	"github.com/spf13/cobra"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/openova-io/ova-lint/audit"
	"github.com/openova-io/ova-lint/internal/command"
	"github.com/openova-io/ova-lint/linter/config"
	"github.com/openova-io/ova-lint/linter/engine"
	"github.com/openova-io/ova-lint/linter/finding"
	"github.com/openova-io/ova-lint/linter/report"
)

// Client-side limits of `ova-lint audit`: kubectl's (a one-off command, like kubectl get). The
// background audit in serve keeps the audit package's gentler defaults.
const (
	auditQPS   = 50
	auditBurst = 300
)

// GC settings of `ova-lint audit` when GOGC / GOMEMLIMIT are not set: the evaluation's garbage
// is high and its live heap small (~25 MiB at 10,000 objects); collecting earlier keeps the
// peak RSS near the binary's own pages plus that (hack/auditbench).
const (
	auditGCPercent   = 50
	auditMemoryLimit = 48 << 20
)

type auditFlags struct {
	command.CommonFlags
	kubeconfig, context string
	namespaces          []string
	allNamespaces       bool
	qps                 float32
	burst               int
	pageSize            int64
	exemptNamespaces    []string
	formats             []string
	verbose             bool
	color, failOn       string
	cpuProfile          string
	memProfile          string
}

func newAuditCmd(streams IO) *cobra.Command {
	var f auditFlags
	cmd := &cobra.Command{
		Use:   "audit",
		Short: "Lint the objects already stored in a cluster (what the webhook guards)",
		Long: "Audit a cluster: list the objects the admission webhook guards (Flux's custom resources, and the\n" +
			"objects Flux's controllers applied: their kustomize.toolkit.fluxcd.io/name or\n" +
			"helm.toolkit.fluxcd.io/name label) and evaluate them with the same engine, configuration and\n" +
			"scope as `ova-lint serve`, plus the repo-scope rules that run on live objects (single-gitea,\n" +
			"flux-depends-on, flux-source-ref). A finding names `Kind namespace/name: field.path`.\n" +
			"Secret values are dropped as soon as an object is read; they reach no output.\n\n" +
			"A kind the credentials may not list is reported as skipped on standard error, and the others\n" +
			"are audited. Exit status as for lint: 0 clean, 1 findings at --fail-on, 2 for a usage error or a\n" +
			"cluster that cannot be reached.\n\n" +
			"Formats (" + strings.Join(report.Formats(), ", ") + "): --format NAME or NAME=FILE, repeatable.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runAudit(cmd, streams, &f)
		},
	}
	f.Register(cmd)
	fl := cmd.Flags()
	fl.Lookup("config").Usage = "configuration file, the webhook's (default: " + config.FileName + " found from the working directory upward, else the embedded defaults)"
	fl.StringVar(&f.kubeconfig, "kubeconfig", "", "kubeconfig file (default $KUBECONFIG or ~/.kube/config; in a pod, the service account)")
	fl.StringVar(&f.context, "context", "", "kubeconfig context (default the current context)")
	fl.StringArrayVarP(&f.namespaces, "namespace", "n", nil, "audit namespaced kinds in this namespace only (repeatable; cluster-scoped kinds are always audited)")
	fl.BoolVarP(&f.allNamespaces, "all-namespaces", "A", false, "audit every namespace (the default without -n)")
	fl.Float32Var(&f.qps, "qps", auditQPS, "client-side limit of API requests per second")
	fl.IntVar(&f.burst, "burst", auditBurst, "client-side burst of API requests")
	fl.Int64Var(&f.pageSize, "page-size", audit.DefaultPageSize, "objects per list request (limit/continue)")
	fl.StringArrayVar(&f.exemptNamespaces, "exempt-namespace", nil, "namespace never audited, besides kube-system, as the webhook's --exempt-namespace (repeatable)")
	fl.StringArrayVarP(&f.formats, "format", "f", []string{"text"}, "output format NAME or NAME=FILE (repeatable): "+strings.Join(report.Formats(), ", "))
	fl.BoolVarP(&f.verbose, "verbose", "v", false, "also list info-severity findings in text output")
	fl.StringVar(&f.color, "color", "auto", "colour text output: auto, always, never")
	fl.StringVar(&f.failOn, "fail-on", report.FailOnError, "exit 1 on findings of this severity or worse: error, warning, never")
	fl.StringVar(&f.cpuProfile, "cpuprofile", "", "write a CPU profile of the run to this file (go tool pprof)")
	fl.StringVar(&f.memProfile, "memprofile", "", "write a heap profile at the end of the run to this file (go tool pprof)")
	_ = fl.MarkHidden("cpuprofile")
	_ = fl.MarkHidden("memprofile")
	return cmd
}

func runAudit(cmd *cobra.Command, streams IO, f *auditFlags) error {
	ctx := cmd.Context()
	stopProfile, err := command.StartCPUProfile(f.cpuProfile)
	if err != nil {
		return err
	}
	defer stopProfile()
	if f.memProfile != "" {
		defer func() {
			if out, err := os.Create(f.memProfile); err == nil {
				_ = pprof.Lookup("allocs").WriteTo(out, 0)
				out.Close()
			}
		}()
	}
	if os.Getenv("GOGC") == "" {
		defer debug.SetGCPercent(debug.SetGCPercent(auditGCPercent))
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		defer debug.SetMemoryLimit(debug.SetMemoryLimit(auditMemoryLimit))
	}
	outs, err := parseOutputs(f.formats)
	if err != nil {
		return err
	}
	if f.allNamespaces && len(f.namespaces) > 0 {
		return command.Usage("-A and -n exclude each other")
	}
	switch f.failOn {
	case report.FailOnError, report.FailOnWarning, report.FailOnNever:
	default:
		return command.Usage("--fail-on %q: want error, warning or never", f.failOn)
	}
	if f.qps <= 0 || f.burst <= 0 || f.pageSize <= 0 {
		return command.Usage("--qps, --burst and --page-size must be positive")
	}
	cfg, err := f.Load(".")
	if err != nil {
		return err
	}
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	rules.ExplicitPath = f.kubeconfig
	kc := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{CurrentContext: f.context})
	restCfg, err := kc.ClientConfig()
	if err != nil {
		return command.Usage("kubeconfig: %v", err)
	}
	cluster := f.context
	if cluster == "" {
		if raw, err := kc.RawConfig(); err == nil {
			cluster = raw.CurrentContext
		}
	}
	eng, err := engine.New(ctx, engine.Options{PolicyDirs: f.PolicyDirs, Config: cfg})
	if err != nil {
		return command.Usage("%v", err)
	}
	res, err := audit.Run(ctx, audit.Options{
		Config: restCfg, Namespaces: f.namespaces,
		QPS: f.qps, Burst: f.burst, PageSize: f.pageSize,
		Engine: eng, Rules: cfg, ExemptNamespaces: f.exemptNamespaces, Cluster: cluster,
	})
	if err != nil {
		return err // exit 2: the cluster could not be audited
	}
	for _, s := range res.Skipped {
		what := s.GroupVersionResource.String()
		if s.Kind != "" {
			what = s.Kind + " (" + what + ")"
		}
		fmt.Fprintf(streams.Err, "ova-lint: skipped %s: %s\n", what, s.Reason)
	}
	rep := &finding.Report{Findings: res.Findings, Summary: res.Summary}
	if rep.Findings == nil {
		rep.Findings = []finding.Finding{}
	}
	colour := f.color == "always" || (f.color == "auto" && streams.IsTerminal && os.Getenv("NO_COLOR") == "")
	for _, o := range outs {
		opts := report.Options{Verbose: f.verbose, Rules: eng.Rules(), ToolVersion: command.VersionString(), FailOn: f.failOn}
		if err := writeOutput(streams.Out, o, rep, opts, colour); err != nil {
			return err
		}
	}
	if report.Failed(rep.Summary, f.failOn) {
		return command.ExitError{Code: ExitFindings}
	}
	return nil
}
