package report

import (
	"encoding/json"
	"io"

	"github.com/openova-io/ova-lint/linter/finding"
)

// JSON writes the report contract: {"findings":[...],"summary":{...}}.
func JSON(w io.Writer, rep *finding.Report, _ Options) error {
	out := *rep
	if out.Findings == nil {
		out.Findings = []finding.Finding{}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}
