package report_test

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/stretchr/testify/require"

	"github.com/openova-io/ova-lint/linter"
	"github.com/openova-io/ova-lint/linter/config"
	"github.com/openova-io/ova-lint/linter/engine"
	"github.com/openova-io/ova-lint/linter/finding"
	"github.com/openova-io/ova-lint/linter/fix"
	"github.com/openova-io/ova-lint/linter/report"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/golden")

// catalogue is a fixed rule catalogue, so the goldens do not change when a policy's wording does.
var catalogue = []*engine.Rule{
	{
		ID: "gitea-url", Title: "GitRepository URL points at the Sovereign's Gitea",
		Description: "spec.url follows https://gitea.<location-code>.<sovereign-domain>/<org>/<repo>.git.",
		Severity:    "error", Scope: "object", Runs: []string{"cli", "admission"},
		Sources: []engine.Source{{Ref: "platform/flux/README.md#gitrepository", Description: "platform Flux README, \"GitRepository\""}},
	},
	{
		ID: "sync-interval", Title: "Sync intervals follow the table",
		Description: "Flux objects reconcile at the intervals of the \"Sync Intervals\" table.",
		Severity:    "warning", Scope: "object", Runs: []string{"cli", "admission"},
		Sources: []engine.Source{{Ref: "https://fluxcd.io/flux/components/source/gitrepositories/#interval", Description: "Flux docs, GitRepository interval"}},
	},
	{
		ID: "yaml-syntax", Title: "File is valid YAML", Description: "A file that does not parse is reported.",
		Severity: "error", Scope: "object", Runs: []string{"cli"}, Disabled: true,
		Sources: []engine.Source{{Ref: "https://yaml.org/spec/1.2.2/"}},
	},
}

func sample() *finding.Report {
	fs := []finding.Finding{
		{
			Rule: "gitea-url", Severity: "error", File: "clusters/fsn1/flux-system/sources.yaml", Line: 9, Column: 3,
			Kind: "GitRepository", Namespace: "flux-system", Name: "platform",
			Problem: `GitRepository platform pulls from "https://github.com/acme/platform"`, Fix: "use the Sovereign's Gitea", Source: `platform Flux README, "GitRepository"`,
		},
		{
			Rule: "sync-interval", Severity: "warning", File: "clusters/fsn1/flux-system/sources.yaml", Line: 7, Column: 3,
			Kind: "GitRepository", Namespace: "flux-system", Name: "platform",
			Problem: "interval 5m, the table says 1m", Fix: "set spec.interval: 1m", Source: "Flux docs",
			// the fixer's replacement of "5m" (SARIF carries it as a fix)
			Replacements: []finding.Replacement{{StartLine: 7, StartColumn: 13, EndLine: 7, EndColumn: 15, Text: "1m"}},
		},
		{
			// special characters for every escaping rule: %, commas, colons, newlines, <&>, quotes
			Rule: "sync-interval", Severity: "info", File: "apps/a dir/weird,name:1.yaml", Line: 2, Column: 1,
			Kind: "HelmRelease", Name: "billing",
			Problem: "100% sure: <b>&\"quoted\"</b>,\nsecond line", Source: "Flux docs",
		},
		{
			Rule: "yaml-syntax", Severity: "error", File: "broken.yaml", Line: 4, Column: 1,
			Problem: "invalid YAML: did not find expected key", Fix: "fix the syntax",
		},
	}
	for i := range fs {
		fs[i].Message = finding.Compose(fs[i].Problem, fs[i].Fix, fs[i].Source)
	}
	rep := &finding.Report{Findings: fs, Summary: finding.Summary{Files: 3, Documents: 5}}
	finding.Sort(rep.Findings)
	rep.Summary.Count(rep.Findings)
	return rep
}

func empty() *finding.Report {
	return &finding.Report{Findings: []finding.Finding{}, Summary: finding.Summary{Files: 2, Documents: 2}}
}

func TestGolden(t *testing.T) {
	reports := map[string]func() *finding.Report{"findings": sample, "empty": empty}
	tests := []struct {
		format, report string
		opts           report.Options
		suffix         string
	}{
		{format: "text", report: "findings"},
		{format: "text", report: "findings", opts: report.Options{Verbose: true}, suffix: "-verbose"},
		{format: "text", report: "empty"},
		{format: "json", report: "findings"},
		{format: "json", report: "empty"},
		{format: "sarif", report: "findings"},
		{format: "sarif", report: "empty"},
		{format: "junit", report: "findings"},
		{format: "junit", report: "findings", opts: report.Options{FailOn: report.FailOnWarning}, suffix: "-fail-on-warning"},
		{format: "junit", report: "empty"},
		{format: "github", report: "findings"},
		{format: "github", report: "empty"},
		{format: "gitlab", report: "findings"},
		{format: "gitlab", report: "empty"},
	}
	covered := map[string]bool{}
	for _, tt := range tests {
		name := tt.format + "-" + tt.report + tt.suffix
		covered[tt.format] = true
		t.Run(name, func(t *testing.T) {
			write, err := report.Lookup(tt.format)
			require.NoError(t, err)
			opts := tt.opts
			opts.Rules, opts.ToolVersion = catalogue, "v0.0.0-test"
			var buf bytes.Buffer
			require.NoError(t, write(&buf, reports[tt.report](), opts))
			golden(t, filepath.Join("testdata", "golden", name+"."+ext(tt.format)), buf.Bytes())
			wellFormed(t, tt.format, buf.Bytes())
		})
	}
	for _, f := range report.Formats() {
		require.True(t, covered[f], "format %s has no golden test", f)
	}
}

func ext(format string) string {
	switch format {
	case "json", "gitlab":
		return "json"
	case "sarif":
		return "sarif"
	case "junit":
		return "xml"
	}
	return "txt"
}

// wellFormed checks that machine formats parse.
func wellFormed(t *testing.T, format string, out []byte) {
	t.Helper()
	switch format {
	case "json", "sarif", "gitlab":
		require.True(t, json.Valid(out), "invalid JSON")
	case "junit":
		var v any
		require.NoError(t, xml.Unmarshal(out, &v))
	case "github":
		for _, line := range strings.Split(strings.TrimSuffix(string(out), "\n"), "\n") {
			if strings.HasPrefix(line, "::") {
				// one command per line: a message never breaks the line
				require.Regexp(t, `^::(error|warning|notice) file=[^,:]+,line=\d+,col=\d+,title=[^:]+::.+$`, line)
			}
		}
	}
}

func golden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
		require.NoError(t, os.WriteFile(path, got, 0o644))
		return
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "missing golden file (run go test ./linter/report -update)")
	require.Equal(t, string(want), string(got), "%s differs (run go test ./linter/report -update to accept)", path)
}

func sarifSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", "schema", "sarif-schema-2.1.0.json"))
	require.NoError(t, err)
	defer f.Close()
	doc, err := jsonschema.UnmarshalJSON(f)
	require.NoError(t, err)
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	require.NoError(t, c.AddResource("sarif-schema-2.1.0.json", doc))
	sch, err := c.Compile("sarif-schema-2.1.0.json")
	require.NoError(t, err)
	return sch
}

// TestSARIFSchema validates SARIF output against the official SARIF 2.1.0 JSON schema: the
// goldens, and a real run over the demo tree with the real catalogue.
func TestSARIFSchema(t *testing.T) {
	sch := sarifSchema(t)
	validate := func(t *testing.T, out []byte) {
		t.Helper()
		inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(out))
		require.NoError(t, err)
		require.NoError(t, sch.Validate(inst))
	}
	t.Run("negative control", func(t *testing.T) {
		inst, err := jsonschema.UnmarshalJSON(strings.NewReader(`{"version":"2.1.0","runs":[{"tool":{"driver":{}}}]}`))
		require.NoError(t, err)
		require.Error(t, sch.Validate(inst), "the schema must reject a driver without a name")
	})
	for _, name := range []string{"sarif-findings.sarif", "sarif-empty.sarif"} {
		t.Run(name, func(t *testing.T) {
			out, err := os.ReadFile(filepath.Join("testdata", "golden", name))
			require.NoError(t, err)
			validate(t, out)
		})
	}
	t.Run("fixes of a tree, real catalogue and fixer", func(t *testing.T) {
		ctx := context.Background()
		cfg, err := config.Default()
		require.NoError(t, err)
		eng, err := engine.New(ctx, engine.Options{Config: cfg})
		require.NoError(t, err)
		rep, err := linter.New(eng, cfg, linter.Options{}).Lint(ctx, []string{filepath.Join("testdata", "fixable")})
		require.NoError(t, err)
		fix.PlanFindings(rep.Findings, func(file string) ([]byte, bool) {
			data, err := os.ReadFile(file)
			return data, err == nil
		}, fix.Options{})
		var buf bytes.Buffer
		require.NoError(t, report.SARIF(&buf, rep, report.Options{Rules: eng.Rules(), ToolVersion: "dev"}))
		validate(t, buf.Bytes())
		var log struct {
			Runs []struct {
				Results []struct {
					RuleID string `json:"ruleId"`
					Fixes  []struct {
						ArtifactChanges []struct {
							ArtifactLocation struct {
								URI string `json:"uri"`
							} `json:"artifactLocation"`
							Replacements []struct {
								DeletedRegion struct {
									StartLine, StartColumn, EndLine, EndColumn int
								} `json:"deletedRegion"`
								InsertedContent struct {
									Text string `json:"text"`
								} `json:"insertedContent"`
							} `json:"replacements"`
						} `json:"artifactChanges"`
					} `json:"fixes"`
				} `json:"results"`
			} `json:"runs"`
		}
		require.NoError(t, json.Unmarshal(buf.Bytes(), &log))
		fixes := map[string]string{}
		for _, r := range log.Runs[0].Results {
			for _, f := range r.Fixes {
				for _, c := range f.ArtifactChanges {
					for _, rp := range c.Replacements {
						d := rp.DeletedRegion
						fixes[r.RuleID] += fmt.Sprintf("%s %d:%d-%d:%d %q;", c.ArtifactLocation.URI, d.StartLine, d.StartColumn, d.EndLine, d.EndColumn, rp.InsertedContent.Text)
					}
				}
			}
		}
		require.Equal(t, map[string]string{
			"kustomization-prune": `testdata/fixable/kustomization.yaml 13:10-13:15 "true";`,
			"kustomization-wait":  `testdata/fixable/kustomization.yaml 19:1-19:1 "  wait: true\n";`,
			"sync-interval":       `testdata/fixable/kustomization.yaml 8:13-8:15 "10m";`,
		}, fixes)
	})
	t.Run("demo tree, real catalogue", func(t *testing.T) {
		ctx := context.Background()
		cfg, err := config.Default()
		require.NoError(t, err)
		eng, err := engine.New(ctx, engine.Options{Config: cfg})
		require.NoError(t, err)
		rep, err := linter.New(eng, cfg, linter.Options{}).Lint(ctx, []string{filepath.Join("..", "..", "fixtures", "demo")})
		require.NoError(t, err)
		require.NotEmpty(t, rep.Findings, "the demo tree holds violations")
		var buf bytes.Buffer
		require.NoError(t, report.SARIF(&buf, rep, report.Options{Rules: eng.Rules(), ToolVersion: "dev"}))
		validate(t, buf.Bytes())

		var log struct {
			Runs []struct {
				Tool struct {
					Driver struct {
						Rules []struct {
							ID      string `json:"id"`
							HelpURI string `json:"helpUri"`
							Help    struct {
								Text string `json:"text"`
							} `json:"help"`
						} `json:"rules"`
					} `json:"driver"`
				} `json:"tool"`
				Results []struct {
					RuleID    string `json:"ruleId"`
					RuleIndex int    `json:"ruleIndex"`
					Locations []struct {
						PhysicalLocation struct {
							Region struct {
								StartLine   int `json:"startLine"`
								StartColumn int `json:"startColumn"`
							} `json:"region"`
						} `json:"physicalLocation"`
					} `json:"locations"`
				} `json:"results"`
			} `json:"runs"`
		}
		require.NoError(t, json.Unmarshal(buf.Bytes(), &log))
		run := log.Runs[0]
		require.Len(t, run.Tool.Driver.Rules, len(eng.Rules()), "every rule of the catalogue is in tool.driver.rules")
		for _, r := range run.Tool.Driver.Rules {
			require.NotEmpty(t, r.Help.Text, r.ID)
			require.Contains(t, r.Help.Text, "Source of truth", r.ID)
			require.True(t, strings.HasPrefix(r.HelpURI, "https://"), r.ID)
		}
		require.Len(t, run.Results, len(rep.Findings))
		for i, res := range run.Results {
			f := rep.Findings[i]
			require.Equal(t, f.Rule, res.RuleID)
			require.Equal(t, f.Rule, run.Tool.Driver.Rules[res.RuleIndex].ID)
			require.Equal(t, f.Line, res.Locations[0].PhysicalLocation.Region.StartLine)
			require.Equal(t, f.Column, res.Locations[0].PhysicalLocation.Region.StartColumn)
		}
	})
}

func TestFingerprintsStable(t *testing.T) {
	a := sample().Findings
	b := sample().Findings
	for i := range b {
		b[i].Line += 10 // lines moved: same findings
	}
	require.Equal(t, report.Fingerprints(a), report.Fingerprints(b))
	seen := map[string]bool{}
	for _, fp := range report.Fingerprints(a) {
		require.False(t, seen[fp], "fingerprints are unique within a run")
		seen[fp] = true
	}
	twice := []finding.Finding{a[0], a[0]}
	fps := report.Fingerprints(twice)
	require.NotEqual(t, fps[0], fps[1], "identical findings still get distinct fingerprints")
}

func TestFailed(t *testing.T) {
	tests := []struct {
		failOn        string
		errors, warns int
		want          bool
	}{
		{"error", 0, 0, false}, {"error", 0, 3, false}, {"error", 1, 0, true}, {"", 1, 0, true},
		{"warning", 0, 0, false}, {"warning", 0, 1, true}, {"warning", 1, 0, true},
		{"never", 5, 5, false},
	}
	for _, tt := range tests {
		got := report.Failed(finding.Summary{Errors: tt.errors, Warnings: tt.warns}, tt.failOn)
		require.Equal(t, tt.want, got, "%+v", tt)
	}
}
