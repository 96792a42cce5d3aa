// Package finding holds the result contract shared by every output format and both doors
// (CLI and admission): a Finding per violation and a Summary per run.
package finding

import (
	"sort"
)

// Finding is one rule violation placed in a file. Its JSON form is a versioned contract that
// other tools parse: rule, severity, file, line, column, kind, namespace, name, message.
type Finding struct {
	Rule      string `json:"rule"`
	Severity  string `json:"severity"`
	File      string `json:"file"`
	Line      int    `json:"line"`
	Column    int    `json:"column"`
	Kind      string `json:"kind"`
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	// Message says what is wrong, names the rule's source of truth and what to do.
	Message string `json:"message"`
	// Chain names how a built or rendered object came to be: the Kustomization, or the
	// HelmRelease, chart and template, down to the file it is shown in. Empty for a file's own
	// documents.
	Chain []string `json:"chain,omitempty"`
	// Path is the field path of a live object's finding (`ova-lint audit`): "spec.prune",
	// "spec.containers[0].env[1].value". File and Line are empty then. Empty for files.
	Path string `json:"path,omitempty"`

	// Problem, Fix and Source are the parts Message is made of, for formats that show them apart.
	Problem string `json:"-"`
	Fix     string `json:"-"`
	Source  string `json:"-"`

	// Edits make the fix mechanical (`ova-lint lint --fix`): set or remove fields of the
	// document the finding is on (the document of File that holds Line). Empty when the fix is
	// not mechanical, or when the finding is on a built or rendered object whose source
	// document does not hold the field as the object has it. Not part of the JSON contract.
	Edits []Edit `json:"-"`
	// Unfixable says why a rule's edits were dropped (an object built with a patch or a
	// substitution, a rendered object), for `--fix` to tell. Not part of the JSON contract.
	Unfixable string `json:"-"`
	// Replacements are the byte-level changes that Edits make in File, computed by the fixer
	// (linter/fix) for the formats that carry fixes (SARIF). Not part of the JSON contract.
	Replacements []Replacement `json:"-"`
}

// Edit sets the field at Path (mapping keys and sequence indexes from the document root) to
// Value, creating missing mapping keys under the deepest existing parent, or, with Remove,
// removes that key.
type Edit struct {
	Path   []any
	Value  any
	Remove bool
}

// Replacement replaces the text between two positions of a file (1-based lines, 1-based
// columns in Unicode code points; End is exclusive, equal to Start for an insertion) with Text.
type Replacement struct {
	StartLine, StartColumn int
	EndLine, EndColumn     int
	Text                   string
}

// Compose builds the Message of a finding from what is wrong, what to do and the source of truth.
func Compose(problem, fix, source string) string {
	msg := problem
	if fix != "" {
		msg += "; fix: " + fix
	}
	if source != "" {
		msg += " [source: " + source + "]"
	}
	return msg
}

// Summary counts what a run looked at and found.
type Summary struct {
	// Files counts the files linted; skipped files are not among them.
	Files     int `json:"files"`
	Documents int `json:"documents"`
	// Skipped counts the files not linted: Helm templates and binary files.
	Skipped  int `json:"skipped"`
	Errors   int `json:"errors"`
	Warnings int `json:"warnings"`
	Infos    int `json:"-"`
	// Binary counts the skipped files that are binary (hold NUL bytes); the rest of Skipped are
	// Helm templates. Not part of the JSON contract.
	Binary int `json:"-"`
	// Patches counts the skipped files that are kustomize patches: linted through the build
	// they patch. Not part of the JSON contract.
	Patches int `json:"-"`
	// Built and Rendered count the documents that kustomize builds and Helm renders produced
	// (omitted when the Flux graph was not built).
	Built    int `json:"built,omitempty"`
	Rendered int `json:"rendered,omitempty"`
	// Live marks an audit of live objects (`ova-lint audit`): Documents counts the objects
	// audited and Skipped the kinds that could not be listed. Not part of the JSON contract.
	Live bool `json:"-"`
	// FluxVersion is the Flux line the run judged Flux objects by, and FluxVersionSource why:
	// set by the configuration or pinned by the tree (gotk-components.yaml, the flux2 chart).
	// Both are omitted when the profile's default was used.
	FluxVersion       string `json:"flux_version,omitempty"`
	FluxVersionSource string `json:"flux_version_source,omitempty"`
}

// Report is the outcome of one run.
type Report struct {
	Findings []Finding `json:"findings"`
	Summary  Summary   `json:"summary"`
}

// Sort orders findings by file, line, column and rule, so every run prints the same order.
func Sort(fs []Finding) {
	sort.SliceStable(fs, func(i, j int) bool {
		a, b := fs[i], fs[j]
		if a.File != b.File {
			return a.File < b.File
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		if a.Column != b.Column {
			return a.Column < b.Column
		}
		if a.Rule != b.Rule {
			return a.Rule < b.Rule
		}
		return a.Message < b.Message
	})
}

// Count recomputes the severity counters of s from fs.
func (s *Summary) Count(fs []Finding) {
	s.Errors, s.Warnings, s.Infos = 0, 0, 0
	for _, f := range fs {
		switch f.Severity {
		case "error":
			s.Errors++
		case "warning":
			s.Warnings++
		default:
			s.Infos++
		}
	}
}
