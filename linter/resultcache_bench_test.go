package linter_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/openova-io/ova-lint/linter"
	"github.com/openova-io/ova-lint/linter/config"
	"github.com/openova-io/ova-lint/linter/engine"
	"github.com/openova-io/ova-lint/linter/schema"
)

// BenchmarkLintCache is the lint of a generated tree (--render=off) uncached, through a cache
// that holds every file (warm), and through it with one file changed before each run. The
// process-level comparison with kubeconform is hack/bench's (make bench).
func BenchmarkLintCache(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		b.Run(docsName(n), func(b *testing.B) { benchCache(b, n) })
	}
}

// benchCache times the three runs on one tree of n documents.
func benchCache(b *testing.B, n int) {
	dir, st := benchCorpus(b, n)
	ctx := context.Background()
	cfg, err := config.Default()
	require.NoError(b, err)
	eng, err := engine.New(ctx, engine.Options{Config: cfg})
	require.NoError(b, err)
	cacheDir := b.TempDir()
	newLinter := func(cached bool) *linter.Linter {
		opts := linter.Options{Schema: &schema.Options{}, Render: linter.RenderOff}
		if cached {
			opts.Cache = &linter.CacheOptions{Dir: cacheDir, Identity: "bench"}
		}
		return linter.New(eng, cfg, opts)
	}
	// one file to change
	var changed string
	require.NoError(b, filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && changed == "" && !d.IsDir() && filepath.Ext(p) == ".yaml" {
			changed = p
		}
		return err
	}))
	orig, err := os.ReadFile(changed)
	require.NoError(b, err)
	_, err = newLinter(true).Lint(ctx, []string{dir}) // fills the cache
	require.NoError(b, err)
	for _, c := range []struct {
		name   string
		cached bool
		before func(i int)
	}{
		{"cold", false, func(int) {}},
		{"warm", true, func(int) {}},
		{"one-changed", true, func(i int) {
			require.NoError(b, os.WriteFile(changed, fmt.Appendf(append([]byte{}, orig...), "\n# edit %d\n", i), 0o644))
		}},
	} {
		b.Run(c.name, func(b *testing.B) {
			l := newLinter(c.cached)
			i := 0
			for b.Loop() {
				b.StopTimer()
				c.before(i)
				i++
				b.StartTimer()
				rep, err := l.Lint(ctx, []string{dir})
				if err != nil || rep.Summary.Documents != st.Documents {
					b.Fatalf("lint: %v (%d documents)", err, rep.Summary.Documents)
				}
			}
			b.ReportMetric(float64(st.Documents)*float64(b.N)/b.Elapsed().Seconds(), "docs/s")
		})
	}
	require.NoError(b, os.WriteFile(changed, orig, 0o644))
}
