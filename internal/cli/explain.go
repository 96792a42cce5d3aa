package cli

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"path"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/openova-io/ova-lint/fixtures"
	"github.com/openova-io/ova-lint/internal/command"
	"github.com/openova-io/ova-lint/linter/engine"
	"github.com/openova-io/ova-lint/linter/finding"
)

func newExplainCmd(streams IO) *cobra.Command {
	var f command.CommonFlags
	cmd := &cobra.Command{
		Use:   "explain RULE",
		Short: "Explain a rule: what it checks, its source of truth, a failing and a passing example",
		Long: "Explain a rule of the catalogue (see `ova-lint rules`): its description, severity, scope,\n" +
			"where it runs, the source of truth it enforces, and a failing and a passing example taken\n" +
			"from the fixtures the rule is tested with (fixtures/rules/<rule-id>/), with what ova-lint\n" +
			"reports on the failing one.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := f.Load(".")
			if err != nil {
				return err
			}
			eng, err := engine.New(cmd.Context(), engine.Options{PolicyDirs: f.PolicyDirs, Config: cfg})
			if err != nil {
				return command.Usage("%v", err)
			}
			r := eng.Rule(args[0])
			if r == nil {
				return command.Usage("unknown rule %q (see `ova-lint rules`)", args[0])
			}
			if err := explain(streams.Out, r, fixtures.Rules); err != nil {
				return err
			}
			return explainParams(streams.Out, r, cfg.Params)
		},
	}
	f.Register(cmd)
	return cmd
}

// explain writes the explanation of rule r, with examples from fsys (rules/<id>/<case>/).
func explain(w io.Writer, r *engine.Rule, fsys fs.FS) error {
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "%s: %s\n\n", r.ID, r.Title)
	sev := r.Severity
	if r.Disabled {
		sev += " (disabled by config)"
	}
	fmt.Fprintf(bw, "Severity: %s   Scope: %s   Runs: %s\n\n", sev, r.Scope, runs(r))
	for _, line := range wrap(r.Description, 96) {
		fmt.Fprintln(bw, line)
	}
	fmt.Fprintln(bw)
	fmt.Fprintln(bw, "Source of truth:")
	for _, s := range r.Sources {
		if s.Description != "" {
			fmt.Fprintf(bw, "  - %s (%s)\n", s.Description, s.Ref)
		} else {
			fmt.Fprintf(bw, "  - %s\n", s.Ref)
		}
	}
	if r.Fix != "" {
		fmt.Fprintln(bw)
		fmt.Fprintln(bw, "Fix (mechanical: ova-lint lint --fix applies it, --fix --diff shows it):")
		for _, line := range wrap(r.Fix, 94) {
			fmt.Fprintf(bw, "  %s\n", line)
		}
	}
	for _, kind := range []string{"fail", "pass"} {
		fmt.Fprintln(bw)
		if err := example(bw, r, fsys, kind); err != nil {
			return err
		}
	}
	return bw.Flush()
}

// example writes the first case of the rule whose name starts with kind ("fail" or "pass").
func example(w io.Writer, r *engine.Rule, fsys fs.FS, kind string) error {
	title := map[string]string{"fail": "Failing example", "pass": "Passing example"}[kind]
	dir := path.Join("rules", r.ID)
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		fmt.Fprintf(w, "%s: none in fixtures/%s\n", title, dir)
		return nil
	}
	var caseDir string
	for _, e := range entries {
		if e.IsDir() && strings.HasPrefix(e.Name(), kind+"-") {
			caseDir = path.Join(dir, e.Name())
			break
		}
	}
	if caseDir == "" {
		fmt.Fprintf(w, "%s: none in fixtures/%s\n", title, dir)
		return nil
	}
	fmt.Fprintf(w, "%s (fixtures/%s):\n", title, caseDir)
	var files []string
	err = fs.WalkDir(fsys, caseDir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		if rel := strings.TrimPrefix(p, caseDir+"/"); rel != fixtures.ExpectedFile {
			files = append(files, rel)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("read fixture %s: %w", caseDir, err)
	}
	sort.Strings(files)
	for _, rel := range files {
		data, err := fs.ReadFile(fsys, path.Join(caseDir, rel))
		if err != nil {
			return fmt.Errorf("read fixture: %w", err)
		}
		fmt.Fprintf(w, "\n  # %s\n", rel)
		for _, line := range strings.Split(strings.TrimRight(string(data), "\n"), "\n") {
			fmt.Fprintf(w, "  %s\n", line)
		}
	}
	raw, err := fs.ReadFile(fsys, path.Join(caseDir, fixtures.ExpectedFile))
	if err != nil {
		return nil // a case without a recorded report shows its files only
	}
	var rep finding.Report
	if err := json.Unmarshal(raw, &rep); err != nil {
		return fmt.Errorf("fixture %s/%s: %w", caseDir, fixtures.ExpectedFile, err)
	}
	var own []finding.Finding
	for _, f := range rep.Findings {
		if f.Rule == r.ID {
			own = append(own, f)
		}
	}
	if len(own) == 0 {
		fmt.Fprintf(w, "\n  ova-lint reports no %s finding.\n", r.ID)
		return nil
	}
	fmt.Fprintln(w, "\n  ova-lint reports:")
	for _, f := range own {
		fmt.Fprintf(w, "  %s:%d:%d: %s %s: %s\n", f.File, f.Line, f.Column, f.Severity, f.Rule, f.Message)
	}
	return nil
}

// wrap breaks text into lines of at most width characters at spaces.
func wrap(text string, width int) []string {
	var lines []string
	for _, para := range strings.Split(text, "\n") {
		words := strings.Fields(para)
		line := ""
		for _, word := range words {
			if line != "" && len(line)+1+len(word) > width {
				lines = append(lines, line)
				line = ""
			}
			if line != "" {
				line += " "
			}
			line += word
		}
		lines = append(lines, line)
	}
	return lines
}

// explainParams lists the parameters the rule reads (custom.params): each one's schema, which
// .ova-lint.yaml is checked against, and its value in the effective configuration.
func explainParams(w io.Writer, r *engine.Rule, params map[string]any) error {
	if len(r.Params) == 0 {
		return nil
	}
	paths := make([]string, 0, len(r.Params))
	for p := range r.Params {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	bw := bufio.NewWriter(w)
	fmt.Fprintln(bw)
	fmt.Fprintln(bw, "Parameters (params: in .ova-lint.yaml, checked against these schemas when it loads):")
	for _, p := range paths {
		schema := compactJSON(r.Params[p])
		var cur any = params
		for _, k := range strings.Split(p, ".") {
			m, _ := cur.(map[string]any)
			cur = m[k]
		}
		fmt.Fprintf(bw, "  %s: %s\n    schema: %s\n", p, compactJSON(cur), schema)
	}
	return bw.Flush()
}

// compactJSON renders v on one line, without escaping <, > and &.
func compactJSON(v any) string {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return fmt.Sprint(v)
	}
	return strings.TrimSuffix(b.String(), "\n")
}
