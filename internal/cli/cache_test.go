package cli

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func packsIn(t *testing.T, dir string) []string {
	t.Helper()
	packs, err := filepath.Glob(filepath.Join(dir, "*.pack"))
	require.NoError(t, err)
	return packs
}

// TestCacheFlags: --cache-dir, its default under the user cache directory, --no-cache, and a
// cache directory that cannot be used (a warning; the run goes on uncached).
func TestCacheFlags(t *testing.T) {
	tree := "../../fixtures/demo"
	uncachedCode, uncached, _ := run(t, "lint", "--no-cache", "-f", "json", tree)
	xdg := t.TempDir()
	t.Setenv("XDG_CACHE_HOME", xdg)
	t.Setenv("HOME", t.TempDir()) // where os.UserCacheDir looks on macOS
	dir := filepath.Join(t.TempDir(), "cache")
	blocked := filepath.Join(t.TempDir(), "a-file")
	require.NoError(t, os.WriteFile(blocked, nil, 0o644))

	cases := []struct {
		name string
		args []string
		// packs is where the pack goes ("" for none anywhere)
		packs   string
		warning bool
	}{
		{"--cache-dir fills", []string{"--cache-dir", dir}, dir, false},
		{"--cache-dir reads", []string{"--cache-dir", dir}, dir, false},
		{"default", nil, filepath.Join(xdg, "ova-lint", "results"), false},
		{"--no-cache", []string{"--no-cache", "--cache-dir", filepath.Join(t.TempDir(), "unused")}, "", false},
		{"unusable", []string{"--cache-dir", filepath.Join(blocked, "cache")}, "", true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, out, stderr := run(t, append(append([]string{"lint", "-f", "json"}, c.args...), tree)...)
			assert.Equal(t, uncachedCode, code, stderr)
			assert.Equal(t, uncached, out)
			if c.warning {
				assert.Contains(t, stderr, "warning: result cache")
			} else {
				assert.Empty(t, stderr)
			}
			if c.packs != "" {
				assert.Len(t, packsIn(t, c.packs), 1)
			}
			if c.name == "--no-cache" {
				_, err := os.Stat(c.args[2])
				assert.True(t, os.IsNotExist(err), "--no-cache wrote a cache")
			}
		})
	}
}
