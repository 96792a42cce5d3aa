package linter_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/openova-io/ova-lint/linter"
	"github.com/openova-io/ova-lint/linter/config"
	"github.com/openova-io/ova-lint/linter/engine"
	"github.com/openova-io/ova-lint/linter/finding"
	"github.com/openova-io/ova-lint/linter/loader"
	"github.com/openova-io/ova-lint/linter/report"
)

// copyTree copies the directory src to dst.
func copyTree(t *testing.T, src, dst string) {
	t.Helper()
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
}

// TestLimitsInATree lints, with the default limits, a tree that mixes good files, Helm templates
// and one file over each limit (the big ones are written at test time): each over-limit file is
// one yaml-syntax finding at the place it went over, the binary file is skipped and counted, and
// every other file is linted as usual.
func TestLimitsInATree(t *testing.T) {
	dir := t.TempDir()
	copyTree(t, "testdata/limits", dir)
	generated := map[string][]byte{
		"bad/huge.yaml":      bytes.Repeat([]byte("key: value\n"), (16<<20)/11+1),             // over MaxFileBytes
		"bad/documents.yaml": bytes.Repeat([]byte("---\nk: v\n"), 10001),                      // over MaxDocuments
		"bad/deep100k.yaml":  []byte("a: 1\nb: " + strings.Repeat("[", 100000) + "\n"),        // yaml.v3's own depth limit
		"bad/dense.yaml":     bytes.Repeat([]byte("- [x, x, x, x, x, x, x, x, x]\n"), 200001), // over MaxNodes, before parsing
	}
	for name, data := range generated {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), data, 0o644))
	}
	t.Chdir(dir)

	cfg, err := config.Default()
	require.NoError(t, err)
	eng, err := engine.New(context.Background(), engine.Options{Config: cfg})
	require.NoError(t, err)
	start := time.Now()
	rep, err := linter.New(eng, cfg, linter.Options{}).Lint(context.Background(), []string{"."})
	require.NoError(t, err, "an over-limit file is a finding, not a failed run")
	t.Logf("linted in %v", time.Since(start))

	type want struct {
		rule, message string
		line, column  int
	}
	wants := map[string]want{
		"bad/huge.yaml":      {"yaml-syntax", "the file is larger than the limit of 16777216 bytes", 1, 1},
		"bad/documents.yaml": {"yaml-syntax", "the file holds more than 10000 documents", 20002, 1},
		"bad/deep100k.yaml":  {"yaml-syntax", "exceeded max depth of 10000", 2, 1},
		"bad/dense.yaml":     {"yaml-syntax", "more than 2000000 YAML nodes by this line (estimated before parsing)", 181819, 1},
		"bad/deep.yaml":      {"yaml-syntax", "nesting deeper than 200 levels", 2, 204},
		"bad/laughs.yaml":    {"yaml-syntax", "alias expansion makes the file larger than the limit of 2000000 YAML nodes", 8, 10},
		"bad/cycle.yaml":     {"yaml-syntax", "alias *a is used inside the node it names (a cycle)", 3, 10},
		"good/secret.yaml":   {"plaintext-secret", "Secret db", 7, 1},
	}
	got := map[string]finding.Finding{}
	for _, f := range rep.Findings {
		if _, dup := got[f.File]; dup {
			t.Errorf("%s: more than one finding: %s", f.File, f.Message)
		}
		got[f.File] = f
	}
	for file, w := range wants {
		f, ok := got[file]
		if !assert.Truef(t, ok, "%s: no finding", file) {
			continue
		}
		assert.Equal(t, w.rule, f.Rule, file)
		assert.Contains(t, f.Message, w.message, file)
		assert.Equal(t, [2]int{w.line, w.column}, [2]int{f.Line, f.Column}, "%s: position of %q", file, f.Message)
	}
	assert.Len(t, got, len(wants), "no finding for good/configmap.yaml, the binary file or the templates")

	// 11 files under the tree's YAML walk: 2 templates (skipped by the walk), 1 binary (skipped
	// by the linter); documents: 2 ConfigMaps, the Secret, Chart.yaml, 10000 of documents.yaml.
	assert.Equal(t, finding.Summary{Files: 10, Documents: 10004, Skipped: 3, Errors: 8, Binary: 1}, rep.Summary)
	var text bytes.Buffer
	require.NoError(t, report.Text(&text, rep, report.Options{}))
	assert.Contains(t, text.String(), "10 files, 10004 documents, 3 skipped (2 Helm templates, 1 binary): 8 errors, 0 warnings")
	var js bytes.Buffer
	require.NoError(t, report.JSON(&js, rep, report.Options{}))
	assert.Contains(t, js.String(), `"summary": {
    "files": 10,
    "documents": 10004,
    "skipped": 3,
    "errors": 8,
    "warnings": 0
  }`, "the JSON summary keeps its contract: binary files are in skipped")
}

// TestStdinOverTheLimit: standard input is read no further than the size limit.
func TestStdinOverTheLimit(t *testing.T) {
	cfg, err := config.Default()
	require.NoError(t, err)
	eng, err := engine.New(context.Background(), engine.Options{Config: cfg})
	require.NoError(t, err)
	tests := []struct {
		name, input string
		rule        string
	}{
		{"over the limit", strings.Repeat("k: v\n", 300), "yaml-syntax"},
		{"binary", "a: 1\n\x00", ""},
		{"under the limit", "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\nstringData: {password: x}\n", "plaintext-secret"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			limits := loader.DefaultLimits()
			limits.MaxFileBytes = 1024
			opts := linter.Options{Stdin: strings.NewReader(tt.input), Limits: limits}
			rep, err := linter.New(eng, cfg, opts).Lint(context.Background(), []string{"-"})
			require.NoError(t, err)
			var rules []string
			for _, f := range rep.Findings {
				rules = append(rules, f.Rule)
			}
			if tt.rule == "" {
				assert.Empty(t, rules)
				assert.Equal(t, 1, rep.Summary.Binary)
			} else {
				assert.Equal(t, []string{tt.rule}, rules)
			}
		})
	}
}
