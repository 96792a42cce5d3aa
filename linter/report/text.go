package report

import (
	"bufio"
	"fmt"
	"io"
	"strings"

	"github.com/openova-io/ova-lint/linter/finding"
)

const (
	ansiReset  = "\x1b[0m"
	ansiBold   = "\x1b[1m"
	ansiRed    = "\x1b[31m"
	ansiYellow = "\x1b[33m"
	ansiBlue   = "\x1b[34m"
)

// Text writes one line per finding, "file:line:col: severity rule-id: message", and a summary.
func Text(w io.Writer, rep *finding.Report, opts Options) error {
	bw := bufio.NewWriter(w)
	for _, f := range rep.Findings {
		if f.Severity == "info" && !opts.Verbose {
			continue
		}
		sev := f.Severity
		if opts.Color {
			sev = colour(f.Severity) + f.Severity + ansiReset
		}
		fmt.Fprintf(bw, "%s: %s %s: %s\n", Position(f), sev, f.Rule, f.Message)
		if len(f.Chain) > 0 {
			fmt.Fprintf(bw, "    via %s\n", strings.Join(f.Chain, " → "))
		}
	}
	s := rep.Summary
	if s.FluxVersion != "" {
		fmt.Fprintf(bw, "Flux %s schemas and APIs: %s\n", s.FluxVersion, s.FluxVersionSource)
	}
	summary := fmt.Sprintf("%d files, %d documents, %d skipped (%s)", s.Files, s.Documents, s.Skipped, skippedKinds(s))
	if s.Live {
		summary = fmt.Sprintf("%d objects, %d kinds skipped", s.Documents, s.Skipped)
	}
	if s.Built > 0 || s.Rendered > 0 {
		summary += fmt.Sprintf(", %d built, %d rendered", s.Built, s.Rendered)
	}
	summary += fmt.Sprintf(": %d errors, %d warnings", s.Errors, s.Warnings)
	if s.Infos > 0 {
		summary += fmt.Sprintf(", %d info", s.Infos)
	}
	if opts.Color {
		summary = ansiBold + summary + ansiReset
	}
	fmt.Fprintln(bw, summary)
	return bw.Flush()
}

func colour(sev string) string {
	switch sev {
	case "error":
		return ansiRed
	case "warning":
		return ansiYellow
	}
	return ansiBlue
}

// skippedKinds says what the skipped files were: "Helm templates", "binary" or
// "2 Helm templates, 1 binary".
func skippedKinds(s finding.Summary) string {
	templates := s.Skipped - s.Binary - s.Patches
	var parts []string
	if s.Patches > 0 {
		parts = append(parts, fmt.Sprintf("%d kustomize patches", s.Patches))
	}
	switch {
	case s.Binary == 0 && s.Patches == 0:
		return "Helm templates"
	case templates == 0 && s.Patches == 0:
		return "binary"
	}
	if templates > 0 {
		parts = append([]string{fmt.Sprintf("%d Helm templates", templates)}, parts...)
	}
	if s.Binary > 0 {
		parts = append(parts, fmt.Sprintf("%d binary", s.Binary))
	}
	return strings.Join(parts, ", ")
}
