package config_test

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/openova-io/ova-lint/linter/config"
	"github.com/openova-io/ova-lint/linter/engine"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// TestCheck validates each testdata/check/*.yaml against the embedded rule catalogue, as the
// CLI and serve do when they load a configuration, and compares every problem (path, file,
// line, message, suggestion) with its .golden file.
func TestCheck(t *testing.T) {
	cat, err := engine.Catalogue()
	require.NoError(t, err)
	files, err := filepath.Glob("testdata/check/*.yaml")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".yaml")
		t.Run(name, func(t *testing.T) {
			_, err := config.LoadWith(file, cat)
			got := "ok\n"
			if err != nil {
				var cerr *config.Error
				require.True(t, errors.As(err, &cerr), "want a *config.Error, got %T: %v", err, err)
				got = err.Error() + "\n"
			}
			golden := strings.TrimSuffix(file, ".yaml") + ".golden"
			if *update {
				require.NoError(t, os.WriteFile(golden, []byte(got), 0o644))
			}
			want, err := os.ReadFile(golden)
			require.NoError(t, err)
			assert.Equal(t, string(want), got)
		})
	}
}

// TestCheckIssueCases pins the two faults of the issue: the key's path, its line and the
// suggestion.
func TestCheckIssueCases(t *testing.T) {
	cat, err := engine.Catalogue()
	require.NoError(t, err)
	for _, tt := range []struct {
		raw  string
		want config.Problem
	}{
		{"params:\n  gitea:\n    url_pattern: \"([a-z\"\n", config.Problem{
			Path: "params.gitea.url_pattern", File: "c.yaml", Line: 3, Column: 5,
			Message: "\"([a-z\" is not a valid regex: error parsing regexp: missing closing ]: `[a-z`",
		}},
		{"rules: {kustomization-prun: {disabled: true}}\n", config.Problem{
			Path: "rules.kustomization-prun", File: "c.yaml", Line: 1, Column: 9,
			Message: "no rule has this id", Suggestion: "did you mean `kustomization-prune`?",
		}},
	} {
		err := config.Check([]byte(tt.raw), "c.yaml", cat)
		var cerr *config.Error
		require.True(t, errors.As(err, &cerr), "%s: %v", tt.raw, err)
		assert.Equal(t, []config.Problem{tt.want}, cerr.Problems)
	}
}

// TestCheckWithoutCatalogue: Load (no catalogue) checks the structure only, so any rule id and
// any parameter pass, and the structure's faults are still placed.
func TestCheckWithoutCatalogue(t *testing.T) {
	require.NoError(t, config.Check([]byte("rules: {no-such-rule: {disabled: true}}\nparams: {x: 1}\n"), "c.yaml", nil))
	err := config.Check([]byte("rules:\n  r: {severity: fatal}\n"), "c.yaml", nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "c.yaml:2:7: rules.r.severity: \"fatal\" is not one of \"error\", \"warning\", \"info\"")
}

// TestCatalogueConflict: a parameter declared twice with different schemas, or declared inside
// another declared parameter, is a catalogue error naming both rules.
func TestCatalogueConflict(t *testing.T) {
	var cat config.Catalogue
	require.NoError(t, cat.Declare("a", map[string]any{"x.y": map[string]any{"type": "string"}}))
	require.NoError(t, cat.Declare("b", map[string]any{"x.y": map[string]any{"type": "string"}}))
	assert.Equal(t, []string{"a", "b"}, cat.DeclaredBy["x.y"])
	err := cat.Declare("c", map[string]any{"x.y": map[string]any{"type": "integer"}})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "by a, b")
	err = cat.Declare("d", map[string]any{"x": map[string]any{"type": "object"}})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "x.y is declared by a, b")
	assert.Error(t, cat.Declare("e", map[string]any{"x.z": "string"}))
}

// TestCheckFormats: each format a parameter may declare accepts what the rules' engine reads and
// refuses what it cannot (Go's RE2, a Flux interval, the project's glob, Helm's semver).
func TestCheckFormats(t *testing.T) {
	var cat config.Catalogue
	require.NoError(t, cat.Declare("demo", map[string]any{
		"f.regex":        map[string]any{"type": "string", "format": "regex"},
		"f.duration":     map[string]any{"type": "string", "format": "duration"},
		"f.glob":         map[string]any{"type": "string", "format": "glob"},
		"f.semver":       map[string]any{"type": "string", "format": "semver"},
		"f.semver_range": map[string]any{"type": "string", "format": "semver-range"},
	}))
	for _, tt := range []struct {
		key, value string
		ok         bool
	}{
		{"regex", `^https://gitea\.`, true},
		{"regex", `(?i)token`, true},
		{"regex", `(?<=a)b`, false}, // lookbehind: not RE2
		{"regex", `([a-z`, false},
		{"duration", "1m", true},
		{"duration", "1h30m", true},
		{"duration", "500ms", true},
		{"duration", "1 minute", false},
		{"duration", "-1m", false},
		{"duration", "PT1M", false}, // ISO 8601: not what Flux reads
		{"glob", "**/staging/**", true},
		{"glob", "platform/*/chart", true},
		{"glob", "vendor/[a-", false},
		{"semver", "2.4.0", true},
		{"semver", "v1.31", true},
		{"semver", "latest", false},
		{"semver_range", ">=1.0.0 <2.0.0", true},
		{"semver_range", "^1.2.x || ~2.0", true},
		{"semver_range", ">>1", false},
	} {
		raw := "params:\n  f:\n    " + tt.key + ": '" + tt.value + "'\n"
		err := config.Check([]byte(raw), "c.yaml", &cat)
		if tt.ok {
			assert.NoError(t, err, "%s %q", tt.key, tt.value)
		} else if assert.Error(t, err, "%s %q", tt.key, tt.value) {
			assert.Contains(t, err.Error(), "c.yaml:3:5: params.f."+tt.key+": ")
		}
	}
}
