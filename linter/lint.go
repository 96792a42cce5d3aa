// Package linter runs the engine over a tree of YAML files: it loads every document once,
// evaluates the object-scope rules in parallel on all cores, collects the facts that repo-scope
// rules need, runs the repo pass and places every violation at file:line:column.
package linter

import (
	"context"
	"fmt"
	"io"
	"os"
	"runtime"
	"sync"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/openova-io/ova-lint/linter/config"
	"github.com/openova-io/ova-lint/linter/engine"
	"github.com/openova-io/ova-lint/linter/finding"
	"github.com/openova-io/ova-lint/linter/loader"
	"github.com/openova-io/ova-lint/linter/schema"
	"github.com/openova-io/ova-lint/linter/waiver"
)

// Linter lints trees of YAML files with one engine. It is safe for concurrent use.
type Linter struct {
	engine *engine.Engine
	cfg    *config.Config
	opts   Options
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
}

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
// does not parse is a yaml-syntax finding and every other file is still linted.
func (l *Linter) Lint(ctx context.Context, paths []string) (*finding.Report, error) {
	walked, err := loader.Walk(ctx, paths, l.cfg.Exclude)
	if err != nil {
		return nil, err
	}
	return l.LintFiles(ctx, walked.Files, walked.Skipped)
}

// fileResult is what one worker learned from one file.
type fileResult struct {
	findings  []finding.Finding
	facts     []map[string]any
	waivers   []waiver.Site
	documents int
	binary    bool // not linted: counted as skipped
	err       error
}

// LintFiles lints the given files; skipped is carried into the summary. Binary files are skipped
// and counted as skipped too.
func (l *Linter) LintFiles(ctx context.Context, files []loader.File, skipped int) (*finding.Report, error) {
	var schemas *schemaCheck
	if l.opts.Schema != nil {
		v, err := schema.New(*l.opts.Schema)
		if err != nil {
			return nil, fmt.Errorf("schemas: %w", err)
		}
		schemas = newSchemaCheck(v, l.engine, l.cfg.Params)
	}
	results := make([]fileResult, len(files))
	jobs := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < l.opts.Workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				results[i] = l.lintFile(ctx, files[i], schemas)
			}
		}()
	}
feed:
	for i := range files {
		select {
		case jobs <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(jobs)
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}

	rep := &finding.Report{Findings: []finding.Finding{}}
	rep.Summary.Files = len(files)
	rep.Summary.Skipped = skipped
	var facts []map[string]any
	var sites []waiver.Site
	for _, r := range results {
		if r.err != nil {
			return nil, r.err
		}
		if r.binary {
			rep.Summary.Files--
			rep.Summary.Skipped++
			rep.Summary.Binary++
			continue
		}
		rep.Findings = append(rep.Findings, r.findings...)
		facts = append(facts, r.facts...)
		sites = append(sites, r.waivers...)
		rep.Summary.Documents += r.documents
	}
	if schemas != nil {
		rep.Findings = append(rep.Findings, schemas.finish()...)
	}
	repoFindings, err := l.repoPass(ctx, facts)
	if err != nil {
		return nil, err
	}
	rep.Findings = append(rep.Findings, repoFindings...)
	judge := waiver.New(l.engine, l.cfg, waiver.Options{Now: l.opts.Now, ReportUnused: l.opts.ReportUnusedWaivers, Partial: l.opts.Partial})
	rep.Findings = judge.Apply(rep.Findings, sites, files)
	finding.Sort(rep.Findings)
	rep.Summary.Count(rep.Findings)
	return rep, nil
}

func (l *Linter) lintFile(ctx context.Context, f loader.File, schemas *schemaCheck) fileResult {
	var res fileResult
	data, err := l.read(f)
	if err != nil {
		res.err = fmt.Errorf("read %s: %w", f.Display, err)
		return res
	}
	if loader.IsBinary(data) {
		res.binary = true
		return res
	}
	docs, synErr := loader.Parse(data, l.opts.Limits)
	res.documents = len(docs)
	text := string(loader.UTF8(data))
	for _, doc := range docs {
		src := FileSource(f.Display, f.Rel, f.Root, doc.Index, text)
		in, err := ObjectInput(l.cfg, doc.Object, src, doc.DuplicateKeys)
		if err != nil {
			res.err = fmt.Errorf("%s: %w", f.Display, err)
			return res
		}
		out, err := l.engine.Eval(ctx, in)
		if err != nil {
			res.err = fmt.Errorf("%s (document %d): %w", f.Display, doc.Index+1, err)
			return res
		}
		kind, ns, name := Identity(doc.Object)
		for _, v := range out.Violations {
			res.findings = append(res.findings, place(v, f.Display, doc.Node, kind, ns, name))
		}
		if schemas != nil {
			res.findings = append(res.findings, schemas.check(f.Display, src.Base, doc.Node, doc.Object, kind, ns, name)...)
		}
		if s, ok := waiver.SiteOf(f.Display, doc.Node, doc.Object, kind, ns, name); ok {
			res.waivers = append(res.waivers, s)
		}
		for _, fact := range out.Facts {
			res.facts = append(res.facts, locate(fact, f, doc.Node, kind, ns, name))
		}
	}
	if synErr != nil {
		in, err := SyntaxErrorInput(FileSource(f.Display, f.Rel, f.Root, 0, ""), synErr)
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

// read reads no more of a file than Parse needs to tell it is over the size limit.
func (l *Linter) read(f loader.File) ([]byte, error) {
	if f.OSPath == loader.Stdin {
		return loader.ReadAll(l.opts.Stdin, l.opts.Limits)
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
	return finding.Finding{
		Rule: v.Rule.ID, Severity: v.Rule.Severity,
		File: file, Line: line, Column: col,
		Kind: kind, Namespace: ns, Name: name,
		Message: finding.Compose(v.Message, v.Fix, src),
		Problem: v.Message, Fix: v.Fix, Source: src,
	}
}

// locate adds the location of a fact's field, so a repo-scope violation can point at it later
// without keeping the document.
func locate(fact engine.Fact, f loader.File, node *yaml.Node, kind, ns, name string) map[string]any {
	path, _ := fact["path"].([]any)
	line, col := loader.Position(node, path)
	out := make(map[string]any, len(fact)+1)
	for k, v := range fact {
		out[k] = v
	}
	out["at"] = map[string]any{
		"file": f.Display, "line": line, "column": col,
		"kind": kind, "namespace": ns, "name": name,
	}
	return out
}

func (l *Linter) repoPass(ctx context.Context, facts []map[string]any) ([]finding.Finding, error) {
	in, err := RepoInput(facts, !l.opts.Partial)
	if err != nil {
		return nil, err
	}
	out, err := l.engine.Eval(ctx, in)
	if err != nil {
		return nil, fmt.Errorf("repo-scope rules: %w", err)
	}
	var fs []finding.Finding
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
		fs = append(fs, newFinding(v, str("file"), line, col, str("kind"), str("namespace"), str("name")))
	}
	return fs, nil
}
