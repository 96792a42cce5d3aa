package report_test

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/openova-io/ova-lint/linter/finding"
	"github.com/openova-io/ova-lint/linter/report"
)

// The Flux version a run used, and why, is a text line and two JSON summary fields; both are
// absent when the profile's default was used, so the JSON contract is unchanged then.
func TestFluxVersionInSummary(t *testing.T) {
	pinned := finding.Summary{Files: 1, Documents: 1, FluxVersion: "2.7", FluxVersionSource: "pinned by gotk-components.yaml: # Flux Version: v2.7.2"}
	rep := &finding.Report{Findings: []finding.Finding{}, Summary: pinned}
	var text, js bytes.Buffer
	require.NoError(t, report.Text(&text, rep, report.Options{}))
	assert.Equal(t, "Flux 2.7 schemas and APIs: pinned by gotk-components.yaml: # Flux Version: v2.7.2\n1 files, 1 documents, 0 skipped (Helm templates): 0 errors, 0 warnings\n", text.String())
	require.NoError(t, report.JSON(&js, rep, report.Options{}))
	assert.Contains(t, js.String(), `"flux_version": "2.7"`)
	assert.Contains(t, js.String(), `"flux_version_source": "pinned by gotk-components.yaml: # Flux Version: v2.7.2"`)

	rep.Summary = finding.Summary{Files: 1, Documents: 1}
	text.Reset()
	js.Reset()
	require.NoError(t, report.Text(&text, rep, report.Options{}))
	assert.NotContains(t, text.String(), "Flux")
	require.NoError(t, report.JSON(&js, rep, report.Options{}))
	assert.NotContains(t, js.String(), "flux_version")
}
