package report

import (
	"bufio"
	"fmt"
	"io"
	"strings"

	"github.com/openova-io/ova-lint/linter/finding"
)

// GitHub writes GitHub Actions workflow commands, one per finding
// (::error file=…,line=…,col=…,title=…::message; warning and notice alike), which Gitea Actions
// reads as well, and a plain summary line.
func GitHub(w io.Writer, rep *finding.Report, _ Options) error {
	bw := bufio.NewWriter(w)
	for _, f := range rep.Findings {
		cmd := "notice"
		switch f.Severity {
		case "error":
			cmd = "error"
		case "warning":
			cmd = "warning"
		}
		title := "ova-lint " + f.Rule
		if ref := objectRef(f); ref != "" {
			title += " (" + ref + ")"
		}
		if f.File == "" {
			// a live object's finding: no file to annotate, the object and field in the title
			fmt.Fprintf(bw, "::%s title=%s::%s\n", cmd, ghProperty("ova-lint "+f.Rule+" ("+Position(f)+")"), ghData(f.Message))
			continue
		}
		fmt.Fprintf(bw, "::%s file=%s,line=%d,col=%d,title=%s::%s\n", cmd,
			ghProperty(f.File), f.Line, f.Column, ghProperty(title), ghData(f.Message))
	}
	s := rep.Summary
	if s.Live {
		fmt.Fprintf(bw, "ova-lint: %d objects, %d kinds skipped: %d errors, %d warnings, %d info\n", s.Documents, s.Skipped, s.Errors, s.Warnings, s.Infos)
	} else {
		fmt.Fprintf(bw, "ova-lint: %d files, %d documents: %d errors, %d warnings, %d info\n", s.Files, s.Documents, s.Errors, s.Warnings, s.Infos)
	}
	return bw.Flush()
}

// ghData escapes a workflow command's message.
func ghData(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A").Replace(s)
}

// ghProperty escapes a workflow command's property value.
func ghProperty(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A", ":", "%3A", ",", "%2C").Replace(s)
}
