package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"

	"github.com/openova-io/ova-lint/internal/command"
	"github.com/openova-io/ova-lint/linter/finding"
	"github.com/openova-io/ova-lint/linter/fix"
	"github.com/openova-io/ova-lint/linter/loader"
	"github.com/openova-io/ova-lint/linter/schema"
)

// applyFixes makes the mechanical fixes of rep's findings: with --diff it prints their unified
// diff and returns what would remain; otherwise it writes the files and lints again (relint),
// so the report shows what remains.
func (f *lintFlags) applyFixes(streams IO, rep *finding.Report, files []loader.File, opts fix.Options, relint func() (*finding.Report, error)) (*finding.Report, error) {
	out := computeFixes(streams.Err, rep, files, opts)
	if f.diff {
		if err := out.diff(streams.Out); err != nil {
			return nil, err
		}
		return out.remaining(rep), nil
	}
	if len(out.files) == 0 {
		return rep, nil
	}
	if err := out.write(); err != nil {
		return nil, command.Usage("%v", err)
	}
	fmt.Fprintf(streams.Err, "ova-lint: fixed %d finding(s) in %d file(s)\n", len(out.fixed), len(out.files))
	return relint()
}

// fixedFile is a linted file that the fixes change.
type fixedFile struct {
	file          loader.File
	before, after []byte
}

// fixOutcome is what the fixes of one report do.
type fixOutcome struct {
	files []fixedFile
	// fixed are the indexes (in the report) of the findings whose edits were all made.
	fixed map[int]bool
}

// computeFixes applies, in memory, the edits of the report's findings to the linted files that
// hold them (files, by display path). Waived findings are not in the report, so they are not
// fixed. What cannot be fixed is said on stderr.
func computeFixes(stderr io.Writer, rep *finding.Report, files []loader.File, opts fix.Options) fixOutcome {
	out := fixOutcome{fixed: map[int]bool{}}
	byPath := linkedFiles(files)
	type pending struct {
		file    loader.File
		reqs    []fix.Request
		finding []int
	}
	groups := map[string]*pending{} // by the file's Display
	for i, f := range rep.Findings {
		file, ok := byPath.lookup(f.File)
		if !ok {
			continue
		}
		if f.Unfixable != "" {
			fmt.Fprintf(stderr, "ova-lint: --fix: %s:%d:%d: %s not fixed: %s\n", f.File, f.Line, f.Column, f.Rule, f.Unfixable)
		}
		if len(f.Edits) == 0 {
			continue
		}
		g := groups[file.Display]
		if g == nil {
			g = &pending{file: file}
			groups[file.Display] = g
		}
		g.reqs = append(g.reqs, fix.RequestOf(f))
		g.finding = append(g.finding, i)
	}
	names := make([]string, 0, len(groups))
	for name := range groups {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		g := groups[name]
		file := g.file
		before, err := os.ReadFile(file.OSPath)
		if err != nil {
			fmt.Fprintf(stderr, "ova-lint: --fix: %s: %v\n", name, err)
			continue
		}
		after, results, err := fix.Apply(before, g.reqs, opts)
		if err != nil {
			fmt.Fprintf(stderr, "ova-lint: --fix: %s: not fixed: %v\n", name, err)
			continue
		}
		for j, r := range results {
			f := rep.Findings[g.finding[j]]
			if r.Applied {
				out.fixed[g.finding[j]] = true
				continue
			}
			fmt.Fprintf(stderr, "ova-lint: --fix: %s:%d:%d: %s not fixed: %s\n", f.File, f.Line, f.Column, f.Rule, r.Reason)
		}
		if string(after) != string(before) {
			out.files = append(out.files, fixedFile{file: file, before: before, after: after})
		}
	}
	return out
}

// write writes the fixed files in place (their mode is kept).
func (o fixOutcome) write() error {
	var errs []error
	for _, f := range o.files {
		if err := os.WriteFile(f.file.OSPath, f.after, 0o644); err != nil {
			errs = append(errs, fmt.Errorf("--fix: %w", err))
		}
	}
	return errors.Join(errs...)
}

// diff writes the unified diff of the fixes, with paths relative to the repository root.
func (o fixOutcome) diff(w io.Writer) error {
	for _, f := range o.files {
		if _, err := io.WriteString(w, fix.Diff(f.file.Rel, f.before, f.after)); err != nil {
			return fmt.Errorf("write diff: %w", err)
		}
	}
	return nil
}

// remaining is the report without the findings the fixes resolve (what --diff reports on).
func (o fixOutcome) remaining(rep *finding.Report) *finding.Report {
	out := &finding.Report{Summary: rep.Summary, Findings: []finding.Finding{}}
	for i, f := range rep.Findings {
		if !o.fixed[i] {
			out.Findings = append(out.Findings, f)
		}
	}
	out.Summary.Count(out.Findings)
	return out
}

// fixOptions guards apiVersion edits with the schema validator of the run (none with
// --no-schema: such edits are then not made).
func fixOptions(schemaOpts *schema.Options) fix.Options {
	if schemaOpts == nil {
		return fix.Options{}
	}
	v, err := schema.New(*schemaOpts)
	if err != nil {
		return fix.Options{}
	}
	return fix.Options{AcceptAPIVersion: func(obj map[string]any) error {
		errs, err := v.Validate(obj)
		if err != nil {
			return err
		}
		if len(errs) > 0 {
			return errors.New(errs[0].String())
		}
		return nil
	}}
}

// planReplacements gives the report's findings in linted files the replacements of their
// fixes (SARIF carries them).
func planReplacements(rep *finding.Report, files []loader.File, opts fix.Options) {
	byPath := linkedFiles(files)
	fix.PlanFindings(rep.Findings, func(file string) ([]byte, bool) {
		lf, ok := byPath.lookup(file)
		if !ok {
			return nil, false
		}
		data, err := os.ReadFile(lf.OSPath)
		return data, err == nil
	}, opts)
}

// fileIndex finds the linted file of a finding. Findings name files relative to the working
// directory, but by more than one route (a build's source shown from the repository root, or
// the file as walked), so files are matched by absolute path.
type fileIndex map[string]loader.File

func linkedFiles(files []loader.File) fileIndex {
	idx := make(fileIndex, len(files))
	for _, f := range files {
		if f.OSPath == loader.Stdin {
			continue
		}
		if abs, err := filepath.Abs(f.OSPath); err == nil {
			idx[abs] = f
		}
	}
	return idx
}

func (idx fileIndex) lookup(display string) (loader.File, bool) {
	abs, err := filepath.Abs(filepath.FromSlash(display))
	if err != nil {
		return loader.File{}, false
	}
	f, ok := idx[abs]
	return f, ok
}
