// Package report writes a finding.Report in the output formats ova-lint supports, one file per
// format.
package report

import (
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/openova-io/ova-lint/linter/engine"
	"github.com/openova-io/ova-lint/linter/finding"
)

// Options tune the writers.
type Options struct {
	// Color adds ANSI colours (text format, on a terminal only).
	Color bool
	// Verbose includes info-severity findings in the text format.
	Verbose bool
	// Rules is the catalogue, for formats that describe rules (SARIF).
	Rules []*engine.Rule
	// ToolVersion is the ova-lint version.
	ToolVersion string
	// FailOn is the run's threshold (error, warning, never), for formats that mark failures
	// (JUnit).
	FailOn string
}

// Position places a finding for people: "file:line:col", or for a live object's finding (no
// file: `ova-lint audit`) "Kind namespace/name: field.path".
func Position(f finding.Finding) string {
	if f.File != "" || (f.Kind == "" && f.Name == "") {
		return fmt.Sprintf("%s:%d:%d", f.File, f.Line, f.Column)
	}
	where := f.Kind + " " + f.Name
	if f.Namespace != "" {
		where = f.Kind + " " + f.Namespace + "/" + f.Name
	}
	if f.Path != "" {
		where += ": " + f.Path
	}
	return where
}

// Writer writes one report in one format.
type Writer func(w io.Writer, rep *finding.Report, opts Options) error

var writers = map[string]Writer{
	"text":   Text,
	"json":   JSON,
	"sarif":  SARIF,
	"junit":  JUnit,
	"github": GitHub,
	"gitlab": GitLab,
}

// Formats lists the supported format names.
func Formats() []string {
	names := make([]string, 0, len(writers))
	for n := range writers {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Lookup returns the writer of a format.
func Lookup(format string) (Writer, error) {
	w, ok := writers[format]
	if !ok {
		return nil, fmt.Errorf("unknown format %q (supported: %s)", format, strings.Join(Formats(), ", "))
	}
	return w, nil
}
