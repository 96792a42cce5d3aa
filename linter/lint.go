// Package linter runs the engine over a tree of YAML files: it loads every document once,
// evaluates the object-scope rules in parallel on all cores, collects the facts that repo-scope
// rules need, runs the repo pass and places every violation at file:line:column.
package linter

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"
	"gopkg.in/yaml.v3"

	"github.com/openova-io/ova-lint/linter/cache"
	"github.com/openova-io/ova-lint/linter/config"
	"github.com/openova-io/ova-lint/linter/engine"
	"github.com/openova-io/ova-lint/linter/facts"
	"github.com/openova-io/ova-lint/linter/finding"
	"github.com/openova-io/ova-lint/linter/graph"
	"github.com/openova-io/ova-lint/linter/input"
	"github.com/openova-io/ova-lint/linter/loader"
	"github.com/openova-io/ova-lint/linter/schema"
	"github.com/openova-io/ova-lint/linter/waiver"
)

// Linter lints trees of YAML files with one engine. It is safe for concurrent use.
type Linter struct {
	engine *engine.Engine
	cfg    *config.Config
	opts   Options
	// pinFiles, when set, are the files the tree's Flux version is read from (the whole
	// repository of a changed-files run) instead of the linted ones.
	pinFiles []loader.File
	// preread holds the bytes of the files the Flux version was looked for in, so the lint
	// reads each file once (set per run by resolveFluxVersion).
	preread *preread
}

// Options tune a Linter.
type Options struct {
	// Workers evaluating documents in parallel; 0 means one per CPU.
	Workers int
	// Limits bound the cost of one file.
	Limits loader.Limits
	// Stdin is read for the path "-".
	Stdin io.Reader
	// Partial marks a run over a subset of the tree (changed files): repo-scope rules do not
	// report what they cannot see.
	Partial bool
	// ReportUnusedWaivers reports waivers that exempt nothing (waiver-unused).
	ReportUnusedWaivers bool
	// Now decides whether a waiver has expired; nil means time.Now.
	Now func() time.Time
	// Schema enables the schema rule with these catalogue versions; nil disables it.
	Schema *schema.Options
	// Root is the repository root every path argument is relative to; "" means the deepest
	// directory that holds them all.
	Root string
	// Render builds Kustomizations and renders HelmReleases (the Flux graph) and lints what
	// they produce: RenderAuto (when the tree holds Flux objects or kustomize roots) or
	// RenderOff.
	Render RenderMode
	// Substitute are values of variables that exist only in the cluster (--substitute); they
	// extend the config's substitution.variables.
	Substitute map[string]string
	// Cache, when set, keeps each file's own results between runs (resultcache.go).
	Cache *CacheOptions
}

// RenderMode says whether the Flux graph is built and rendered.
type RenderMode string

// Render modes.
const (
	RenderAuto RenderMode = "auto"
	RenderOff  RenderMode = "off"
)

// New returns a Linter that evaluates with e under cfg.
func New(e *engine.Engine, cfg *config.Config, opts Options) *Linter {
	if opts.Workers <= 0 {
		opts.Workers = runtime.GOMAXPROCS(0)
	}
	if opts.Limits == (loader.Limits{}) {
		opts.Limits = loader.DefaultLimits()
	}
	if opts.Stdin == nil {
		opts.Stdin = os.Stdin
	}
	return &Linter{engine: e, cfg: cfg, opts: opts}
}

// Lint lints the files and directories in paths. An unreadable path is an error; a file that
// does not parse is a yaml-syntax finding and every other file is still linted. Every path is
// relative to one repository root (Options.Root, or the deepest directory holding them all);
// when the paths are not that whole root, the rest of it is read for context (charts, sources,
// dependsOn targets) and never reported on.
func (l *Linter) Lint(ctx context.Context, paths []string) (*finding.Report, error) {
	walked, err := l.Walk(ctx, paths)
	if err != nil {
		return nil, err
	}
	return l.LintWalked(ctx, paths, walked)
}

// Walk lists the files Lint(paths) lints (through the tree index, when the cache has one).
func (l *Linter) Walk(ctx context.Context, paths []string) (loader.WalkResult, error) {
	return l.walk(ctx, l.opts.Root, paths)
}

// walk is loader.WalkFrom with the configuration's excludes, through the tree index.
func (l *Linter) walk(ctx context.Context, root string, paths []string) (loader.WalkResult, error) {
	return loader.WalkWith(ctx, root, paths, l.cfg.Exclude, l.index().ReadDir)
}

// LintWalked is Lint over the files Walk(paths) listed.
func (l *Linter) LintWalked(ctx context.Context, paths []string, walked loader.WalkResult) (*finding.Report, error) {
	tree := Tree{Root: walked.Root, RootDisplay: walked.RootDisplay, Files: walked.Files, Skipped: walked.Skipped}
	for _, p := range paths {
		if p == loader.Stdin {
			tree.Partial = true // a stream from standard input has no tree around it
		}
	}
	if !wholeRoot(paths, walked.Root) {
		all, err := l.walk(ctx, walked.Root, []string{walked.Root})
		if err != nil {
			return nil, err
		}
		linted := make(map[string]bool, len(walked.Files))
		for _, f := range walked.Files {
			linted[f.Rel] = true
		}
		for _, f := range all.Files {
			if !linted[f.Rel] {
				tree.Context = append(tree.Context, f)
			}
		}
	}
	return l.LintTree(ctx, tree)
}

// wholeRoot reports whether the paths are the repository root itself.
func wholeRoot(paths []string, root string) bool {
	for _, p := range paths {
		if p == loader.Stdin {
			return true // standard input has no tree around it
		}
		if abs, err := filepath.Abs(p); err == nil && abs == root {
			return true
		}
	}
	return false
}

// Tree is what one run lints: the files to report on and the rest of the repository.
type Tree struct {
	// Root is the repository root (an OS path); RootDisplay shows it in findings.
	Root, RootDisplay string
	// Files are linted and reported on; Context files are read for what repo-scope rules and
	// the Flux graph need, and never reported on.
	Files, Context []loader.File
	// Skipped counts the files the walk skipped (Helm templates).
	Skipped int
	// Partial says the files are not a whole tree (standard input): repo-scope rules do not
	// report what they cannot see.
	Partial bool
}

// docResult is what the engine said about one document.
type docResult struct {
	index    int
	findings []finding.Finding
	facts    []facts.Fact
	// noSchema are its objects the schema check deferred for want of a schema.
	noSchema []noSchemaDoc
	// factsSum is facts.Digest of its facts (zero without facts): the repo pass's cache key is
	// made of these, so a run whose files come from the cache hashes no fact again.
	factsSum cache.Key
	// factsRaw, in a result from the cache, holds its nFacts facts still encoded (facts is then
	// nil): they are decoded only if the repo pass must run (decodeFacts).
	factsRaw []byte
	nFacts   int
}

// fileResult is what one worker learned from one file.
type fileResult struct {
	docs []docResult
	// findings are not tied to a document (a syntax error).
	findings  []finding.Finding
	waivers   []waiver.Site
	documents int
	binary    bool // not linted: counted as skipped
	patch     bool // a kustomize patch: linted through the build it patches
	graph     []graph.Doc
	chart     *graph.Chart
	err       error
	// later says the file is to be linted once the rules are ready (lintFileCached).
	later bool
}

// LintFiles lints the given files; skipped is carried into the summary. Binary files are skipped
// and counted as skipped too.
func (l *Linter) LintFiles(ctx context.Context, files []loader.File, skipped int) (*finding.Report, error) {
	tree := Tree{Files: files, Skipped: skipped, RootDisplay: "."}
	if len(files) > 0 && files[0].OSPath != loader.Stdin {
		tree.RootDisplay = files[0].Root
	}
	for _, f := range files {
		if f.OSPath == loader.Stdin {
			tree.Partial = true
		}
	}
	if abs, err := filepath.Abs(tree.RootDisplay); err == nil {
		tree.Root = abs
	}
	if !tree.Partial && tree.Root != "" {
		// the Flux version is the repository's, not only the changed files'
		if all, err := l.walk(ctx, tree.Root, []string{tree.Root}); err == nil {
			c := *l
			c.pinFiles = all.Files
			l = &c
		}
	}
	return l.LintTree(ctx, tree)
}

// LintTree lints a tree: every file (its documents), then, unless rendering is off, what the
// Flux graph builds and renders from it, then the repo-scope rules over all of it.
func (l *Linter) LintTree(ctx context.Context, tree Tree) (*finding.Report, error) {
	files := append(append([]loader.File{}, tree.Files...), tree.Context...)
	// the cache's pack is read meanwhile, by the linter as given (l is the resolved one below)
	opened := make(chan *resultCache, 1)
	asGiven, withGraph := l, l.opts.Render != RenderOff && !tree.Partial
	go func() { opened <- asGiven.openCache(withGraph) }()
	// the Flux version: the user's, else what the tree pins, else the profile's (fluxversion.go)
	l, fluxVersion, fluxSource := l.resolveFluxVersion(ctx, files)
	var validator *schema.Validator
	var schemas *schemaCheck
	if l.opts.Schema != nil {
		var err error
		if validator, err = schema.New(*l.opts.Schema); err != nil {
			return nil, fmt.Errorf("schemas: %w", err)
		}
		schemas = newSchemaCheck(validator, l.engine, l.cfg.Params)
		if schemas != nil {
			schemas.fluxNote = fluxVersionNote(validator.FluxVersion(), fluxSource)
			schemas.reparse = l.parseDoc
		}
	}
	patches, roots := kustomizeLayout(tree.Root, files)
	results := make([]fileResult, len(files))
	rc := (<-opened).seal(l, fluxVersion, fluxSource)
	if lint, few := l.willLint(rc, files, patches); lint { // meanwhile the cache answers for the other files
		if rc != nil {
			rc.prepared.Do(func() { l.prepare(schemas, few) })
		} else {
			l.prepare(schemas, nil)
		}
	}
	l.parallel(ctx, len(files), func(i int) {
		results[i] = l.lintFileCached(ctx, rc, i, files[i], schemas, patches[files[i].Rel], true)
	})
	var later []int // the files left until the rules were ready
	for i := range results {
		if results[i].later {
			later = append(later, i)
		}
	}
	l.parallel(ctx, len(later), func(j int) {
		i := later[j]
		results[i] = l.lintFileCached(ctx, rc, i, files[i], schemas, patches[files[i].Rel], false)
	})
	defer rc.close() // after the repo pass, whose findings are cached too
	if err := ctx.Err(); err != nil {
		return nil, err
	}

	rep := &finding.Report{Findings: []finding.Finding{}}
	rep.Summary.FluxVersion, rep.Summary.FluxVersionSource = fluxVersion, fluxSource
	rep.Summary.Files = len(tree.Files)
	rep.Summary.Skipped = tree.Skipped
	context := map[string]bool{}
	for _, f := range tree.Context {
		context[f.Display] = true
	}
	var sites []waiver.Site
	var gdocs []graph.Doc
	var charts []graph.Chart
	hasFlux := len(roots) > 0
	for i, r := range results {
		if r.err != nil {
			return nil, r.err
		}
		gdocs = append(gdocs, r.graph...)
		if r.chart != nil {
			charts = append(charts, *r.chart)
		}
		if len(r.graph) > 0 {
			hasFlux = true
		}
		if i >= len(tree.Files) {
			continue
		}
		switch {
		case r.binary:
			rep.Summary.Files--
			rep.Summary.Skipped++
			rep.Summary.Binary++
			continue
		case r.patch:
			rep.Summary.Files--
			rep.Summary.Skipped++
			rep.Summary.Patches++
			continue
		}
		sites = append(sites, r.waivers...)
		rep.Summary.Documents += r.documents
	}

	var produced []producedResult
	var graphFindings []finding.Finding
	if l.opts.Render != RenderOff && hasFlux && !tree.Partial {
		g, err := l.produce(ctx, tree, gdocs, charts, roots, validator)
		if err != nil {
			return nil, err
		}
		rep.Summary.Built, rep.Summary.Rendered = g.Built, g.Rendered
		if produced, err = l.evalProduced(ctx, tree, g.Produced, schemas); err != nil {
			return nil, err
		}
		if graphFindings, err = l.problems(ctx, tree, g.Problems); err != nil {
			return nil, err
		}
	}
	// A document that a build produced is judged as built: its file's own verdict gives way
	// (parse-level findings stay).
	covered := map[string]bool{}
	for _, p := range produced {
		if p.source != "" {
			covered[p.source] = true
		}
	}
	// sized first: growing these slices of 50,000 facts cost more than filling them
	nSums, nFindings := 0, 0
	for _, r := range results {
		nFindings += len(r.findings)
		for _, d := range r.docs {
			nSums++
			nFindings += len(d.findings)
		}
	}
	nSums += len(produced)
	// the documents whose facts the repo pass reads, and the facts.Digest of each: the repo
	// pass's cache key; the facts themselves are gathered only when it misses
	type factsOf struct{ file, doc, produced int }
	withFacts := make([]factsOf, 0, nSums)
	factSums := make([]cache.Key, 0, nSums)
	rep.Findings = slices.Grow(rep.Findings, nFindings+len(graphFindings))
	for i, r := range results {
		if r.binary || r.patch {
			continue
		}
		rep.Findings = append(rep.Findings, r.findings...)
		for j, d := range r.docs {
			if len(covered) > 0 && covered[fmt.Sprintf("%s#%d", files[i].Rel, d.index)] {
				for _, f := range d.findings {
					if f.Rule == "duplicate-key" {
						rep.Findings = append(rep.Findings, f)
					}
				}
				continue
			}
			rep.Findings = append(rep.Findings, d.findings...)
			if d.factCount() > 0 {
				withFacts = append(withFacts, factsOf{i, j, -1})
				factSums = append(factSums, d.factsSum)
			}
		}
	}
	for k, p := range produced {
		rep.Findings = append(rep.Findings, p.findings...)
		if len(p.facts) > 0 {
			withFacts = append(withFacts, factsOf{produced: k})
			factSums = append(factSums, facts.Digest(cache.NewHasher(), p.facts).Sum())
		}
	}
	gather := func() ([]facts.Fact, error) {
		n := 0
		for _, w := range withFacts {
			if w.produced >= 0 {
				n += len(produced[w.produced].facts)
			} else {
				n += results[w.file].docs[w.doc].factCount()
			}
		}
		out := make([]facts.Fact, 0, n)
		for _, w := range withFacts {
			if w.produced >= 0 {
				out = append(out, produced[w.produced].facts...)
				continue
			}
			fs, err := results[w.file].docs[w.doc].decodeFacts()
			if err != nil {
				return nil, fmt.Errorf("the cached result of %s: %w (run with --no-cache)", files[w.file].Display, err)
			}
			out = append(out, fs...)
		}
		return out, nil
	}
	rep.Findings = append(rep.Findings, graphFindings...)
	if schemas != nil {
		rep.Findings = append(rep.Findings, schemas.finish()...)
	}
	repoFindings, err := l.repoPass(ctx, rc, gather, factSums, l.opts.Partial || tree.Partial)
	if err != nil {
		return nil, err
	}
	rep.Findings = append(rep.Findings, repoFindings...)
	if len(context) > 0 {
		kept := rep.Findings[:0]
		for _, f := range rep.Findings {
			if !context[f.File] {
				kept = append(kept, f)
			}
		}
		rep.Findings = kept
	}
	rep.Findings = dedupe(rep.Findings)
	judge := waiver.New(l.engine, l.cfg, waiver.Options{Now: l.opts.Now, ReportUnused: l.opts.ReportUnusedWaivers, Partial: l.opts.Partial})
	rep.Findings = judge.Apply(rep.Findings, sites, tree.Files)
	finding.Sort(rep.Findings)
	rep.Summary.Count(rep.Findings)
	return rep, nil
}

// willLint reports whether the file pass is likely to lint a file rather than take its results
// from the cache: there is no cache, no pre-scan (it tells which files the tree index vouched
// for), or a file the pre-scan read has no entry. (A file the index vouched for is found by its
// recorded digest.) few lists those files when they are no more than fewFiles.
func (l *Linter) willLint(rc *resultCache, files []loader.File, patches map[string]bool) (lint bool, few []loader.File) {
	p := l.preread
	if rc == nil || p == nil || len(p.paths) != len(files) {
		return true, nil
	}
	for i, f := range files {
		if p.known[i] && p.data[i].Load() == nil {
			continue // vouched for by the index
		}
		if !p.known[i] || !rc.session.Has(rc.key(f, p.digests[i], patches[f.Rel])) {
			if len(few) == fewFiles {
				return true, nil
			}
			few = append(few, f)
		}
	}
	return len(few) > 0, few
}

// fewFiles bounds the files whose schemas are compiled ahead (see prepare).
const fewFiles = 16

// parallel runs do(0..n-1) on the workers. Each worker takes the next index from a shared
// counter: a channel hand-off per item costs more than a cached file's whole work.
func (l *Linter) parallel(ctx context.Context, n int, do func(int)) {
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < l.opts.Workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				do(i)
			}
		}()
	}
	wg.Wait()
}

// dedupe drops repeated findings: one object reached by two routes is reported once.
func dedupe(fs []finding.Finding) []finding.Finding {
	type k struct {
		rule, file    string
		line, column  int
		message, name string
	}
	seen := make(map[k]bool, len(fs))
	out := fs[:0]
	for _, f := range fs {
		key := k{f.Rule, f.File, f.Line, f.Column, f.Message, f.Name}
		if seen[key] {
			continue
		}
		seen[key] = true
		out = append(out, f)
	}
	return out
}

func (l *Linter) lintFile(ctx context.Context, i int, f loader.File, schemas *schemaCheck, patch bool) fileResult {
	data, err := l.read(i, f)
	if err != nil {
		return fileResult{err: fmt.Errorf("read %s: %w", f.Display, err)}
	}
	return l.lintData(ctx, f, data, schemas, patch)
}

// lintData lints the bytes of file f.
func (l *Linter) lintData(ctx context.Context, f loader.File, data []byte, schemas *schemaCheck, patch bool) fileResult {
	var res fileResult
	if loader.IsBinary(data) {
		res.binary = true
		return res
	}
	if patch {
		res.patch = true
		return res
	}
	docs, synErr := loader.Parse(data, l.opts.Limits)
	res.documents = len(docs)
	text := string(loader.UTF8(data))
	for at, doc := range docs {
		src := input.FileSource(f.Display, f.Rel, f.Root, doc.Index, text)
		in, err := input.ObjectInput(l.cfg, doc.Object, src, doc.DuplicateKeys)
		if err != nil {
			res.err = fmt.Errorf("%s: %w", f.Display, err)
			return res
		}
		out, err := l.engine.Eval(ctx, in)
		if err != nil {
			res.err = fmt.Errorf("%s (document %d): %w", f.Display, doc.Index+1, err)
			return res
		}
		kind, ns, name := input.Identity(doc.Object)
		dr := docResult{index: doc.Index}
		for _, v := range out.Violations {
			dr.findings = append(dr.findings, place(v, f.Display, doc.Node, kind, ns, name))
		}
		if schemas != nil {
			found, deferred := schemas.checkDoc(f.Display, src.Base, doc.Node, doc.Object, kind, ns, name)
			dr.findings = append(dr.findings, found...)
			for _, d := range deferred {
				d.doc = at
				dr.noSchema = append(dr.noSchema, d)
			}
		}
		if s, ok := waiver.SiteOf(f.Display, doc.Node, doc.Object, kind, ns, name); ok {
			res.waivers = append(res.waivers, s)
		}
		for _, fact := range out.Facts {
			enc, err := facts.EncodeLocated(fact.Pkg, fact.Value, locate(fact.Value, f.Display, doc.Node, kind, ns, name))
			if err != nil {
				res.err = fmt.Errorf("%s (document %d): %w", f.Display, doc.Index+1, err)
				return res
			}
			dr.facts = append(dr.facts, enc)
		}
		if len(dr.facts) > 0 {
			dr.factsSum = facts.Digest(cache.NewHasher(), dr.facts).Sum()
		}
		res.docs = append(res.docs, dr)
		if m, ok := doc.Object.(map[string]any); ok {
			if l.opts.Render != RenderOff && graph.Relevant(m) { // the Flux graph is built only with rendering on
				res.graph = append(res.graph, graph.Doc{Rel: f.Rel, Index: doc.Index, Object: m, Node: doc.Node})
			}
			if c, ok := graph.ChartOf(f.Rel, m); ok {
				res.chart = &c
			}
		}
	}
	if synErr != nil {
		in, err := input.SyntaxErrorInput(input.FileSource(f.Display, f.Rel, f.Root, 0, ""), synErr)
		if err == nil {
			var out engine.Result
			out, err = l.engine.Eval(ctx, in)
			for _, v := range out.Violations {
				res.findings = append(res.findings, place(v, f.Display, nil, "", "", ""))
			}
		}
		if err != nil {
			res.err = fmt.Errorf("%s: %w", f.Display, err)
		}
	}
	return res
}

// parseDoc reads and parses file f again and returns the document at position at of what
// loader.Parse returns (the items of a List are documents of their own).
func (l *Linter) parseDoc(f loader.File, at int) (*yaml.Node, any, error) {
	data, err := l.read(-1, f)
	if err != nil {
		return nil, nil, fmt.Errorf("read %s: %w", f.Display, err)
	}
	docs, _ := loader.Parse(data, l.opts.Limits)
	if at < 0 || at >= len(docs) {
		return nil, nil, fmt.Errorf("%s changed since it was linted", f.Display)
	}
	return docs[at].Node, docs[at].Object, nil
}

// read returns the bytes of file i of the run (f): the pre-scan's, else read now (no more than
// Parse needs to tell it is over the size limit). i is -1 outside the file pass.
func (l *Linter) read(i int, f loader.File) ([]byte, error) {
	if f.OSPath == loader.Stdin {
		return loader.ReadAll(l.opts.Stdin, l.opts.Limits)
	}
	if data, _, ok := l.preread.take(i, f.OSPath); ok {
		return data, nil
	}
	return loader.ReadFile(f.OSPath, l.opts.Limits)
}

// place turns a violation into a finding at the position of its field path.
func place(v engine.Violation, file string, node *yaml.Node, kind, ns, name string) finding.Finding {
	line, col := v.Line, v.Column
	if line == 0 {
		line, col = loader.Position(node, v.Path)
	}
	if col == 0 {
		col = 1
	}
	return newFinding(v, file, line, col, kind, ns, name)
}

func newFinding(v engine.Violation, file string, line, col int, kind, ns, name string) finding.Finding {
	src := v.Rule.SourceText()
	sev := v.Rule.Severity
	if v.Severity != "" {
		sev = v.Severity
	}
	return finding.Finding{
		Rule: v.Rule.ID, Severity: sev,
		File: file, Line: line, Column: col,
		Kind: kind, Namespace: ns, Name: name,
		Message: finding.Compose(v.Message, v.Fix, src),
		Problem: v.Message, Fix: v.Fix, Source: src,
		Edits: v.Edits,
	}
}

// locate is the location of a fact's field ("at"), so a repo-scope violation can point at it
// later without keeping the document: the file, the object, and the line and column of the
// fact's "path" (and of each "<name>_path" as "<name>_line" and "<name>_column").
func locate(fact ast.Object, file string, node *yaml.Node, kind, ns, name string) map[string]any {
	line, col := loader.Position(node, pathOf(fact.Get(ast.InternedTerm("path"))))
	if line == 0 {
		line, col = 1, 1
	}
	at := map[string]any{
		"file": file, "line": line, "column": col,
		"kind": kind, "namespace": ns, "name": name,
	}
	// a fact may name other fields a violation could sit on: "<name>_path" gives at.<name>_line
	fact.Foreach(func(k, v *ast.Term) {
		s, ok := k.Value.(ast.String)
		if !ok || !strings.HasSuffix(string(s), "_path") {
			return
		}
		p := pathOf(v)
		if p == nil {
			return
		}
		l, c := loader.Position(node, p)
		if l == 0 {
			l, c = line, col
		}
		n := strings.TrimSuffix(string(s), "_path")
		at[n+"_line"], at[n+"_column"] = l, c
	})
	return at
}

// pathOf is a fact's field path as plain values (as ast.JSON makes it), or nil when the term is
// not a list.
func pathOf(t *ast.Term) []any {
	if t == nil {
		return nil
	}
	switch t.Value.(type) {
	case *ast.Array, ast.Set:
	default:
		return nil
	}
	v, err := ast.JSONWithOpt(t.Value, ast.JSONOpt{})
	if err != nil {
		return nil
	}
	p, _ := v.([]any)
	return p
}

// repoPass runs the repo-scope rules over the facts of every object. Through the result cache,
// a run whose facts are byte for byte those of an earlier run (nothing changed, or only what no
// repo-scope rule looks at) takes that run's repo findings instead: the key hashes sums, the
// facts.Digest of each object's facts, in order.
func (l *Linter) repoPass(ctx context.Context, rc *resultCache, gather func() ([]facts.Fact, error), sums []cache.Key, partial bool) ([]finding.Finding, error) {
	var key cache.Key
	if rc != nil {
		h := cache.NewHasher().Bytes(rc.fingerprint).String("repo pass", strconv.FormatBool(partial))
		for _, s := range sums {
			h.Bytes(s[:])
		}
		key = h.Sum()
		if raw, ok := rc.session.Get(key); ok {
			rd := cache.NewReader(raw)
			if found := readFindings(rd); rd.Done() == nil {
				return found, nil
			}
			rc.session.Drop(key)
		}
	}
	fs, err := gather()
	if err != nil {
		return nil, fmt.Errorf("repo-scope rules: %w", err)
	}
	out, err := l.engine.EvalRepo(ctx, fs, !partial)
	if err != nil {
		return nil, fmt.Errorf("repo-scope rules: %w", err)
	}
	var found []finding.Finding
	for _, v := range out.Violations {
		at := v.At
		if at == nil {
			continue
		}
		str := func(k string) string { s, _ := at[k].(string); return s }
		line, col := v.Line, v.Column
		if line == 0 {
			line = 1
		}
		if col == 0 {
			col = 1
		}
		found = append(found, newFinding(v, str("file"), line, col, str("kind"), str("namespace"), str("name")))
	}
	if rc != nil {
		var w cache.Writer
		writeFindings(&w, found)
		if raw, err := w.Bytes(); err == nil {
			rc.session.Put(key, raw)
		}
	}
	return found, nil
}
