package audit

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"sort"
	"strings"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"

	"github.com/openova-io/ova-lint/linter/config"
	"github.com/openova-io/ova-lint/linter/engine"
	"github.com/openova-io/ova-lint/linter/finding"
	"github.com/openova-io/ova-lint/linter/waiver"
	"github.com/openova-io/ova-lint/webhook"
)

// Defaults of Options.
const (
	DefaultQPS      float32 = 20
	DefaultBurst            = 40
	DefaultPageSize int64   = 500
	DefaultListers          = 4
)

// Options says what to audit and how.
type Options struct {
	// Config is the client-go configuration (kubeconfig and context resolved by the caller, or
	// in-cluster). It is copied: QPS, Burst and the request counter never change the caller's.
	Config *rest.Config
	// Namespaces limits the namespaced kinds to these namespaces; empty means all namespaces.
	// Cluster-scoped kinds are always audited.
	Namespaces []string
	// QPS and Burst are the client-side rate limits (0: DefaultQPS, DefaultBurst).
	QPS   float32
	Burst int
	// PageSize is the limit of one list request (limit/continue); 0: DefaultPageSize.
	PageSize int64

	// Engine and Rules are the webhook's: the engine built from Rules (the same configuration
	// file `ova-lint lint` and `ova-lint serve` read). Nil Rules means the embedded defaults; a
	// nil Engine is built from Rules.
	Engine *engine.Engine
	Rules  *config.Config
	// ExemptNamespaces are never audited, as at admission: kube-system always, plus these (the
	// webhook's own namespace and its --exempt-namespace values).
	ExemptNamespaces []string
	// Cluster names the cluster in the messages of the repo-scope rules (e.g. the kubeconfig
	// context); "" means "cluster".
	Cluster string
	// Workers evaluate objects in parallel; 0 means GOMAXPROCS.
	Workers int
	// Listers list kinds in parallel (each a page at a time, within QPS); 0 means
	// DefaultListers.
	Listers int
	// Now decides whether a waiver has expired; nil means time.Now.
	Now func() time.Time
	// Logger receives one line per skipped kind and per run; nil discards. Never object data.
	Logger *slog.Logger
}

// Object is one audited live object.
type Object struct {
	APIVersion, Kind, Namespace, Name string
	UID                               types.UID
}

// Skipped is a kind that could not be listed (e.g. RBAC forbidden), with the reason.
type Skipped struct {
	GroupVersionResource schema.GroupVersionResource
	Kind, Reason         string
}

// Result is the outcome of one audit.
type Result struct {
	// Findings have Kind, Namespace and Name set, File "" and Line 0, and Path the field path
	// ("spec.prune"). Sorted by kind, namespace, name, path and rule.
	Findings []finding.Finding
	// Objects are every object audited, violating or clean: reports are written for these.
	Objects []Object
	// Skipped are the kinds that could not be listed; the others were audited.
	Skipped []Skipped
	// Summary counts the objects (Documents), the kinds skipped (Skipped) and the findings by
	// severity; Live is set.
	Summary finding.Summary
	// Requests counts the API requests made: discovery, lists, the reads of objects written in
	// another version, and client-go's retries.
	Requests int
}

// Run audits the cluster opts.Config points at. An error means the audit could not be done
// (unreachable cluster, discovery failed, an engine error); a kind that cannot be listed is in
// Result.Skipped instead, and the others are audited.
func Run(ctx context.Context, opts Options) (*Result, error) {
	if opts.Config == nil {
		return nil, errors.New("audit: a client configuration is required")
	}
	opts = withDefaults(opts)
	cfg := opts.Rules
	if cfg == nil {
		var err error
		if cfg, err = config.Default(); err != nil {
			return nil, err
		}
	}
	eng := opts.Engine
	if eng == nil {
		var err error
		if eng, err = engine.New(ctx, engine.Options{Config: cfg}); err != nil {
			return nil, fmt.Errorf("audit: %w", err)
		}
	}
	scrubber, err := NewScrubber(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("audit: %w", err)
	}

	var requests counter
	rc := rest.CopyConfig(opts.Config)
	rc.QPS, rc.Burst = opts.QPS, opts.Burst
	rc.Wrap(requests.wrap)
	rc.WarningHandler = rest.NoWarnings{} // deprecation warnings of listed kinds are not news here
	if rc.UserAgent == "" {
		rc.UserAgent = "ova-lint-audit"
	}
	dc, err := discovery.NewDiscoveryClientForConfig(rc)
	if err != nil {
		return nil, fmt.Errorf("audit: discovery client: %w", err)
	}
	dyn, err := dynamic.NewForConfig(rc)
	if err != nil {
		return nil, fmt.Errorf("audit: client: %w", err)
	}
	targets, skipped, served, err := discover(dc)
	if err != nil {
		return nil, fmt.Errorf("audit: %w", err)
	}

	ev := &evaluator{engine: eng, cfg: cfg, exempt: map[string]bool{webhook.KubeSystem: true}, cluster: opts.Cluster, now: opts.Now()}
	for _, ns := range opts.ExemptNamespaces {
		if ns != "" {
			ev.exempt[ns] = true
		}
	}
	a := &run{ev: ev, waivers: map[objectKey]*waiver.Waiver{}}
	res := &Result{Skipped: skipped}
	complete := len(opts.Namespaces) == 0

	objects := make(chan map[string]any, 4*opts.Workers)
	gctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var wg sync.WaitGroup
	for range opts.Workers {
		wg.Go(func() {
			for obj := range objects {
				if gctx.Err() != nil {
					continue // drain: the lister stops at the cancellation
				}
				if err := a.audit(gctx, obj); err != nil {
					cancel(err)
				}
			}
		})
	}
	l := &lister{client: dyn, pageSize: opts.PageSize, namespaces: opts.Namespaces, scrubber: scrubber, logger: opts.Logger, served: served}
	refused, listErr := l.listAll(gctx, targets, opts.Listers, objects)
	res.Skipped = append(res.Skipped, refused...)
	wg.Wait()
	// A worker's error is the cause of the cancellation the lister then saw: report that one.
	if cause := context.Cause(gctx); cause != nil && !errors.Is(cause, context.Canceled) && !errors.Is(cause, context.DeadlineExceeded) {
		return nil, fmt.Errorf("audit: %w", cause)
	}
	if listErr != nil {
		return nil, listErr
	}
	for _, s := range res.Skipped {
		// a Flux kind not listed: a reference to it may be to an object that exists
		if strings.HasSuffix(s.GroupVersionResource.Group, ".toolkit.fluxcd.io") {
			complete = false
		}
	}

	repo, err := repoPass(ctx, eng, a.facts, complete, a.waivers)
	if err != nil {
		return nil, fmt.Errorf("audit: %w", err)
	}
	res.Findings = append(a.findings, repo...)
	res.Objects = a.objects
	sortFindings(res.Findings)
	sort.Slice(res.Objects, func(i, j int) bool { return objectLess(res.Objects[i], res.Objects[j]) })
	sort.SliceStable(res.Skipped, func(i, j int) bool {
		return res.Skipped[i].GroupVersionResource.String() < res.Skipped[j].GroupVersionResource.String()
	})
	res.Summary.Documents = len(res.Objects)
	res.Summary.Skipped = len(res.Skipped)
	res.Summary.Live = true
	res.Summary.Count(res.Findings)
	res.Requests = requests.Count()
	opts.Logger.LogAttrs(ctx, slog.LevelInfo, "audit done", slog.Int("objects", len(res.Objects)),
		slog.Int("errors", res.Summary.Errors), slog.Int("warnings", res.Summary.Warnings),
		slog.Int("skipped_kinds", len(res.Skipped)), slog.Int("requests", res.Requests))
	return res, nil
}

func withDefaults(opts Options) Options {
	if opts.QPS <= 0 {
		opts.QPS = DefaultQPS
	}
	if opts.Burst <= 0 {
		opts.Burst = DefaultBurst
	}
	if opts.PageSize <= 0 {
		opts.PageSize = DefaultPageSize
	}
	if opts.Listers <= 0 {
		opts.Listers = DefaultListers
	}
	if opts.Workers <= 0 {
		opts.Workers = runtime.GOMAXPROCS(0)
	}
	if opts.Cluster == "" {
		opts.Cluster = "cluster"
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	return opts
}

// run collects what the workers find.
type run struct {
	ev *evaluator

	mu       sync.Mutex
	findings []finding.Finding
	objects  []Object
	facts    []map[string]any
	waivers  map[objectKey]*waiver.Waiver
}

// audit evaluates one (scrubbed) object and records the verdict.
func (a *run) audit(ctx context.Context, obj map[string]any) error {
	text, err := objectText(obj)
	if err != nil {
		return err
	}
	v, err := a.ev.evaluate(ctx, obj, text)
	if err != nil || !v.checked {
		return err
	}
	u := unstructured.Unstructured{Object: obj}
	o := Object{APIVersion: u.GetAPIVersion(), Kind: u.GetKind(), Namespace: u.GetNamespace(), Name: u.GetName(), UID: u.GetUID()}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.objects = append(a.objects, o)
	a.findings = append(a.findings, v.findings...)
	a.facts = append(a.facts, v.facts...)
	if v.waiver != nil {
		a.waivers[objectKey{o.Kind, o.Namespace, o.Name}] = v.waiver
	}
	return nil
}

// sortFindings orders findings by object, field path and rule: every run prints the same order.
func sortFindings(fs []finding.Finding) {
	sort.SliceStable(fs, func(i, j int) bool {
		a, b := fs[i], fs[j]
		for _, c := range [][2]string{{a.Kind, b.Kind}, {a.Namespace, b.Namespace}, {a.Name, b.Name}, {a.Path, b.Path}, {a.Rule, b.Rule}, {a.Message, b.Message}} {
			if c[0] != c[1] {
				return c[0] < c[1]
			}
		}
		return false
	})
}

func objectLess(a, b Object) bool {
	for _, c := range [][2]string{{a.Kind, b.Kind}, {a.Namespace, b.Namespace}, {a.Name, b.Name}, {a.APIVersion, b.APIVersion}} {
		if c[0] != c[1] {
			return c[0] < c[1]
		}
	}
	return false
}
