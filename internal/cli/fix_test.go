package cli

import (
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/openova-io/ova-lint/fixtures"
	"github.com/openova-io/ova-lint/linter/finding"
	"github.com/openova-io/ova-lint/policies"
)

// copyCase copies a fixture case into a temporary directory and returns it with the config the
// fixtures are linted with (the case's own, else fixtures/rules/.ova-lint.yaml).
func copyCase(t *testing.T, dir string) (string, string) {
	t.Helper()
	tmp := t.TempDir()
	require.NoError(t, os.CopyFS(tmp, os.DirFS(dir)))
	cfg, err := filepath.Abs(filepath.Join("..", "..", "fixtures", "rules", ".ova-lint.yaml"))
	require.NoError(t, err)
	if _, err := os.Stat(filepath.Join(tmp, ".ova-lint.yaml")); err == nil {
		cfg = filepath.Join(tmp, ".ova-lint.yaml")
	}
	return tmp, cfg
}

// snapshot reads every file under dir.
func snapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	files := map[string]string{}
	require.NoError(t, filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		raw, err := os.ReadFile(p)
		files[p] = string(raw)
		return err
	}))
	return files
}

func reportOf(t *testing.T, out string) finding.Report {
	t.Helper()
	var rep finding.Report
	require.NoError(t, json.Unmarshal([]byte(out), &rep), out)
	return rep
}

// fixableRules are the ids of the rules whose Rego returns an edit.
func fixableRules(t *testing.T) map[string]bool {
	t.Helper()
	ids := map[string]bool{}
	idLine := regexp.MustCompile(`(?m)^#\s+id:\s*(\S+)`)
	require.NoError(t, fs.WalkDir(policies.FS, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".rego") || strings.HasSuffix(p, "_test.rego") {
			return err
		}
		src, err := fs.ReadFile(policies.FS, p)
		if err != nil {
			return err
		}
		if m := idLine.FindSubmatch(src); m != nil && strings.Contains(string(src), `"edit"`) {
			ids[string(m[1])] = true
		}
		return nil
	}))
	return ids
}

// findingKey identifies a finding across runs whose lines may shift.
func findingKey(f finding.Finding) string {
	return strings.Join([]string{f.Rule, f.File, f.Kind, f.Namespace, f.Name, f.Message}, "|")
}

// TestFixFixtures runs `lint --fix --diff` and `lint --fix` on a copy of every failing fixture
// case of a rule with a mechanical fix: the diff is the golden
// testdata/golden/fix/<rule>/<case>.diff, --diff writes nothing, --fix writes, a second run
// reports none of the fixed findings (those --diff reported as resolved) and a second --fix has
// nothing left to do.
func TestFixFixtures(t *testing.T) {
	cases, err := fixtures.Cases(filepath.Join("..", "..", "fixtures", "rules"))
	require.NoError(t, err)
	cliDir, err := os.Getwd()
	require.NoError(t, err)
	fixable := fixableRules(t)
	for _, id := range []string{"kustomization-prune", "kustomization-wait", "sync-interval", "gitrepository-ref", "gitrepository-secret", "blueprint-version", "helmrelease-chart-version"} {
		require.True(t, fixable[id], "%s returns no edit", id)
	}
	fixed := map[string]bool{}
	for _, c := range cases {
		if c.Pass || !fixable[c.Rule] {
			continue
		}
		t.Run(c.Rule+"/"+c.Name, func(t *testing.T) {
			dir, cfg := copyCase(t, c.Dir)
			t.Chdir(dir)
			before := snapshot(t, ".")
			_, out, stderr := run(t, "lint", "--config", cfg, "-f", "json", ".")
			first := reportOf(t, out)

			remaining := filepath.Join(t.TempDir(), "remaining.json")
			_, diff, stderr := run(t, "lint", "--config", cfg, "--fix", "--diff", "-f", "json="+remaining, ".")
			require.Equal(t, before, snapshot(t, "."), "--diff writes nothing")
			golden := filepath.Join(cliDir, "testdata", "golden", "fix", c.Rule, c.Name+".diff")
			if diff == "" {
				// this case's findings have no mechanical fix (a Blueprint without its chart)
				if *update {
					_ = os.Remove(golden)
				}
				require.NoFileExists(t, golden, "the case has no fix any more")
				return
			}
			goldenAt(t, golden, diff)
			raw, err := os.ReadFile(remaining)
			require.NoError(t, err)
			left := map[string]bool{}
			for _, f := range reportOf(t, string(raw)).Findings {
				left[findingKey(f)] = true
			}
			var resolved []string
			for _, f := range first.Findings {
				if !left[findingKey(f)] {
					resolved = append(resolved, findingKey(f))
					if f.Rule == c.Rule {
						fixed[c.Rule] = true
					}
				}
			}
			require.NotEmpty(t, resolved, "a diff resolves findings\n%s", stderr)

			code, out, stderr := run(t, "lint", "--config", cfg, "--fix", "-f", "json", ".")
			require.NotEqual(t, ExitUsage, code, stderr)
			require.NotEqual(t, before, snapshot(t, "."), "--fix writes the files")
			require.Contains(t, stderr, "ova-lint: fixed ")
			after := map[string]bool{}
			for _, f := range reportOf(t, out).Findings {
				after[findingKey(f)] = true
			}
			for _, k := range resolved {
				require.False(t, after[k], "after --fix, a fixed finding is reported again: %s", k)
			}
			_, again, _ := run(t, "lint", "--config", cfg, "--fix", "--diff", ".")
			require.Empty(t, again, "a second fix has nothing left to do")
		})
	}
	for id := range fixable {
		require.True(t, fixed[id], "no failing fixture of %s is fixed (add one, with a golden diff)", id)
	}
}

// goldenAt compares got with the golden file at path (-update rewrites it).
func goldenAt(t *testing.T, path, got string) {
	t.Helper()
	if *update {
		require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
		require.NoError(t, os.WriteFile(path, []byte(got), 0o644))
		return
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "missing golden file (run go test ./internal/cli -update)")
	require.Equal(t, string(want), got, "%s differs (run go test ./internal/cli -update to accept)", path)
}

// TestFixTrees runs --fix --diff and --fix on small trees: a Kustomization built by another
// (its own value fixed in the source, a substituted one not), and a waived finding (not fixed).
func TestFixTrees(t *testing.T) {
	cliDir, err := os.Getwd()
	require.NoError(t, err)
	for _, tt := range []struct {
		name     string
		diffExit int // exit code of --fix --diff: on what would remain
		fixExit  int
		remains  []string // rules reported after --fix
		stderr   string   // what --fix --diff says it does not fix
	}{
		{name: "built", diffExit: ExitOK, fixExit: ExitOK, remains: []string{"sync-interval"},
			stderr: "apps.yaml:9:3: sync-interval not fixed: the built object's spec.interval is not its source document's"},
		{name: "waived", diffExit: ExitOK, fixExit: ExitOK},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			require.NoError(t, os.CopyFS(dir, os.DirFS(filepath.Join("testdata", "fix", tt.name))))
			t.Chdir(dir)
			before := snapshot(t, ".")
			code, diff, stderr := run(t, "lint", "--fix", "--diff", ".")
			require.Equal(t, tt.diffExit, code, stderr)
			if tt.stderr != "" {
				require.Contains(t, stderr, tt.stderr)
			}
			require.Equal(t, before, snapshot(t, "."))
			goldenAt(t, filepath.Join(cliDir, "testdata", "golden", "fix", "trees", tt.name+".diff"), diff)
			if tt.name == "built" {
				// from a subdirectory, findings show files through the root (../clusters/...):
				// the same files are fixed, the diff's paths are still the root's
				t.Chdir(filepath.Join(dir, "clusters"))
				_, sub, stderr := run(t, "lint", "--fix", "--diff", "--root", "..", ".")
				require.Equal(t, diff, sub, stderr)
				t.Chdir(dir)
			}

			code, out, stderr := run(t, "lint", "--fix", "-f", "json", ".")
			require.Equal(t, tt.fixExit, code, stderr)
			var rules []string
			for _, f := range reportOf(t, out).Findings {
				if f.Severity != "info" {
					rules = append(rules, f.Rule)
				}
			}
			require.ElementsMatch(t, tt.remains, rules)
			_, again, _ := run(t, "lint", "--fix", "--diff", ".")
			require.Empty(t, again)
		})
	}
}

func TestFixUsage(t *testing.T) {
	code, _, stderr := run(t, "lint", "--fix", "-")
	require.Equal(t, ExitUsage, code)
	require.Contains(t, stderr, "--fix cannot write standard input")

	// exit codes follow what remains: an unfixable error keeps exit 1 after --fix
	dir := t.TempDir()
	src := "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: a\n  namespace: flux-system\n" +
		"spec:\n  interval: 10m\n  path: ./a\n  prune: false\n  wait: true\n  sourceRef:\n    kind: GitRepository\n    name: flux-system\n"
	require.NoError(t, os.WriteFile(filepath.Join(dir, "ks.yaml"), []byte(src), 0o644))
	code, out, stderr := run(t, "lint", "--fix", "-f", "json", dir)
	require.Equal(t, ExitFindings, code, stderr)
	var rules []string
	for _, f := range reportOf(t, out).Findings {
		if f.Severity != "info" {
			rules = append(rules, f.Rule)
		}
	}
	require.Contains(t, rules, "kustomization-health-checks", "the health checks are not mechanical")
	require.NotContains(t, rules, "kustomization-prune", "prune is fixed")
	raw, err := os.ReadFile(filepath.Join(dir, "ks.yaml"))
	require.NoError(t, err)
	require.Equal(t, strings.Replace(src, "prune: false", "prune: true", 1), string(raw))
}
