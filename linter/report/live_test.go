package report_test

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/stretchr/testify/require"

	"github.com/openova-io/ova-lint/linter/finding"
	"github.com/openova-io/ova-lint/linter/report"
)

// live is the report of an audit of live objects (`ova-lint audit`): no file, the object and
// the field path instead.
func live() *finding.Report {
	fs := []finding.Finding{
		{
			Rule: "gitea-url", Severity: "error", Kind: "GitRepository", Namespace: "flux-system", Name: "platform", Path: "spec.url",
			Problem: `GitRepository platform pulls from "https://github.com/acme/platform"`, Fix: "use the Sovereign's Gitea", Source: `platform Flux README, "GitRepository"`,
		},
		{
			Rule: "sync-interval", Severity: "warning", Kind: "ClusterThing", Name: "global", Path: "spec.interval",
			Problem: "interval 5m, the table says 1m", Fix: "set spec.interval: 1m", Source: "Flux docs",
		},
	}
	for i := range fs {
		fs[i].Message = finding.Compose(fs[i].Problem, fs[i].Fix, fs[i].Source)
	}
	rep := &finding.Report{Findings: fs, Summary: finding.Summary{Documents: 12, Skipped: 1, Live: true}}
	rep.Summary.Count(rep.Findings)
	return rep
}

// TestGoldenLive: every format places a live object's finding by kind, namespace/name and field
// path, and the SARIF log (a logicalLocation, no physicalLocation) is valid SARIF 2.1.0.
func TestGoldenLive(t *testing.T) {
	sch := sarifSchema(t)
	for _, format := range report.Formats() {
		t.Run(format, func(t *testing.T) {
			write, err := report.Lookup(format)
			require.NoError(t, err)
			var buf bytes.Buffer
			require.NoError(t, write(&buf, live(), report.Options{Rules: catalogue, ToolVersion: "v0.0.0-test"}))
			golden(t, filepath.Join("testdata", "golden", "live-"+format+"."+ext(format)), buf.Bytes())
			out := buf.String()
			switch format {
			case "json":
				require.Contains(t, out, `"path": "spec.url"`)
				require.Contains(t, out, `"file": ""`)
			case "sarif":
				require.NotContains(t, out, "physicalLocation")
				require.Contains(t, out, `"fullyQualifiedName": "GitRepository/flux-system/platform:spec.url"`)
				inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(buf.Bytes()))
				require.NoError(t, err)
				require.NoError(t, sch.Validate(inst))
			case "github":
				for _, line := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
					if strings.HasPrefix(line, "::") {
						require.Regexp(t, `^::(error|warning|notice) title=[^:,]+::.+$`, line)
					}
				}
			default:
				require.Contains(t, out, "GitRepository flux-system/platform: spec.url")
			}
		})
	}
}
