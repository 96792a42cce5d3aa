package report

import (
	"encoding/json"
	"io"

	"github.com/openova-io/ova-lint/linter/finding"
)

// gitlabIssue is one entry of a GitLab Code Quality report (a subset of the Code Climate spec).
type gitlabIssue struct {
	Type        string         `json:"type"`
	CheckName   string         `json:"check_name"`
	Description string         `json:"description"`
	Severity    string         `json:"severity"`
	Fingerprint string         `json:"fingerprint"`
	EngineName  string         `json:"engine_name"`
	Location    gitlabLocation `json:"location"`
}

type gitlabLocation struct {
	Path  string      `json:"path"`
	Lines gitlabLines `json:"lines"`
}

type gitlabLines struct {
	Begin int `json:"begin"`
}

// GitLab writes a GitLab Code Quality report: a JSON array with one issue per finding,
// severity error→major, warning→minor, info→info, and a fingerprint that stays the same when
// lines move (see Fingerprints), so merge requests show new and fixed findings.
func GitLab(w io.Writer, rep *finding.Report, _ Options) error {
	out := make([]gitlabIssue, 0, len(rep.Findings))
	fps := Fingerprints(rep.Findings)
	for i, f := range rep.Findings {
		out = append(out, gitlabIssue{
			Type:        "issue",
			CheckName:   f.Rule,
			Description: f.Message,
			Severity:    gitlabSeverity(f.Severity),
			Fingerprint: fps[i],
			EngineName:  "ova-lint",
			Location:    gitlabLocation{Path: locationPath(f), Lines: gitlabLines{Begin: max(f.Line, 1)}},
		})
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(out)
}

// locationPath is the file of a finding, or for a live object's finding the object and field.
func locationPath(f finding.Finding) string {
	if f.File == "" {
		return Position(f)
	}
	return f.File
}

func gitlabSeverity(sev string) string {
	switch sev {
	case "error":
		return "major"
	case "warning":
		return "minor"
	}
	return "info"
}
