package linter_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/openova-io/ova-lint/linter"
	"github.com/openova-io/ova-lint/linter/cache"
	"github.com/openova-io/ova-lint/linter/config"
	"github.com/openova-io/ova-lint/linter/engine"
	"github.com/openova-io/ova-lint/linter/finding"
	"github.com/openova-io/ova-lint/linter/schema"
	"github.com/openova-io/ova-lint/linter/treeindex"
)

// cachedLinter lints with one configuration, uncached or through a cache directory.
type cachedLinter struct {
	eng    *engine.Engine
	cfg    *config.Config
	render linter.RenderMode
}

// newCachedLinter lints with a lazy engine, as the CLI does with the cache: the rules compile
// when the first file is to be linted, and the files met before are linted after the others.
func newCachedLinter(t *testing.T, cfg *config.Config) cachedLinter {
	t.Helper()
	eng, err := engine.New(context.Background(), engine.Options{Config: cfg, Lazy: true})
	require.NoError(t, err)
	return cachedLinter{eng: eng, cfg: cfg}
}

// lint lints dir; with a cache directory it returns what the cache said.
func (c cachedLinter) lint(t *testing.T, dir, cacheDir string) (*finding.Report, cache.Stats) {
	t.Helper()
	rep, st, _ := c.lintIndexed(t, dir, cacheDir)
	return rep, st
}

// lintIndexed is lint that also returns what the tree index answered for. The index's run
// starts a minute from now, so that no edit of the test is racy.
func (c cachedLinter) lintIndexed(t *testing.T, dir, cacheDir string) (*finding.Report, cache.Stats, treeindex.Stats) {
	t.Helper()
	opts := linter.Options{Schema: &schema.Options{KubernetesVersion: c.cfg.KubernetesVersion, FluxVersion: c.cfg.FluxVersion}, Root: dir, Render: c.render}
	var st cache.Stats
	var stErr error
	reported := false
	var ix *treeindex.Index
	if cacheDir != "" {
		var err error
		ix, err = treeindex.Open(cacheDir, "test "+dir, time.Now().Add(time.Minute))
		require.NoError(t, err)
		opts.Cache = &linter.CacheOptions{Dir: cacheDir, Identity: "test", Index: ix, Report: func(s cache.Stats, err error) {
			st, stErr, reported = s, err, true
		}}
	}
	rep, err := linter.New(c.eng, c.cfg, opts).Lint(context.Background(), []string{dir})
	require.NoError(t, err)
	if cacheDir != "" {
		require.True(t, reported, "the cache reports how it went")
		require.NoError(t, stErr)
		require.NoError(t, ix.Close())
	}
	return rep, st, ix.Stats()
}

func configOf(t *testing.T, dir string) *config.Config {
	t.Helper()
	found, err := config.Find(dir)
	require.NoError(t, err)
	cfg, err := config.Load(found)
	require.NoError(t, err)
	return cfg
}

// TestCacheFixtures: over every fixture case, the run that fills the cache and the run that
// reads it report exactly what an uncached run reports.
func TestCacheFixtures(t *testing.T) {
	for _, c := range fixtureCases(t) {
		t.Run(c.Rule+"/"+c.Name, func(t *testing.T) {
			dir, err := filepath.Abs(c.Dir)
			require.NoError(t, err)
			t.Chdir(dir)
			l := newCachedLinter(t, configOf(t, dir))
			cold, _ := l.lint(t, dir, "")
			cacheDir := t.TempDir()
			first, st := l.lint(t, dir, cacheDir)
			assert.Equal(t, cold, first, "the run that fills the cache")
			assert.Zero(t, st.Hits)
			warm, st := l.lint(t, dir, cacheDir)
			assert.Equal(t, cold, warm, "the run that reads the cache")
			assert.Zero(t, st.Added, "nothing changed: nothing to compute")
			assert.Equal(t, st.Read, st.Hits, "every entry is used")
		})
	}
}

func write(t *testing.T, path, text string) {
	t.Helper()
	require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
	require.NoError(t, os.WriteFile(path, []byte(text), 0o644))
}

// TestCacheEditedTree edits a tree between runs: each cached run reports what an uncached run
// of the same tree reports, recomputing only what changed.
func TestCacheEditedTree(t *testing.T) {
	demo, err := filepath.Abs("../fixtures/demo")
	require.NoError(t, err)
	dir := filepath.Join(t.TempDir(), "repo")
	require.NoError(t, os.CopyFS(dir, os.DirFS(demo)))
	t.Chdir(dir)
	cacheDir := t.TempDir()
	cfg := configOf(t, dir)
	steps := []struct {
		name string
		edit func(t *testing.T)
		// changed config: a new fingerprint, nothing from the cache
		cfg func() *config.Config
		// minHits is the least number of files taken from the cache
		minHits int
	}{
		{name: "first run", edit: func(*testing.T) {}},
		{name: "unchanged", edit: func(*testing.T) {}, minHits: 3},
		{name: "a file changed", edit: func(t *testing.T) {
			// the findings of this file move down a line, and kustomization-prune is gone
			p := filepath.Join(dir, "clusters/fsn1/staging/billing.yaml")
			raw, err := os.ReadFile(p)
			require.NoError(t, err)
			text := strings.Replace(string(raw), "  interval: 1m\n", "  # edited\n  interval: 1m\n", 1)
			write(t, p, strings.Replace(text, "prune: false", "prune: true", 1))
		}, minHits: 3},
		{name: "a repo-scope fact changed", edit: func(t *testing.T) {
			// the chart's version now matches its Blueprint's: blueprint-version (repo scope,
			// whose findings the cache keeps by the digest of every fact) is gone
			p := filepath.Join(dir, "platform/billing/chart/Chart.yaml")
			raw, err := os.ReadFile(p)
			require.NoError(t, err)
			write(t, p, strings.Replace(string(raw), "version: 1.4.0", "version: 1.3.0", 1))
		}, minHits: 3},
		{name: "a file added", edit: func(t *testing.T) {
			write(t, filepath.Join(dir, "platform/extra/secret.yaml"), "apiVersion: v1\nkind: Secret\nmetadata:\n  name: extra\n  namespace: billing\nstringData:\n  password: plain-text-here\n")
		}, minHits: 3},
		{name: "a file removed", edit: func(t *testing.T) {
			require.NoError(t, os.Remove(filepath.Join(dir, "platform/extra/secret.yaml")))
		}, minHits: 3},
		{name: "a kind without a schema added", edit: func(t *testing.T) {
			// a document and a List's item of a kind the catalog has no schema for: each is
			// reported "no schema", and the file's result is cached with that verdict
			write(t, filepath.Join(dir, "platform/extra/widget.yaml"), widgets)
		}, minHits: 3},
		{name: "unchanged, a kind without a schema", edit: func(*testing.T) {}, minHits: 4},
		{name: "its CRD added", edit: func(t *testing.T) {
			// the cached "no schema" verdicts give way: the widgets are validated against the
			// CRD (spec.size must be an integer), their file parsed again
			write(t, filepath.Join(dir, "platform/extra/crd.yaml"), widgetCRD)
		}, minHits: 4},
		{name: "its CRD removed", edit: func(t *testing.T) {
			require.NoError(t, os.Remove(filepath.Join(dir, "platform/extra/crd.yaml")))
		}, minHits: 4},
		{name: "a parameter changed", edit: func(*testing.T) {}, cfg: func() *config.Config {
			c := *cfg
			c.Params = map[string]any{}
			for k, v := range cfg.Params {
				c.Params[k] = v
			}
			c.Params["gitea"] = map[string]any{"url_pattern": "^https://git\\.example\\.org/.*$"}
			return &c
		}},
	}
	var previous *finding.Report
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			s.edit(t)
			c := cfg
			if s.cfg != nil {
				c = s.cfg()
			}
			l := newCachedLinter(t, c)
			cold, _ := l.lint(t, dir, "")
			got, st, ix := l.lintIndexed(t, dir, cacheDir)
			assert.Equal(t, cold, got)
			unchanged := strings.HasPrefix(s.name, "unchanged")
			if unchanged {
				assert.Zero(t, st.Added, "nothing changed: nothing to compute")
			}
			if s.name == "unchanged" {
				// the tree index vouched for every directory and file: none was listed or read
				assert.Equal(t, cold.Summary.Files, ix.Files, "files the index answered for")
				assert.Positive(t, ix.Dirs)
			} else if s.name == "a file changed" {
				assert.Equal(t, cold.Summary.Files-1, ix.Files, "only the edited file is read")
			}
			if previous != nil && !unchanged {
				assert.NotEqual(t, previous, cold, "the edit changes the findings")
			}
			previous = cold
			if s.minHits == 0 {
				assert.Zero(t, st.Hits, "a new fingerprint takes nothing from the cache")
			} else {
				assert.GreaterOrEqual(t, st.Hits, s.minHits)
			}
		})
	}
}

// widgets are objects of a kind the catalog has no schema for: a document, and the items of a
// List (documents of their own).
const widgets = `apiVersion: example.org/v1
kind: Widget
metadata:
  name: big
  namespace: billing
spec:
  size: big
---
apiVersion: v1
kind: List
items:
  - apiVersion: example.org/v1
    kind: Widget
    metadata:
      name: small
      namespace: billing
    spec:
      size: 2
  - apiVersion: example.org/v1
    kind: Widget
    metadata:
      name: huge
      namespace: billing
    spec:
      size: huge
`

// widgetCRD gives Widget a schema: spec.size is an integer.
const widgetCRD = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.example.org
spec:
  group: example.org
  names:
    kind: Widget
    plural: widgets
  scope: Namespaced
  versions:
    - name: v1
      served: true
      storage: true
      schema:
        openAPIV3Schema:
          type: object
          properties:
            spec:
              type: object
              properties:
                size:
                  type: integer
`

// TestCacheCorruptEntry damages the cache between runs: the damaged entries are recomputed,
// and the run reports what an uncached run reports.
func TestCacheCorruptEntry(t *testing.T) {
	demo, err := filepath.Abs("../fixtures/demo")
	require.NoError(t, err)
	t.Chdir(demo)
	l := newCachedLinter(t, configOf(t, demo))
	cold, _ := l.lint(t, demo, "")
	damages := []struct {
		name   string
		damage func([]byte) []byte
	}{
		{"every payload byte flipped", func(b []byte) []byte {
			// past the header, flip one bit of every 7th byte: every record's checksum fails
			for i := 64; i < len(b); i += 7 {
				b[i] ^= 0x10
			}
			return b
		}},
		{"truncated", func(b []byte) []byte { return b[:len(b)/2] }},
		{"emptied", func([]byte) []byte { return nil }},
	}
	for _, d := range damages {
		t.Run(d.name, func(t *testing.T) {
			cacheDir := t.TempDir()
			_, st := l.lint(t, demo, cacheDir)
			require.Positive(t, st.Added)
			packs, err := filepath.Glob(filepath.Join(cacheDir, "*.pack"))
			require.NoError(t, err)
			require.Len(t, packs, 1)
			raw, err := os.ReadFile(packs[0])
			require.NoError(t, err)
			require.NoError(t, os.WriteFile(packs[0], d.damage(raw), 0o644))

			got, st := l.lint(t, demo, cacheDir)
			assert.Equal(t, cold, got)
			assert.Less(t, st.Hits, st.Added+st.Hits, "damaged entries were recomputed")
			// and the cache is whole again
			again, st := l.lint(t, demo, cacheDir)
			assert.Equal(t, cold, again)
			assert.Zero(t, st.Added)
			assert.Zero(t, st.Corrupt)
		})
	}
}

// TestCacheConcurrentRuns runs several lints at once on one cache directory.
func TestCacheConcurrentRuns(t *testing.T) {
	demo, err := filepath.Abs("../fixtures/demo")
	require.NoError(t, err)
	t.Chdir(demo)
	l := newCachedLinter(t, configOf(t, demo))
	cold, _ := l.lint(t, demo, "")
	cacheDir := t.TempDir()
	const runs = 6
	reps := make([]*finding.Report, runs)
	var wg sync.WaitGroup
	for i := range runs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 3 {
				reps[i], _ = l.lint(t, demo, cacheDir)
			}
		}()
	}
	wg.Wait()
	for i, r := range reps {
		assert.Equal(t, cold, r, "run %d", i)
	}
	got, st := l.lint(t, demo, cacheDir)
	assert.Equal(t, cold, got)
	assert.Zero(t, st.Added)
	assert.Zero(t, st.Corrupt)
}

// TestCacheRenderModes: a cache filled by a run without the Flux graph (--render=off) serves a
// run with it, and the other way round, each reporting what an uncached run of its mode reports.
func TestCacheRenderModes(t *testing.T) {
	demo, err := filepath.Abs("../fixtures/demo")
	require.NoError(t, err)
	t.Chdir(demo)
	on := newCachedLinter(t, configOf(t, demo))
	off := on
	off.render = linter.RenderOff
	coldOn, _ := on.lint(t, demo, "")
	coldOff, _ := off.lint(t, demo, "")
	require.NotEqual(t, coldOn, coldOff, "the graph adds findings to the demo tree")
	cacheDir := t.TempDir()
	for i, l := range []cachedLinter{off, on, off, on} {
		got, _ := l.lint(t, demo, cacheDir)
		want := coldOn
		if l.render == linter.RenderOff {
			want = coldOff
		}
		assert.Equal(t, want, got, "run %d", i)
	}
}
