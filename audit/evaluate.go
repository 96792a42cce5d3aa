package audit

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/openova-io/ova-lint/linter/config"
	"github.com/openova-io/ova-lint/linter/engine"
	"github.com/openova-io/ova-lint/linter/finding"
	"github.com/openova-io/ova-lint/linter/input"
	"github.com/openova-io/ova-lint/linter/waiver"
	"github.com/openova-io/ova-lint/webhook"
)

// liveRepoRules are the packages of the repo-scope rules that can run on live objects: their
// facts are kept from each object's evaluation, and their violations from the repo pass.
var liveRepoRules = map[string]bool{
	"single_gitea":    true,
	"flux_depends_on": true,
	"flux_source_ref": true,
}

// evaluator judges one live object as the admission webhook judges it on CREATE: the same
// scope (webhook.IsFluxKind, webhook.AppliedByFlux, webhook.ControllerSecret, exempt
// namespaces), the same engine and configuration, the same input.origin (producer admission,
// applied_by from Flux's labels), the waiver annotation applied as at admission, and only the
// rules that run at admission. It also keeps the facts of the live repo-scope rules.
type evaluator struct {
	engine  *engine.Engine
	cfg     *config.Config
	exempt  map[string]bool
	cluster string
	now     time.Time
}

// verdict is the evaluation of one object.
type verdict struct {
	// checked is false for an object outside what the webhook guards; reason says why.
	checked  bool
	reason   string
	findings []finding.Finding
	facts    []map[string]any
	// waiver is the object's valid, unexpired waiver annotation, for the repo pass.
	waiver *waiver.Waiver
}

// outOfScope says why the webhook would not check obj, or "" when it would.
func (e *evaluator) outOfScope(obj map[string]any) string {
	_, ns, _ := input.Identity(obj)
	if e.exempt[ns] {
		return "namespace " + ns + " is exempt"
	}
	md, _ := obj["metadata"].(map[string]any)
	labels, _ := md["labels"].(map[string]any)
	apiVersion, _ := obj["apiVersion"].(string)
	kind, _ := obj["kind"].(string)
	group := ""
	if i := strings.IndexByte(apiVersion, '/'); i >= 0 {
		group = apiVersion[:i]
	}
	switch {
	case webhook.IsFluxKind(group, kind):
	case !webhook.AppliedByFlux(labels):
		return "not a Flux object and not applied by Flux"
	case group == "" && kind == "Secret":
		return webhook.ControllerSecret(obj)
	}
	return ""
}

// evaluate judges obj (scrubbed already); text is its JSON text (input.source.text).
func (e *evaluator) evaluate(ctx context.Context, obj map[string]any, text string) (verdict, error) {
	if why := e.outOfScope(obj); why != "" {
		return verdict{reason: why}, nil
	}
	md, _ := obj["metadata"].(map[string]any)
	labels, _ := md["labels"].(map[string]any)
	kind, ns, name := input.Identity(obj)
	src := input.Source{
		Text:      text,
		Operation: "CREATE",
		Namespace: ns,
		// The cluster is the tree of the live repo-scope rules: single-gitea groups by it.
		Root: e.cluster,
		Origin: map[string]any{
			"producer":   "admission",
			"applied_by": webhook.AppliedBy(labels),
			"cluster":    e.cluster,
		},
	}
	in, err := input.ObjectInput(e.cfg, obj, src, nil)
	if err != nil {
		return verdict{}, fmt.Errorf("%s %s: %w", kind, objectName(ns, name), err)
	}
	res, err := e.engine.Eval(ctx, in)
	if err != nil {
		return verdict{}, fmt.Errorf("%s %s: %w", kind, objectName(ns, name), err)
	}
	v := verdict{checked: true}
	for _, x := range waiver.Admission(e.engine, obj, res.Violations, e.now) {
		if !x.Rule.RunsAt(engine.RunsAdmission) {
			continue
		}
		v.findings = append(v.findings, liveFinding(webhook.NewFinding(x, kind, ns, name)))
	}
	for _, rf := range res.Facts {
		if !liveRepoRules[rf.Pkg] {
			continue
		}
		f, err := rf.Map()
		if err != nil {
			return verdict{}, fmt.Errorf("%s %s: %w", kind, objectName(ns, name), err)
		}
		path, _ := f["path"].([]any)
		at := map[string]any{"kind": kind, "namespace": ns, "name": name, "path": webhook.FieldPath(path)}
		out := make(map[string]any, len(f)+1)
		for k, x := range f {
			out[k] = x
		}
		out["at"] = at
		v.facts = append(v.facts, out)
	}
	if _, ok, _ := waiver.AnnotationValue(obj); ok {
		if w, err := waiver.FromObject(e.engine, obj); err == nil && !w.Expired(e.now) {
			v.waiver = w
		}
	}
	return v, nil
}

// liveFinding is a webhook finding as the audit reports it: no file, the field path in Path.
func liveFinding(f webhook.Finding) finding.Finding {
	out := f.Finding
	out.File, out.Line, out.Column = "", 0, 0
	out.Path = f.Field
	return out
}

// objectName is "namespace/name", or "name" for a cluster-scoped object.
func objectName(ns, name string) string {
	if ns == "" {
		return name
	}
	return ns + "/" + name
}

// objectText is the JSON text of an object, input.source.text at admission.
func objectText(obj map[string]any) (string, error) {
	b, err := json.Marshal(obj)
	if err != nil {
		return "", fmt.Errorf("encode the object: %w", err)
	}
	return string(b), nil
}
