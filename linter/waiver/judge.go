package waiver

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/openova-io/ova-lint/linter/config"
	"github.com/openova-io/ova-lint/linter/finding"
	"github.com/openova-io/ova-lint/linter/loader"
)

// Options tune a Judge.
type Options struct {
	// Now decides expiry; nil means time.Now.
	Now func() time.Time
	// ReportUnused reports waivers that exempt nothing (waiver-unused).
	ReportUnused bool
	// Partial marks a run over part of the tree: unused config waivers are not reported, since
	// the files they select may not have been linted.
	Partial bool
}

// Site is the waiver annotation of one linted document.
type Site struct {
	// File is the display path of the document's file, as in findings.
	File string
	// FromLine and ToLine bound the document: a finding in File on a line in between is about it.
	FromLine, ToLine int
	// Line and Column locate the annotation.
	Line, Column          int
	Kind, Namespace, Name string

	waiver *Waiver
	err    error
}

// SiteOf reads the waiver annotation of one document (node is its root content node, obj its
// decoded value). ok is false when the document has none. The waiver is checked by the Judge.
func SiteOf(file string, node *yaml.Node, obj any, kind, namespace, name string) (s Site, ok bool) {
	value, ok, isString := AnnotationValue(obj)
	if !ok {
		return s, false
	}
	s = Site{File: file, Kind: kind, Namespace: namespace, Name: name}
	s.FromLine, s.ToLine = span(node)
	s.Line, s.Column = loader.Position(node, AnnotationPath())
	if !isString {
		s.err = fmt.Errorf("the annotation value must be a string %s", Syntax)
	} else {
		s.waiver, s.err = Parse(value)
	}
	return s, true
}

// span returns the first and last line of any node below n.
func span(n *yaml.Node) (from, to int) {
	if n == nil {
		return 0, 0
	}
	from, to = n.Line, n.Line
	var walk func(*yaml.Node)
	walk = func(n *yaml.Node) {
		if n.Line > to {
			to = n.Line
		}
		if n.Line > 0 && n.Line < from {
			from = n.Line
		}
		if n.Kind == yaml.ScalarNode && (n.Style&(yaml.LiteralStyle|yaml.FoldedStyle)) != 0 {
			if end := n.Line + strings.Count(n.Value, "\n"); end > to {
				to = end
			}
		}
		for _, c := range n.Content {
			walk(c)
		}
	}
	walk(n)
	return from, to
}

// entry is one waiver of the config.
type entry struct {
	index  int
	glob   string
	waiver *Waiver
	err    error
	used   map[string]bool
}

// Judge applies the waivers of one run: the annotations found on the linted documents and the
// waivers of the config. It is not safe for concurrent use; build one per run.
type Judge struct {
	// configDir is the directory of the config file: its waiver paths are relative to it.
	configDir string
	cat       Catalogue
	opts      Options
	// configFile is the config's display path; configNode its YAML tree, for positions.
	configFile string
	configNode *yaml.Node
	entries    []*entry
}

// New returns a Judge for the waivers of cfg, checked against the catalogue.
func New(cat Catalogue, cfg *config.Config, opts Options) *Judge {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	j := &Judge{cat: cat, opts: opts}
	if cfg == nil {
		return j
	}
	if len(cfg.Waivers) > 0 {
		j.configFile = config.FileName
		if cfg.Source != "" {
			j.configFile = displayPath(cfg.Source)
			if abs, err := filepath.Abs(cfg.Source); err == nil {
				j.configDir = filepath.Dir(abs)
			}
			if raw, err := os.ReadFile(cfg.Source); err == nil {
				var doc yaml.Node
				if yaml.Unmarshal(raw, &doc) == nil && len(doc.Content) > 0 {
					j.configNode = doc.Content[0]
				}
			}
		}
	}
	for i, cw := range cfg.Waivers {
		e := &entry{index: i, glob: cw.Path, used: map[string]bool{}}
		w := &Waiver{Reason: strings.TrimSpace(cw.Reason)}
		for _, id := range cw.Rules {
			if id = strings.TrimSpace(id); id != "" {
				w.Rules = append(w.Rules, id)
			}
		}
		switch {
		case strings.TrimSpace(cw.Path) == "":
			e.err = fmt.Errorf("path (a glob of the files it exempts) is required")
		case config.ValidateGlob(cw.Path) != nil:
			e.err = config.ValidateGlob(cw.Path)
		case len(w.Rules) == 0:
			e.err = fmt.Errorf("rules (the rule ids it exempts) is required")
		case w.Reason == "":
			e.err = fmt.Errorf("a waiver needs a reason")
		}
		if e.err == nil {
			e.err = w.setUntil(strings.TrimSpace(cw.Until))
		}
		if e.err == nil {
			e.err = w.Check(cat)
		}
		e.waiver = w
		j.entries = append(j.entries, e)
	}
	return j
}

func displayPath(p string) string {
	abs, err := filepath.Abs(p)
	if err != nil {
		return filepath.ToSlash(p)
	}
	if cwd, err := os.Getwd(); err == nil {
		if rel, err := filepath.Rel(cwd, abs); err == nil {
			return filepath.ToSlash(rel)
		}
	}
	return filepath.ToSlash(abs)
}

// Apply removes the findings that a valid waiver exempts and adds the waiver findings. sites
// are the annotations of the linted documents; files are the linted files (their root-relative
// paths are what config globs match, besides the display path).
func (j *Judge) Apply(fs []finding.Finding, sites []Site, files []loader.File) []finding.Finding {
	now := j.opts.Now()
	var extra []finding.Finding

	// Object waivers: check each, report the broken ones, keep the ones that apply.
	type active struct {
		site *Site
		used map[string]bool
	}
	byFile := map[string][]*active{}
	for i := range sites {
		s := &sites[i]
		what := "annotation on " + objectName(s.Kind, s.Namespace, s.Name)
		err := s.err
		if err == nil {
			err = s.waiver.Check(j.cat)
		}
		switch {
		case err != nil:
			extra = j.add(extra, invalidProblem(what, err), s.File, s.Line, s.Column, s)
		case s.waiver.Expired(now):
			extra = j.add(extra, expiredProblem(what, s.waiver), s.File, s.Line, s.Column, s)
		default:
			byFile[s.File] = append(byFile[s.File], &active{site: s, used: map[string]bool{}})
		}
	}
	var live []*entry
	for _, e := range j.entries {
		line, col := j.entryPosition(e.index)
		what := fmt.Sprintf("config waivers[%d], path %s", e.index, e.glob)
		switch {
		case e.err != nil:
			extra = j.add(extra, invalidProblem(what, e.err), j.configFile, line, col, nil)
		case e.waiver.Expired(now):
			extra = j.add(extra, expiredProblem(what, e.waiver), j.configFile, line, col, nil)
		default:
			live = append(live, e)
		}
	}

	var rel map[string]string // the path config globs match, by display path: only for live config waivers
	if len(live) > 0 {
		rel = make(map[string]string, len(files))
		for _, f := range files {
			rel[f.Display] = f.Rel
			// a config waiver's path is relative to the directory of the config file that holds it
			if j.configDir != "" && f.OSPath != loader.Stdin {
				if abs, err := filepath.Abs(f.OSPath); err == nil {
					if r, err := filepath.Rel(j.configDir, abs); err == nil && !strings.HasPrefix(r, "..") {
						rel[f.Display] = filepath.ToSlash(r)
					}
				}
			}
		}
	}
	kept := make([]finding.Finding, 0, len(fs))
next:
	for _, f := range fs {
		if strings.HasPrefix(f.Rule, "waiver-") {
			kept = append(kept, f)
			continue
		}
		for _, a := range byFile[f.File] {
			if f.Line >= a.site.FromLine && f.Line <= a.site.ToLine && a.site.waiver.Waives(f.Rule) {
				a.used[f.Rule] = true
				continue next
			}
		}
		for _, e := range live {
			if e.waiver.Waives(f.Rule) && (config.MatchGlob(e.glob, f.File) || (rel[f.File] != "" && config.MatchGlob(e.glob, rel[f.File]))) {
				e.used[f.Rule] = true
				continue next
			}
		}
		kept = append(kept, f)
	}

	if j.opts.ReportUnused {
		for _, as := range byFile {
			for _, a := range as {
				if ids := unused(a.site.waiver, a.used); len(ids) > 0 {
					what := "annotation on " + objectName(a.site.Kind, a.site.Namespace, a.site.Name)
					extra = j.add(extra, unusedProblem(what, ids), a.site.File, a.site.Line, a.site.Column, a.site)
				}
			}
		}
		if !j.opts.Partial {
			for _, e := range live {
				if ids := unused(e.waiver, e.used); len(ids) > 0 {
					line, col := j.entryPosition(e.index)
					what := fmt.Sprintf("config waivers[%d], path %s", e.index, e.glob)
					extra = j.add(extra, unusedProblem(what, ids), j.configFile, line, col, nil)
				}
			}
		}
	}
	return append(kept, extra...)
}

func unused(w *Waiver, used map[string]bool) []string {
	var ids []string
	for _, id := range w.Rules {
		if !used[id] {
			ids = append(ids, id)
		}
	}
	return ids
}

func (j *Judge) entryPosition(i int) (int, int) {
	if j.configNode == nil {
		return 1, 1
	}
	return loader.Position(j.configNode, []any{"waivers", i})
}

// add appends the finding of a waiver problem, unless its rule is unknown or disabled.
func (j *Judge) add(fs []finding.Finding, p problem, file string, line, col int, s *Site) []finding.Finding {
	r := j.cat.Rule(p.rule)
	if r == nil || r.Disabled {
		return fs
	}
	if line == 0 {
		line = 1
	}
	if col == 0 {
		col = 1
	}
	f := finding.Finding{
		Rule: r.ID, Severity: r.Severity, File: file, Line: line, Column: col,
		Problem: p.msg, Fix: p.fix, Source: r.SourceText(),
	}
	if s != nil {
		f.Kind, f.Namespace, f.Name = s.Kind, s.Namespace, s.Name
	}
	f.Message = finding.Compose(f.Problem, f.Fix, f.Source)
	return append(fs, f)
}

func objectName(kind, ns, name string) string {
	id := name
	if ns != "" {
		id = ns + "/" + name
	}
	switch {
	case kind == "" && id == "":
		return "this document"
	case kind == "":
		return id
	case id == "":
		return kind
	}
	return kind + " " + id
}
