package linter_test

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/openova-io/ova-lint/fixtures"
	"github.com/openova-io/ova-lint/linter"
	"github.com/openova-io/ova-lint/linter/config"
	"github.com/openova-io/ova-lint/linter/engine"
	"github.com/openova-io/ova-lint/linter/finding"
	"github.com/openova-io/ova-lint/linter/report"
	"github.com/openova-io/ova-lint/linter/schema"
)

var update = flag.Bool("update", false, "rewrite the golden files")

func fixtureCases(t *testing.T) []fixtures.Case {
	t.Helper()
	cases, err := fixtures.Cases("../fixtures/rules")
	require.NoError(t, err)
	return cases
}

func lintDir(t *testing.T, dir string) *finding.Report {
	t.Helper()
	t.Chdir(dir)
	found, err := config.Find(dir)
	require.NoError(t, err)
	cfg, err := config.Load(found)
	require.NoError(t, err)
	eng, err := engine.New(context.Background(), engine.Options{Config: cfg})
	require.NoError(t, err)
	opts := linter.Options{Schema: &schema.Options{KubernetesVersion: cfg.KubernetesVersion, FluxVersion: cfg.FluxVersion}}
	rep, err := linter.New(eng, cfg, opts).Lint(context.Background(), []string{"."})
	require.NoError(t, err)
	return rep
}

// TestFixtures lints every fixture case and compares the JSON report with expected.json. A
// pass- case has no finding at all; a fail- case has findings of its own rule only.
func TestFixtures(t *testing.T) {
	covered := map[string][2]bool{}
	for _, c := range fixtureCases(t) {
		t.Run(c.Rule+"/"+c.Name, func(t *testing.T) {
			rep := lintDir(t, c.Dir)
			var buf bytes.Buffer
			require.NoError(t, report.JSON(&buf, rep, report.Options{}))
			golden := filepath.Join(c.Dir, "expected.json")
			if *update {
				require.NoError(t, os.WriteFile(golden, buf.Bytes(), 0o644))
			}
			want, err := os.ReadFile(golden)
			require.NoError(t, err, "golden file missing: run go test ./linter -run TestFixtures -update")
			assert.JSONEq(t, string(want), buf.String())

			if c.Pass {
				assert.Empty(t, rep.Findings, "a pass- case must be clean")
			} else {
				require.NotEmpty(t, rep.Findings, "a fail- case must produce findings")
				own := 0
				for _, f := range rep.Findings {
					if f.Rule == c.Rule {
						own++
					} else if !strings.HasPrefix(c.Rule, "waiver-") && f.Severity != "info" {
						// a broken waiver lets the waived finding through: that one may show too
						t.Errorf("a fail- case reports its own rule only, got %s: %s", f.Rule, f.Message)
					}
					assert.Positive(t, f.Line)
					assert.Positive(t, f.Column)
				}
				assert.Positive(t, own, "a fail- case reports its own rule")
			}
		})
		v := covered[c.Rule]
		if c.Pass {
			v[0] = true
		} else {
			v[1] = true
		}
		covered[c.Rule] = v
	}
	// every rule of the catalogue has a passing and a failing case
	eng, err := engine.New(context.Background(), engine.Options{})
	require.NoError(t, err)
	for _, r := range eng.Rules() {
		if strings.HasPrefix(r.ID, "waiver-") {
			continue // produced outside the fixture set (see their own tests)
		}
		assert.Truef(t, covered[r.ID][0], "rule %s has no pass- fixture", r.ID)
		assert.Truef(t, covered[r.ID][1], "rule %s has no fail- fixture", r.ID)
	}
}

// TestFixtureFindingsCarryNoSecretValues guards the rule that no secret value reaches output.
func TestFixtureFindingsCarryNoSecretValues(t *testing.T) {
	secrets := []string{"hunter2-literal", "s3cr3t-in-url", "correct-horse-battery-staple", "Zm9vYmFy", "AgBy3i4OJSWK", "do-not-commit-me"}
	var dirs []string
	for _, dir := range []string{"../fixtures/rules", "../fixtures/demo"} {
		abs, err := filepath.Abs(dir)
		require.NoError(t, err)
		dirs = append(dirs, abs)
	}
	for _, abs := range dirs {
		rep := lintDir(t, abs)
		var buf bytes.Buffer
		require.NoError(t, report.JSON(&buf, rep, report.Options{}))
		require.NoError(t, report.Text(&buf, rep, report.Options{Verbose: true}))
		for _, s := range secrets {
			assert.NotContains(t, buf.String(), s)
		}
	}
}

func TestDemoTree(t *testing.T) {
	abs, err := filepath.Abs("../fixtures/demo")
	require.NoError(t, err)
	rep := lintDir(t, abs)
	got := map[string]int{}
	for _, f := range rep.Findings {
		got[f.Rule]++
	}
	// render: the two Kustomizations build from the billing repository, which is not this one (info)
	assert.Equal(t, map[string]int{"gitea-url": 1, "single-gitea": 1, "sync-interval": 1, "kustomization-prune": 1, "plaintext-secret": 1, "blueprint-version": 1, "render": 2}, got)
	assert.Equal(t, 1, rep.Summary.Skipped, "the chart's template is skipped as a file, and rendered through the HelmRelease")
	raw, _ := json.Marshal(rep.Summary)
	assert.JSONEq(t, `{"files":6,"documents":10,"skipped":1,"errors":5,"warnings":1,"rendered":1}`, string(raw))
}
