package webhook

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	admissionv1 "k8s.io/api/admission/v1"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/openova-io/ova-lint/linter/config"
	"github.com/openova-io/ova-lint/linter/engine"
	"github.com/openova-io/ova-lint/linter/finding"
	"github.com/openova-io/ova-lint/linter/input"
	"github.com/openova-io/ova-lint/linter/waiver"
)

// DefaultEvalTimeout bounds one evaluation. The apiserver gives up after the webhook's
// timeoutSeconds (at most 5 s in the chart) anyway.
const DefaultEvalTimeout = 4 * time.Second

// Options configure a Handler.
type Options struct {
	// Engine evaluates the rules; it must have been built with Config.
	Engine *engine.Engine
	// Config is the same configuration the CLI reads (environments, params).
	Config *config.Config
	// Namespace is the webhook's own namespace: never checked.
	Namespace string
	// ExemptNamespaces are never checked, in addition to kube-system and Namespace.
	ExemptNamespaces []string
	// Metrics, when not nil, count reviews, denials and warnings per rule.
	Metrics *Metrics
	// Logger receives one line per review; nil discards.
	Logger *slog.Logger
	// EvalTimeout bounds one evaluation; 0 means DefaultEvalTimeout.
	EvalTimeout time.Duration
	// Now decides whether a waiver has expired; nil means time.Now.
	Now func() time.Time
}

// Handler is the admission.Handler that runs the linter's engine. It is safe for concurrent use
// and holds no state that changes after NewHandler.
type Handler struct {
	engine *engine.Engine
	// admission are the packages of the enabled rules that run at admission: the only ones
	// evaluated (the others' findings and every rule's facts would be thrown away).
	admission []string
	cfg       *config.Config
	exempt    map[string]bool
	metrics   *Metrics
	log       *slog.Logger
	timeout   time.Duration
	now       func() time.Time
	workers   *workers
}

var _ admission.Handler = (*Handler)(nil)

// NewHandler returns a Handler for opts.
func NewHandler(opts Options) (*Handler, error) {
	if opts.Engine == nil {
		return nil, errors.New("webhook handler: an engine is required")
	}
	if opts.Config == nil {
		return nil, errors.New("webhook handler: a config is required")
	}
	h := &Handler{
		engine:  opts.Engine,
		cfg:     opts.Config,
		exempt:  map[string]bool{KubeSystem: true},
		metrics: opts.Metrics,
		log:     opts.Logger,
		timeout: opts.EvalTimeout,
		now:     opts.Now,
		workers: newWorkers(),
	}
	for _, r := range opts.Engine.Rules() {
		if r.RunsAt(engine.RunsAdmission) && !r.Disabled {
			h.admission = append(h.admission, r.Package)
		}
	}
	if opts.Namespace != "" {
		h.exempt[opts.Namespace] = true
	}
	for _, ns := range opts.ExemptNamespaces {
		if ns != "" {
			h.exempt[ns] = true
		}
	}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	if h.timeout <= 0 {
		h.timeout = DefaultEvalTimeout
	}
	if h.now == nil {
		h.now = time.Now
	}
	return h, nil
}

// Finding is one violation found at admission: the CLI's finding without a file position, plus
// the field path it is about.
type Finding struct {
	finding.Finding
	// Field is the dotted field path ("spec.interval", "spec.containers[0].env[1].value").
	Field string `json:"field,omitempty"`
	// Preexisting marks an error the stored object already had (UPDATE): not blocking.
	Preexisting bool `json:"preexisting,omitempty"`
}

// Decision is the verdict on one AdmissionReview.
type Decision struct {
	// Checked is false when the object is outside what the webhook guards; Reason says why.
	Checked bool
	Reason  string
	// Operation, Kind, Namespace and Name identify the request.
	Operation, Kind, Namespace, Name string
	// Denials are the error findings that block the request; Warnings the warning findings and
	// the pre-existing errors of an UPDATE; Infos the info findings (logged and counted only).
	Denials, Warnings, Infos []Finding
}

// Allowed reports whether the request may proceed.
func (d Decision) Allowed() bool { return len(d.Denials) == 0 }

// Handle implements admission.Handler.
func (h *Handler) Handle(ctx context.Context, req admission.Request) admission.Response {
	start := time.Now()
	d, err := h.Review(ctx, req)
	if err != nil {
		h.metrics.review(string(req.Operation), "error")
		attrs := append(requestAttrs(req, d), slog.Duration("duration", time.Since(start)), slog.String("error", err.Error()))
		h.log.LogAttrs(ctx, slog.LevelError, "review failed", attrs...)
		return admission.Errored(http.StatusInternalServerError, err)
	}
	resp := d.Response()
	verdict := outcome(d)
	h.metrics.observe(d, verdict)
	// Denials and warnings are news; clean and skipped reviews are debug lines.
	level := slog.LevelDebug
	if len(d.Denials) > 0 || len(d.Warnings) > 0 {
		level = slog.LevelInfo
	}
	if h.log.Enabled(ctx, level) {
		attrs := append(requestAttrs(req, d), slog.String("decision", verdict), slog.Duration("duration", time.Since(start)))
		if d.Reason != "" {
			attrs = append(attrs, slog.String("reason", d.Reason))
		}
		if ids := ruleIDs(d.Denials); len(ids) > 0 {
			attrs = append(attrs, slog.Any("denied_by", ids))
		}
		if ids := ruleIDs(d.Warnings); len(ids) > 0 {
			attrs = append(attrs, slog.Any("warned_by", ids))
		}
		h.log.LogAttrs(ctx, level, "admission review", attrs...)
	}
	return resp
}

// requestAttrs identify a request in logs: never object data.
func requestAttrs(req admission.Request, d Decision) []slog.Attr {
	return []slog.Attr{
		slog.String("uid", string(req.UID)),
		slog.String("operation", string(req.Operation)),
		slog.String("kind", req.Kind.Kind),
		slog.String("namespace", req.Namespace),
		slog.String("name", d.Name),
		slog.Bool("dry_run", req.DryRun != nil && *req.DryRun),
	}
}

// outcome names a decision for logs and metrics: skipped, allowed, warned or denied.
func outcome(d Decision) string {
	switch {
	case !d.Checked:
		return "skipped"
	case len(d.Denials) > 0:
		return "denied"
	case len(d.Warnings) > 0:
		return "warned"
	}
	return "allowed"
}

func ruleIDs(fs []Finding) []string {
	var ids []string
	seen := map[string]bool{}
	for _, f := range fs {
		if !seen[f.Rule] {
			seen[f.Rule] = true
			ids = append(ids, f.Rule)
		}
	}
	return ids
}

// Review decides on one request without writing a response: what Handle returns, as data.
func (h *Handler) Review(ctx context.Context, req admission.Request) (Decision, error) {
	d := Decision{Operation: string(req.Operation), Kind: req.Kind.Kind, Namespace: req.Namespace, Name: req.Name}
	switch req.Operation {
	case admissionv1.Create, admissionv1.Update:
	default:
		d.Reason = "operation " + string(req.Operation) + " is never blocked"
		return d, nil
	}
	if h.exempt[req.Namespace] {
		d.Reason = "namespace " + req.Namespace + " is exempt"
		return d, nil
	}
	obj, err := decodeObject(req.Object.Raw)
	if err != nil {
		return d, fmt.Errorf("decode %s %s: %w", req.Kind.Kind, requestName(req), err)
	}
	if d.Name == "" {
		_, _, d.Name = input.Identity(obj)
	}
	md, _ := obj["metadata"].(map[string]any)
	labels, _ := md["labels"].(map[string]any)
	switch {
	case IsFluxKind(req.Kind.Group, req.Kind.Kind):
	case !AppliedByFlux(labels):
		d.Reason = "not a Flux object and not applied by Flux"
		return d, nil
	case req.Kind.Group == "" && req.Kind.Kind == "Secret":
		if why := ControllerSecret(obj); why != "" {
			d.Reason = why
			return d, nil
		}
	}
	d.Checked = true
	found, err := h.evaluate(ctx, req, obj, req.Object.Raw, h.admission)
	if err != nil {
		return d, err
	}
	var old map[findingKey]bool
	switch errs := h.errorPackages(found); {
	case req.Operation != admissionv1.Update || len(errs) == 0 || len(req.OldObject.Raw) == 0:
	case bytes.Equal(req.OldObject.Raw, req.Object.Raw):
		// The stored object is this object (a no-op apply, Flux's dry-run drift check): its
		// input would be this input, so every finding is pre-existing.
		old = make(map[findingKey]bool, len(found))
		for _, f := range found {
			old[key(f)] = true
		}
	default:
		oldObj, err := decodeObject(req.OldObject.Raw)
		if err != nil {
			return d, fmt.Errorf("decode the stored %s %s: %w", req.Kind.Kind, requestName(req), err)
		}
		// The stored object's findings only mark a new error as pre-existing: only the rules
		// that found errors in the new object need to run on it.
		before, err := h.evaluate(ctx, req, oldObj, req.OldObject.Raw, errs)
		if err != nil {
			return d, err
		}
		old = make(map[findingKey]bool, len(before))
		for _, f := range before {
			old[key(f)] = true
		}
	}
	for _, f := range found {
		switch f.Severity {
		case config.SeverityError:
			if old[key(f)] {
				f.Preexisting = true
				d.Warnings = append(d.Warnings, f)
				continue
			}
			d.Denials = append(d.Denials, f)
		case config.SeverityWarning:
			d.Warnings = append(d.Warnings, f)
		default:
			d.Infos = append(d.Infos, f)
		}
	}
	return d, nil
}

// key identifies a finding across the old and the new object of an UPDATE.
func key(f Finding) findingKey {
	return findingKey{rule: f.Rule, message: f.Message, field: f.Field}
}

// findingKey identifies a finding across the old and the new object of an UPDATE.
type findingKey struct{ rule, message, field string }

// errorPackages returns the rule packages of the error findings among fs (none: nil).
func (h *Handler) errorPackages(fs []Finding) []string {
	var pkgs []string
	for _, f := range fs {
		if f.Severity != config.SeverityError {
			continue
		}
		if r := h.engine.Rule(f.Rule); r != nil && !slices.Contains(pkgs, r.Package) {
			pkgs = append(pkgs, r.Package)
		}
	}
	return pkgs
}

func requestName(req admission.Request) string {
	if req.Namespace != "" {
		return req.Namespace + "/" + req.Name
	}
	return req.Name
}

// evaluate runs the engine on obj (raw is its JSON text, the admission door's input.source.text),
// applies the object's waiver annotation as the CLI does, and
// keeps the violations of rules that run at admission. Only the rule packages named in packages
// are evaluated (engine.EvalRules).
func (h *Handler) evaluate(ctx context.Context, req admission.Request, obj map[string]any, raw []byte, packages []string) ([]Finding, error) {
	md, _ := obj["metadata"].(map[string]any)
	labels, _ := md["labels"].(map[string]any)
	src := input.Source{
		Text:      string(raw),
		Operation: string(req.Operation),
		Namespace: req.Namespace,
		User:      req.UserInfo.Username,
		DryRun:    req.DryRun != nil && *req.DryRun,
		Origin:    admissionOrigin(labels),
	}
	in, err := input.ObjectInput(h.cfg, obj, src, nil)
	if err != nil {
		return nil, err
	}
	// Detached from the request: a shutting-down server drains reviews instead of failing them.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), h.timeout)
	defer cancel()
	var res engine.Result
	if werr := h.workers.do(ctx, func() { res, err = h.engine.EvalRules(ctx, in, packages) }); werr != nil {
		return nil, fmt.Errorf("wait for an evaluation worker: %w", werr)
	}
	if err != nil {
		return nil, err
	}
	kind, ns, name := input.Identity(obj)
	if ns == "" {
		ns = req.Namespace
	}
	if name == "" {
		name = req.Name
	}
	var out []Finding
	for _, v := range waiver.Admission(h.engine, obj, res.Violations, h.now()) {
		if !v.Rule.RunsAt(engine.RunsAdmission) {
			continue
		}
		out = append(out, NewFinding(v, kind, ns, name))
	}
	return out, nil
}

// NewFinding turns an engine violation on an object into a Finding: the same rule, severity and
// message as the CLI's finding, with the field path instead of a file position.
func NewFinding(v engine.Violation, kind, namespace, name string) Finding {
	src := v.Rule.SourceText()
	sev := v.Rule.Severity
	if v.Severity != "" {
		sev = v.Severity // a violation may raise or lower its rule's severity, as in the CLI
	}
	return Finding{
		Finding: finding.Finding{
			Rule: v.Rule.ID, Severity: sev,
			Kind: kind, Namespace: namespace, Name: name,
			Message: finding.Compose(v.Message, v.Fix, src),
			Problem: v.Message, Fix: v.Fix, Source: src,
		},
		Field: FieldPath(v.Path),
	}
}

// FieldPath renders a violation's path as a dotted field path: ["spec","env",0,"value"] is
// "spec.env[0].value".
func FieldPath(path []any) string {
	var b strings.Builder
	for _, p := range path {
		switch x := p.(type) {
		case string:
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			b.WriteString(x)
		case json.Number:
			b.WriteString("[" + x.String() + "]")
		case float64:
			b.WriteString("[" + strconv.FormatFloat(x, 'f', -1, 64) + "]")
		case int:
			b.WriteString("[" + strconv.Itoa(x) + "]")
		case int64:
			b.WriteString("[" + strconv.FormatInt(x, 10) + "]")
		default:
			fmt.Fprintf(&b, "[%v]", x)
		}
	}
	return b.String()
}
