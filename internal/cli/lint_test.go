package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/require"

	"github.com/openova-io/ova-lint/linter/engine"
	"github.com/openova-io/ova-lint/linter/finding"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/golden")

// run executes ova-lint in-process and returns the exit code, stdout and stderr.
func run(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := Run(context.Background(), args, IO{In: strings.NewReader(""), Out: &out, Err: &errOut})
	return code, out.String(), errOut.String()
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	if *update {
		require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
		require.NoError(t, os.WriteFile(path, []byte(got), 0o644))
		return
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "missing golden file (run go test ./internal/cli -update)")
	require.Equal(t, string(want), got, "%s differs (run go test ./internal/cli -update to accept)", path)
}

// rulesOf runs lint -f json and returns the exit code and the rule ids of the findings.
func rulesOf(t *testing.T, args ...string) (int, []string) {
	t.Helper()
	code, out, stderr := run(t, append([]string{"lint", "-f", "json"}, args...)...)
	require.NotEqual(t, ExitUsage, code, "stderr: %s", stderr)
	var rep finding.Report
	require.NoError(t, json.Unmarshal([]byte(out), &rep), out)
	var ids []string
	for _, f := range rep.Findings {
		ids = append(ids, f.Rule)
	}
	return code, ids
}

func TestFailOn(t *testing.T) {
	tests := []struct {
		dir, failOn string
		want        int
	}{
		{"testdata/warning", "", ExitOK}, // default: error
		{"testdata/warning", "error", ExitOK},
		{"testdata/warning", "warning", ExitFindings},
		{"testdata/warning", "never", ExitOK},
		{"testdata/waivers/expired", "error", ExitFindings},
		{"testdata/waivers/expired", "never", ExitOK},
		{"testdata/clean", "warning", ExitOK},
	}
	for _, tt := range tests {
		t.Run(tt.dir+"/"+tt.failOn, func(t *testing.T) {
			args := []string{"lint", tt.dir}
			if tt.failOn != "" {
				args = append(args, "--fail-on", tt.failOn)
			}
			code, _, stderr := run(t, args...)
			require.Equal(t, tt.want, code, stderr)
		})
	}
}

// TestWaiverRoundTrip: a waived finding disappears while the waiver is valid and comes back,
// with a waiver-expired finding, once it has expired; config waivers alike.
func TestWaiverRoundTrip(t *testing.T) {
	tests := []struct {
		name  string
		args  []string
		code  int
		rules []string
	}{
		{"annotation waived: clean", []string{"testdata/waivers/valid"}, ExitOK, nil},
		{"annotation expired: finding is back", []string{"testdata/waivers/expired"}, ExitFindings,
			[]string{"waiver-expired", "sync-interval", "gitrepository-ref"}},
		{"config waiver and annotation", []string{"testdata/waivers/config"}, ExitOK,
			[]string{"waiver-expired"}},
		{"unused waivers reported on request", []string{"testdata/waivers/config", "--report-unused-waivers"}, ExitOK,
			[]string{"waiver-unused", "waiver-expired", "waiver-unused"}},
		{"unused waivers fail with --fail-on warning", []string{"testdata/waivers/config", "--report-unused-waivers", "--fail-on", "warning"}, ExitFindings,
			[]string{"waiver-unused", "waiver-expired", "waiver-unused"}},
		{"used annotation is not unused", []string{"testdata/waivers/valid", "--report-unused-waivers"}, ExitOK, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, ids := rulesOf(t, tt.args...)
			require.Equal(t, tt.code, code)
			require.Equal(t, tt.rules, ids)
		})
	}
	t.Run("text", func(t *testing.T) {
		_, out, _ := run(t, "lint", "--report-unused-waivers", "testdata/waivers/config", "testdata/waivers/expired")
		golden(t, "waivers.txt", out)
	})
}

func TestMultipleFormats(t *testing.T) {
	dir := t.TempDir()
	sarif, junit := filepath.Join(dir, "out.sarif"), filepath.Join(dir, "reports", "junit.xml")
	code, out, stderr := run(t, "lint", "--format", "sarif="+sarif, "--format", "text", "--format", "junit="+junit, "testdata/waivers/expired")
	require.Equal(t, ExitFindings, code, stderr)
	golden(t, "multi-text.txt", out)
	// each file holds what the format writes to standard output on its own
	for format, path := range map[string]string{"sarif": sarif, "junit": junit} {
		_, alone, _ := run(t, "lint", "--format", format, "testdata/waivers/expired")
		got, err := os.ReadFile(path)
		require.NoError(t, err)
		require.Equal(t, alone, string(got), format)
	}
	// every format golden: the machine formats of one real run
	for _, format := range []string{"github", "gitlab", "junit"} {
		_, got, _ := run(t, "lint", "--format", format, "testdata/waivers/expired")
		golden(t, "expired."+format, got)
	}
}

func TestUsageErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		msg  string
	}{
		{"unknown format", []string{"lint", "-f", "xml", "testdata/clean"}, `unknown format "xml"`},
		{"two formats on stdout", []string{"lint", "-f", "text", "-f", "json", "testdata/clean"}, "at most one format"},
		{"empty file name", []string{"lint", "-f", "sarif=", "testdata/clean"}, "empty file name"},
		{"bad fail-on", []string{"lint", "--fail-on", "info", "testdata/clean"}, "--fail-on"},
		{"missing path", []string{"lint", "testdata/nope"}, "cannot read"},
		{"base with paths", []string{"lint", "--base", "main", "testdata/clean"}, "--base"},
		{"unknown rule", []string{"explain", "no-such-rule"}, "unknown rule"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := run(t, tt.args...)
			require.Equal(t, ExitUsage, code)
			require.Contains(t, stderr, tt.msg)
		})
	}
}

// copyTree copies testdata/<name> into a fresh temporary directory and returns it.
func copyTree(t *testing.T, name string) string {
	t.Helper()
	dst := t.TempDir()
	src := filepath.Join("testdata", name)
	require.NoError(t, filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), data, 0o644)
	}))
	return dst
}

// TestChangedPaths: --changed with explicit paths (what pre-commit passes) lints them plus the
// files tied to them, outside git too.
func TestChangedPaths(t *testing.T) {
	t.Setenv("GIT_CEILING_DIRECTORIES", os.TempDir()) // a temp dir is not inside a work tree
	dir := copyTree(t, "changed")
	t.Chdir(dir)
	tests := []struct {
		name  string
		paths []string
		code  int
		rules []string
		files int
	}{
		{"chart pulls its blueprint", []string{"platform/billing/chart/Chart.yaml"}, ExitFindings, []string{"blueprint-version"}, 2},
		{"blueprint pulls its chart", []string{"platform/billing/blueprint.yaml"}, ExitFindings, []string{"blueprint-version"}, 2},
		{"unrelated file", []string{"gitrepository.yaml"}, ExitOK, nil, 1},
		{"non-yaml file", []string{"gitrepository.yaml", "README.md"}, ExitOK, nil, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, stderr := run(t, append([]string{"lint", "-f", "json", "--changed"}, tt.paths...)...)
			require.Equal(t, tt.code, code, stderr)
			var rep finding.Report
			require.NoError(t, json.Unmarshal([]byte(out), &rep))
			var ids []string
			for _, f := range rep.Findings {
				ids = append(ids, f.Rule)
			}
			require.Equal(t, tt.rules, ids)
			require.Equal(t, tt.files, rep.Summary.Files)
		})
	}
}

func TestExplain(t *testing.T) {
	t.Run("golden", func(t *testing.T) {
		r := &engine.Rule{
			ID: "demo-rule", Title: "Demo rule", Severity: "error", Scope: "object", Runs: []string{"cli", "admission"},
			Description: "A demo rule that shows how explain prints a description long enough to be wrapped at the width of a terminal, with its sources and examples.",
			Sources:     []engine.Source{{Ref: "platform/flux/README.md#demo", Description: "platform Flux README, \"Demo\""}, {Ref: "https://example.org/spec"}},
			Fix:         "sets bad to false",
		}
		fsys := fstest.MapFS{
			"rules/demo-rule/fail-bad/a.yaml":           {Data: []byte("kind: Demo\nbad: true\n")},
			"rules/demo-rule/fail-bad/sub/b.yaml":       {Data: []byte("kind: Demo\n")},
			"rules/demo-rule/fail-bad/expected.json":    {Data: []byte(`{"findings":[{"rule":"demo-rule","severity":"error","file":"a.yaml","line":2,"column":1,"message":"bad is true"},{"rule":"other","severity":"error","file":"a.yaml","line":1,"column":1,"message":"not shown"}],"summary":{}}`)},
			"rules/demo-rule/fail-worse/a.yaml":         {Data: []byte("not: shown\n")},
			"rules/demo-rule/pass-good/a.yaml":          {Data: []byte("kind: Demo\nbad: false\n")},
			"rules/demo-rule/pass-good/expected.json":   {Data: []byte(`{"findings":[],"summary":{}}`)},
			"rules/other-rule/fail-x/expected.json":     {Data: []byte(`{}`)},
			"rules/demo-rule/notacase/ignored.yaml":     {Data: []byte("x: 1\n")},
			"rules/demo-rule/pass-good/.hidden.yaml":    {Data: []byte("dot: file\n")},
			"rules/demo-rule/fail-bad/chart/Chart.yaml": {Data: []byte("name: c\n")},
		}
		var buf bytes.Buffer
		require.NoError(t, explain(&buf, r, fsys))
		golden(t, "explain.txt", buf.String())

		buf.Reset()
		require.NoError(t, explain(&buf, &engine.Rule{ID: "lonely", Title: "No fixtures", Severity: "warning", Scope: "repo", Runs: []string{"cli"}}, fsys))
		require.Contains(t, buf.String(), "Failing example: none in fixtures/rules/lonely")
	})
	// every rule of the catalogue explains, with a failing and a passing example where the
	// fixtures have them
	_, out, _ := run(t, "rules", "-f", "json")
	var rules []engine.Rule
	require.NoError(t, json.Unmarshal([]byte(out), &rules))
	require.NotEmpty(t, rules)
	for _, r := range rules {
		t.Run(r.ID, func(t *testing.T) {
			code, out, stderr := run(t, "explain", r.ID)
			require.Equal(t, ExitOK, code, stderr)
			require.Contains(t, out, r.ID+": "+r.Title)
			require.Contains(t, out, "Source of truth:")
			if r.Fix != "" {
				require.Contains(t, out, "Fix (mechanical: ova-lint lint --fix applies it")
			}
			if _, err := os.Stat(filepath.Join("..", "..", "fixtures", "rules", r.ID)); err == nil {
				require.Contains(t, out, "Failing example (fixtures/rules/"+r.ID+"/fail-")
				require.Contains(t, out, "Passing example (fixtures/rules/"+r.ID+"/pass-")
				require.Contains(t, out, "ova-lint reports:")
			}
		})
	}
}
