package linter

import (
	"context"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	"github.com/openova-io/ova-lint/linter/build"
	"github.com/openova-io/ova-lint/linter/config"
	"github.com/openova-io/ova-lint/linter/engine"
	"github.com/openova-io/ova-lint/linter/facts"
	"github.com/openova-io/ova-lint/linter/finding"
	"github.com/openova-io/ova-lint/linter/graph"
	"github.com/openova-io/ova-lint/linter/input"
	"github.com/openova-io/ova-lint/linter/loader"
	"github.com/openova-io/ova-lint/linter/render"
	"github.com/openova-io/ova-lint/linter/schema"
)

// kustomizeLayout reads the kustomization files among files: the files they use as patches
// (linted only through the build they patch) and the directories that are kustomize roots.
func kustomizeLayout(root string, files []loader.File) (map[string]bool, []string) {
	patches := map[string]bool{}
	var roots []string
	if root == "" {
		return patches, nil
	}
	for _, f := range files {
		switch path.Base(f.Rel) {
		case "kustomization.yaml", "kustomization.yml", "Kustomization":
		default:
			continue
		}
		dir := path.Dir(f.Rel)
		if dir == "." {
			dir = ""
		}
		info, err := build.KustomizationFiles(root, dir)
		if err != nil {
			continue // not a kustomize file after all: linted as a document
		}
		if !info.Component {
			roots = append(roots, dir)
		}
		for _, p := range info.Patches {
			patches[p] = true
		}
	}
	sort.Strings(roots)
	return patches, roots
}

// produce builds the Flux graph of the tree and what it applies.
// validator, when not nil, gives Helm's Capabilities the kinds ova-lint knows.
func (l *Linter) produce(ctx context.Context, tree Tree, docs []graph.Doc, charts []graph.Chart, roots []string, validator *schema.Validator) (*graph.Result, error) {
	opts, err := GraphOptions(l.cfg, tree.Root, l.opts.Substitute)
	if err != nil {
		return nil, err
	}
	opts.Docs, opts.Charts, opts.KustomizeRoots = docs, charts, roots
	opts.Parse = func(rel string) ([]graph.Doc, error) { return ParseFile(tree.Root, rel, l.opts.Limits) }
	if validator != nil {
		opts.APIVersions = validator.APIVersions()
	}
	g, err := graph.Produce(ctx, opts)
	if err != nil {
		return nil, fmt.Errorf("flux graph: %w", err)
	}
	return g, nil
}

// GraphOptions are the graph's options from the configuration (flux.*, charts.*,
// substitution.variables) plus the --substitute values.
func GraphOptions(cfg *config.Config, root string, substitute map[string]string) (graph.Options, error) {
	opts := graph.Options{Root: root, KubeVersion: cfg.KubernetesVersion, Fallback: map[string]string{}}
	flux, _ := cfg.Params["flux"].(map[string]any)
	opts.SelfSources = stringList(flux["self_sources"])
	opts.ExternalSources = stringList(flux["external_sources"])
	if list, ok := flux["bootstrap"].([]any); ok {
		for i, b := range list {
			m, ok := b.(map[string]any)
			if !ok {
				return opts, fmt.Errorf("flux.bootstrap[%d]: want a mapping with name, namespace, path and postBuild", i)
			}
			opts.Bootstrap = append(opts.Bootstrap, bootstrapKustomization(m))
		}
	}
	charts, _ := cfg.Params["charts"].(map[string]any)
	if list, ok := charts["local_repositories"].([]any); ok {
		opts.LocalRepositories = []string{}
		for _, r := range list {
			if s, ok := r.(string); ok {
				opts.LocalRepositories = append(opts.LocalRepositories, s)
			}
		}
	}
	sub, _ := cfg.Params["substitution"].(map[string]any)
	if vars, ok := sub["variables"].(map[string]any); ok {
		for k, v := range vars {
			opts.Fallback[k] = fmt.Sprint(v)
		}
	}
	for k, v := range substitute {
		opts.Fallback[k] = v
	}
	return opts, nil
}

// bootstrapKustomization turns a flux.bootstrap entry into the custom resource it stands for.
func bootstrapKustomization(m map[string]any) map[string]any {
	name, _ := m["name"].(string)
	ns, _ := m["namespace"].(string)
	if ns == "" {
		ns = "flux-system"
	}
	spec := map[string]any{"path": m["path"], "sourceRef": map[string]any{"kind": "GitRepository", "name": "flux-system", "namespace": "flux-system"}}
	if sr, ok := m["sourceRef"].(map[string]any); ok {
		spec["sourceRef"] = sr
	}
	for _, k := range []string{"postBuild", "targetNamespace", "namePrefix", "nameSuffix", "patches", "images", "components", "commonMetadata", "dependsOn"} {
		if v, ok := m[k]; ok {
			spec[k] = v
		}
	}
	return map[string]any{
		"apiVersion": "kustomize.toolkit.fluxcd.io/v1", "kind": "Kustomization",
		"metadata": map[string]any{"name": name, "namespace": ns},
		"spec":     spec,
	}
}

func stringList(v any) []string {
	list, _ := v.([]any)
	var out []string
	for _, x := range list {
		if s, ok := x.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

// ParseFile reads and parses a file of the tree (relative to root) for the graph.
func ParseFile(root, rel string, limits loader.Limits) ([]graph.Doc, error) {
	data, err := loader.ReadFile(filepath.Join(root, filepath.FromSlash(rel)), limits)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", rel, err)
	}
	docs, _ := loader.Parse(data, limits)
	out := make([]graph.Doc, 0, len(docs))
	for _, d := range docs {
		if m, ok := d.Object.(map[string]any); ok {
			out = append(out, graph.Doc{Rel: rel, Index: d.Index, Object: m, Node: d.Node})
		}
	}
	return out, nil
}

// producedResult is the engine's verdict on one produced document.
type producedResult struct {
	// source is "file#index" of the raw document it was built from ("" when none).
	source   string
	findings []finding.Finding
	facts    []facts.Fact
}

// display shows a repository-relative path as findings do: relative to the working directory.
func display(tree Tree, rel string) string {
	if tree.RootDisplay == "" || tree.RootDisplay == "." {
		return rel
	}
	return path.Join(tree.RootDisplay, rel)
}

// evalProduced evaluates the built and rendered documents, in parallel.
func (l *Linter) evalProduced(ctx context.Context, tree Tree, produced []graph.Produced, schemas *schemaCheck) ([]producedResult, error) {
	out := make([]producedResult, len(produced))
	errs := make([]error, len(produced))
	texts := newTextCache(tree.Root)
	l.parallel(ctx, len(produced), func(i int) {
		out[i], errs[i] = l.evalOne(ctx, tree, produced[i], schemas, texts)
	})
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (l *Linter) evalOne(ctx context.Context, tree Tree, p graph.Produced, schemas *schemaCheck, texts *textCache) (producedResult, error) {
	var res producedResult
	file := display(tree, p.File)
	index := p.Index
	if index < 0 {
		index = 0
	} else {
		res.source = fmt.Sprintf("%s#%d", p.File, p.Index)
	}
	text := p.Text
	if text == "" {
		text = texts.get(p.File)
	}
	src := input.FileSource(file, p.File, tree.RootDisplay, index, text)
	src.Origin = originValue(p.Origin)
	in, err := input.ObjectInput(l.cfg, p.Object, src, nil)
	if err != nil {
		return res, fmt.Errorf("%s: %w", file, err)
	}
	out, err := l.engine.Eval(ctx, in)
	if err != nil {
		return res, fmt.Errorf("%s (%s): %w", file, strings.Join(p.Origin.Chain, " → "), err)
	}
	kind, ns, name := input.Identity(p.Object)
	placeAt := func(v engine.Violation) finding.Finding {
		if v.File != "" {
			return withChain(newFinding(v, display(tree, v.File), max(v.Line, 1), max(v.Column, 1), kind, ns, name), p.Origin.Chain)
		}
		if p.Node != nil {
			return withChain(place(v, file, p.Node, kind, ns, name), p.Origin.Chain)
		}
		line := p.Line
		if l := render.TemplateLine(text, v.Path); l > 0 {
			line = l
		}
		return withChain(newFinding(v, file, max(line, 1), 1, kind, ns, name), p.Origin.Chain)
	}
	for _, v := range out.Violations {
		f := placeAt(v)
		if why := sourceHolds(p, v); why != "" {
			f.Edits, f.Unfixable = nil, why
		}
		res.findings = append(res.findings, f)
	}
	if schemas != nil && p.Origin.Producer == "helm" {
		// a rendered object is validated as the chart renders it; positions are the template's
		for _, f := range schemas.check(file, path.Base(p.File), p.Node, p.Object, kind, ns, name) {
			if p.Node == nil {
				f.Line, f.Column = max(p.Line, 1), 1
			}
			res.findings = append(res.findings, withChain(f, p.Origin.Chain))
		}
	} else if schemas != nil {
		for _, f := range schemas.check(file, path.Base(p.File), p.Node, p.Object, kind, ns, name) {
			res.findings = append(res.findings, withChain(f, p.Origin.Chain))
		}
	}
	for _, fact := range out.Facts {
		at := locate(fact.Value, file, p.Node, kind, ns, name)
		if p.Node == nil {
			at["line"], at["column"] = max(p.Line, 1), 1
		}
		enc, err := facts.EncodeLocated(fact.Pkg, fact.Value, at)
		if err != nil {
			return res, err
		}
		res.facts = append(res.facts, enc)
	}
	return res, nil
}

func withChain(f finding.Finding, chain []string) finding.Finding {
	if len(chain) > 0 {
		f.Chain = append([]string{}, chain...)
	}
	return f
}

// renderRuleID is the catalogue id of the rule that reports builds and renders that failed.
const renderRuleID = "render"

// problems turns builds and renders that could not be done into findings, through the render
// rule's Rego (input.render_error).
func (l *Linter) problems(ctx context.Context, tree Tree, ps []graph.Problem) ([]finding.Finding, error) {
	var out []finding.Finding
	for _, pr := range ps {
		file := display(tree, pr.Doc.Rel)
		if pr.Doc.Rel == "" {
			file = configDisplay(l.cfg)
		}
		src := input.FileSource(file, pr.Doc.Rel, tree.RootDisplay, max(pr.Doc.Index, 0), "")
		src.Origin = originValue(pr.Origin)
		in, err := input.RenderErrorInput(l.cfg, pr.Doc.Object, src, map[string]any{"type": pr.Type, "message": pr.Message, "path": pr.Path})
		if err != nil {
			return nil, err
		}
		res, err := l.engine.Eval(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("render rule: %w", err)
		}
		kind, ns, name := input.Identity(pr.Doc.Object)
		for _, v := range res.Violations {
			if v.Rule.ID != renderRuleID {
				continue // the object's own verdict comes from its document
			}
			out = append(out, withChain(place(v, file, pr.Doc.Node, kind, ns, name), pr.Origin.Chain))
		}
	}
	return out, nil
}

func configDisplay(cfg *config.Config) string {
	if cfg.Source != "" {
		return filepath.ToSlash(cfg.Source)
	}
	return config.FileName
}

// originValue is input.origin: the graph's Origin as plain values.
func originValue(o graph.Origin) map[string]any {
	m := map[string]any{"producer": o.Producer}
	if o.Cluster != "" {
		m["cluster"] = o.Cluster
	}
	if o.Build != "" {
		m["build"] = o.Build
	}
	if len(o.Chain) > 0 {
		chain := make([]any, len(o.Chain))
		for i, c := range o.Chain {
			chain[i] = c
		}
		m["chain"] = chain
	}
	if o.PostBuild {
		m["post_build"] = true
	}
	if o.Duplicate {
		m["duplicate"] = true
	}
	if o.Template != "" {
		m["template"] = o.Template
	}
	if len(o.Missing) > 0 {
		ms := make([]any, len(o.Missing))
		for i, x := range o.Missing {
			ms[i] = map[string]any{"name": x.Name, "path": x.Path}
		}
		m["missing"] = ms
	}
	if len(o.GitValues) > 0 {
		gv := map[string]any{}
		for k, p := range o.GitValues {
			gv[k] = map[string]any{"file": p.File, "line": p.Line, "column": p.Column, "via": p.Via}
		}
		m["git_values"] = gv
	}
	return m
}

// textCache reads the source files of built objects once (rules look for markers in the text).
type textCache struct {
	root string
	mu   sync.Mutex
	m    map[string]string
}

func newTextCache(root string) *textCache {
	return &textCache{root: root, m: map[string]string{}}
}

func (c *textCache) get(rel string) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if t, ok := c.m[rel]; ok {
		return t
	}
	raw, err := os.ReadFile(filepath.Join(c.root, filepath.FromSlash(rel)))
	t := ""
	if err == nil && len(raw) < 16<<20 {
		t = string(loader.UTF8(raw))
	}
	c.m[rel] = t
	return t
}

// ProduceTree builds and renders what the tree under root applies, as `lint` does, without
// evaluating anything: the documents the Flux graph produces, each with its origin. Tests and
// tools (the rendered-object parity test, `graph`) use it.
func ProduceTree(ctx context.Context, cfg *config.Config, root string, substitute map[string]string) (*graph.Result, error) {
	walked, err := loader.WalkFrom(ctx, root, []string{root}, cfg.Exclude)
	if err != nil {
		return nil, err
	}
	_, roots := kustomizeLayout(walked.Root, walked.Files)
	opts, err := GraphOptions(cfg, walked.Root, substitute)
	if err != nil {
		return nil, err
	}
	limits := loader.DefaultLimits()
	for _, f := range walked.Files {
		docs, err := ParseFile(walked.Root, f.Rel, limits)
		if err != nil {
			continue // unreadable files are the lint's to report
		}
		for _, d := range docs {
			if graph.Relevant(d.Object) {
				opts.Docs = append(opts.Docs, d)
			}
			if c, ok := graph.ChartOf(f.Rel, d.Object); ok {
				opts.Charts = append(opts.Charts, c)
			}
		}
	}
	opts.KustomizeRoots = roots
	opts.Parse = func(rel string) ([]graph.Doc, error) { return ParseFile(walked.Root, rel, limits) }
	if v, err := schema.New(schema.Options{KubernetesVersion: cfg.KubernetesVersion, FluxVersion: cfg.FluxVersion}); err == nil {
		opts.APIVersions = v.APIVersions()
	}
	return graph.Produce(ctx, opts)
}

// OriginInput is input.origin for a produced document.
func OriginInput(o graph.Origin) map[string]any { return originValue(o) }
