package report

import (
	"encoding/xml"
	"fmt"
	"io"

	"github.com/openova-io/ova-lint/linter/finding"
)

type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name     string      `xml:"name,attr"`
	Tests    int         `xml:"tests,attr"`
	Failures int         `xml:"failures,attr"`
	Errors   int         `xml:"errors,attr"`
	Cases    []junitCase `xml:"testcase"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	File      string        `xml:"file,attr,omitempty"`
	Line      int           `xml:"line,attr,omitempty"`
	Failure   *junitFailure `xml:"failure,omitempty"`
	SystemOut string        `xml:"system-out,omitempty"`
}

type junitFailure struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Body    string `xml:",chardata"`
}

// JUnit writes a JUnit XML report: one testsuite per file with findings, one testcase per
// finding. A finding at or above the fail-on threshold (Options.FailOn; error when unset or
// "never") is a <failure>; one below it passes with the finding in <system-out>, so the test
// view agrees with the exit status. A run without findings is one passing testcase.
func JUnit(w io.Writer, rep *finding.Report, opts Options) error {
	out := junitSuites{Name: "ova-lint"}
	byFile := map[string]int{}
	for _, f := range rep.Findings {
		suite := f.File
		if suite == "" {
			suite = objectOrFile(f) // a live object (ova-lint audit): one suite per object
		}
		i, ok := byFile[suite]
		if !ok {
			i = len(out.Suites)
			byFile[suite] = i
			out.Suites = append(out.Suites, junitSuite{Name: suite})
		}
		s := &out.Suites[i]
		text := fmt.Sprintf("%s: %s %s: %s", Position(f), f.Severity, f.Rule, f.Message)
		c := junitCase{
			Name:      fmt.Sprintf("%s %s (%d:%d)", f.Rule, objectOrFile(f), f.Line, f.Column),
			Classname: suite,
			File:      f.File,
			Line:      f.Line,
		}
		if fails(f.Severity, opts.FailOn) {
			msg := f.Problem
			if msg == "" {
				msg = f.Message
			}
			c.Failure = &junitFailure{Message: msg, Type: f.Severity, Body: text}
			s.Failures++
		} else {
			c.SystemOut = text
		}
		if f.File == "" {
			c.Name = fmt.Sprintf("%s %s (%s)", f.Rule, objectOrFile(f), f.Path)
		}
		s.Cases = append(s.Cases, c)
		s.Tests++
	}
	if len(out.Suites) == 0 {
		sum := rep.Summary
		out.Suites = []junitSuite{{Name: "ova-lint", Tests: 1, Cases: []junitCase{{
			Name:      fmt.Sprintf("%d files, %d documents: no findings", sum.Files, sum.Documents),
			Classname: "ova-lint",
		}}}}
	}
	for _, s := range out.Suites {
		out.Tests += s.Tests
		out.Failures += s.Failures
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(out); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}

func objectOrFile(f finding.Finding) string {
	if ref := objectRef(f); ref != "" {
		return ref
	}
	return f.File
}

// Fail-on thresholds.
const (
	FailOnError   = "error"
	FailOnWarning = "warning"
	FailOnNever   = "never"
)

// fails reports whether a finding of severity sev is at or above the threshold; "never" and ""
// count as error for display.
func fails(sev, failOn string) bool {
	switch sev {
	case "error":
		return true
	case "warning":
		return failOn == FailOnWarning
	}
	return false
}

// Failed reports whether a run's summary fails under the threshold failOn (error, warning,
// never): the exit status of the CLI.
func Failed(s finding.Summary, failOn string) bool {
	switch failOn {
	case FailOnNever:
		return false
	case FailOnWarning:
		return s.Errors+s.Warnings > 0
	}
	return s.Errors > 0
}
