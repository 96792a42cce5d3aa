package report

import "github.com/openova-io/ova-lint/linter/finding"

// sarifFix is a SARIF fix: the replacements that make a finding's mechanical fix (what
// `ova-lint lint --fix` does for it alone), so code-scanning UIs can offer it.
type sarifFix struct {
	Description     sarifText           `json:"description"`
	ArtifactChanges []sarifArtifactEdit `json:"artifactChanges"`
}

type sarifArtifactEdit struct {
	ArtifactLocation sarifArtifact      `json:"artifactLocation"`
	Replacements     []sarifReplacement `json:"replacements"`
}

type sarifReplacement struct {
	DeletedRegion   sarifSpan  `json:"deletedRegion"`
	InsertedContent *sarifText `json:"insertedContent,omitempty"`
}

// sarifSpan is a region from a start to an (exclusive) end; equal ends are an insertion point.
type sarifSpan struct {
	StartLine   int `json:"startLine"`
	StartColumn int `json:"startColumn"`
	EndLine     int `json:"endLine"`
	EndColumn   int `json:"endColumn"`
}

// sarifFixes is the fix of a finding whose edits the fixer could place, else nil.
func sarifFixes(f finding.Finding) []sarifFix {
	if len(f.Replacements) == 0 || f.File == "" {
		return nil
	}
	change := sarifArtifactEdit{ArtifactLocation: sarifArtifact{URI: fileURI(f.File), URIBaseID: "%SRCROOT%"}}
	for _, r := range f.Replacements {
		rep := sarifReplacement{DeletedRegion: sarifSpan{StartLine: r.StartLine, StartColumn: r.StartColumn, EndLine: r.EndLine, EndColumn: r.EndColumn}}
		if r.Text != "" {
			rep.InsertedContent = &sarifText{Text: r.Text}
		}
		change.Replacements = append(change.Replacements, rep)
	}
	desc := f.Fix
	if desc == "" {
		desc = "apply the fix of " + f.Rule
	}
	return []sarifFix{{Description: sarifText{Text: desc}, ArtifactChanges: []sarifArtifactEdit{change}}}
}
