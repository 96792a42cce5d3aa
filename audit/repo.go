package audit

import (
	"context"
	"fmt"

	"github.com/openova-io/ova-lint/linter/engine"
	"github.com/openova-io/ova-lint/linter/facts"
	"github.com/openova-io/ova-lint/linter/finding"
	"github.com/openova-io/ova-lint/linter/waiver"
)

// objectKey identifies an object among those audited.
type objectKey struct{ kind, namespace, name string }

// repoPass runs the live repo-scope rules (liveRepoRules) over the facts of every audited
// object. complete says whether every object they could refer to was listed: without it,
// "not declared" is not decided (as for a partial lint run). A violation is placed on the object
// its fact came from, and that object's waiver annotation applies to it.
func repoPass(ctx context.Context, eng *engine.Engine, located []map[string]any, complete bool, waivers map[objectKey]*waiver.Waiver) ([]finding.Finding, error) {
	if len(located) == 0 {
		return nil, nil
	}
	fs := make([]facts.Fact, len(located))
	for i, m := range located {
		f, err := facts.Encode(m)
		if err != nil {
			return nil, err
		}
		fs[i] = f
	}
	res, err := eng.EvalRepo(ctx, fs, complete)
	if err != nil {
		return nil, fmt.Errorf("repo-scope rules: %w", err)
	}
	var out []finding.Finding
	for _, v := range res.Violations {
		if v.At == nil || !liveRepoRules[v.Rule.Package] {
			continue
		}
		str := func(k string) string { s, _ := v.At[k].(string); return s }
		kind, ns, name := str("kind"), str("namespace"), str("name")
		if w := waivers[objectKey{kind, ns, name}]; w != nil && w.Waives(v.Rule.ID) {
			continue
		}
		src := v.Rule.SourceText()
		sev := v.Rule.Severity
		if v.Severity != "" {
			sev = v.Severity
		}
		out = append(out, finding.Finding{
			Rule: v.Rule.ID, Severity: sev,
			Kind: kind, Namespace: ns, Name: name, Path: str("path"),
			Message: finding.Compose(v.Message, v.Fix, src),
			Problem: v.Message, Fix: v.Fix, Source: src,
		})
	}
	return out, nil
}
