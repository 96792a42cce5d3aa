package report_test

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/openova-io/ova-lint/linter/finding"
	"github.com/openova-io/ova-lint/linter/report"
)

// TestTextSummarySkipped: the text summary says what the skipped files were; the JSON summary
// counts binary files in skipped and has no field for them.
func TestTextSummarySkipped(t *testing.T) {
	tests := []struct {
		name    string
		summary finding.Summary
		text    string
	}{
		{"nothing skipped", finding.Summary{Files: 2, Documents: 3}, "2 files, 3 documents, 0 skipped (Helm templates): 0 errors, 0 warnings\n"},
		{"templates", finding.Summary{Files: 2, Documents: 3, Skipped: 2}, "2 files, 3 documents, 2 skipped (Helm templates): 0 errors, 0 warnings\n"},
		{"binary", finding.Summary{Files: 2, Documents: 3, Skipped: 1, Binary: 1}, "2 files, 3 documents, 1 skipped (binary): 0 errors, 0 warnings\n"},
		{"both", finding.Summary{Files: 2, Documents: 3, Skipped: 3, Binary: 1, Errors: 1}, "2 files, 3 documents, 3 skipped (2 Helm templates, 1 binary): 1 errors, 0 warnings\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rep := &finding.Report{Findings: []finding.Finding{}, Summary: tt.summary}
			var text, js bytes.Buffer
			require.NoError(t, report.Text(&text, rep, report.Options{}))
			assert.Equal(t, tt.text, text.String())
			require.NoError(t, report.JSON(&js, rep, report.Options{}))
			assert.NotContains(t, js.String(), "binary")
		})
	}
}
