package cli

import (
	"bufio"
	"fmt"
	"io"
	"io/fs"
	"path"
	"strings"

	"github.com/openova-io/ova-lint/linter/engine"
)

// rulesMarkdown writes the rule catalogue as the Markdown page docs/rules.md, one section per
// rule under a heading that is its id (the anchor SARIF's helpUri points at).
func rulesMarkdown(w io.Writer, rules []*engine.Rule, fsys fs.FS) error {
	bw := bufio.NewWriter(w)
	fmt.Fprintln(bw, "# ova-lint rules")
	fmt.Fprintln(bw)
	fmt.Fprintln(bw, "<!-- Generated from the rules' METADATA by `go test ./internal/cli -run TestRulesDoc -update`; do not edit. -->")
	fmt.Fprintln(bw)
	fmt.Fprintln(bw, "Each rule's failing and passing examples are under `fixtures/rules/<rule-id>/`;")
	fmt.Fprintln(bw, "`ova-lint explain <rule-id>` prints them. Waivers: [docs/ci.md](ci.md#waivers).")
	fmt.Fprintln(bw)
	fmt.Fprintln(bw, "| rule | severity | scope | runs | title |")
	fmt.Fprintln(bw, "|---|---|---|---|---|")
	for _, r := range rules {
		fmt.Fprintf(bw, "| [`%s`](#%s) | %s | %s | %s | %s |\n", r.ID, r.ID, r.Severity, r.Scope, runs(r), mdCell(r.Title))
	}
	for _, r := range rules {
		fmt.Fprintf(bw, "\n## %s\n\n", r.ID)
		fmt.Fprintf(bw, "**%s**\n\n", r.Title)
		fmt.Fprintf(bw, "Severity: `%s` · Scope: `%s` · Runs: %s\n\n", r.Severity, r.Scope, runs(r))
		fmt.Fprintln(bw, strings.TrimSpace(r.Description))
		fmt.Fprintln(bw)
		fmt.Fprintln(bw, "Source of truth:")
		fmt.Fprintln(bw)
		for _, s := range r.Sources {
			desc := s.Description
			if desc == "" {
				desc = s.Ref
			}
			if strings.HasPrefix(s.Ref, "https://") || strings.HasPrefix(s.Ref, "http://") {
				fmt.Fprintf(bw, "- [%s](%s)\n", desc, s.Ref)
			} else {
				fmt.Fprintf(bw, "- %s (`%s`)\n", desc, s.Ref)
			}
		}
		if r.Fix != "" {
			fmt.Fprintf(bw, "\nFix (mechanical, `ova-lint lint --fix`): %s.\n", strings.TrimSuffix(r.Fix, "."))
		}
		if cases := fixtureCases(fsys, r.ID); len(cases) > 0 {
			fmt.Fprintf(bw, "\nExamples (`fixtures/rules/%s/`): %s\n", r.ID, strings.Join(cases, ", "))
		}
	}
	return bw.Flush()
}

func fixtureCases(fsys fs.FS, id string) []string {
	entries, err := fs.ReadDir(fsys, path.Join("rules", id))
	if err != nil {
		return nil
	}
	var out []string
	for _, e := range entries {
		if e.IsDir() && (strings.HasPrefix(e.Name(), "fail-") || strings.HasPrefix(e.Name(), "pass-")) {
			out = append(out, "`"+e.Name()+"`")
		}
	}
	return out
}

func mdCell(s string) string { return strings.ReplaceAll(s, "|", `\|`) }
