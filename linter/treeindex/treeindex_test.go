package treeindex_test

import (
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/openova-io/ova-lint/linter/treeindex"
)

// later is a run start far enough after the test's writes that none of them is racy.
func later() time.Time { return time.Now().Add(time.Minute) }

func write(t *testing.T, p, content string) {
	t.Helper()
	require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
	require.NoError(t, os.WriteFile(p, []byte(content), 0o644))
}

func names(t *testing.T, ix *treeindex.Index, dir string) []string {
	t.Helper()
	des, err := ix.ReadDir(dir)
	require.NoError(t, err)
	var out []string
	for _, d := range des {
		n := d.Name()
		if d.IsDir() {
			n += "/"
		}
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// run is one run over the tree: it lists dir and looks up every file, reading and recording
// the ones the index does not vouch for; it returns the names listed, the files it had to read
// and the index's stats.
func run(t *testing.T, cacheDir, tree string, start time.Time) ([]string, []string, treeindex.Stats) {
	t.Helper()
	ix, err := treeindex.Open(cacheDir, "scope "+tree, start)
	require.NoError(t, err)
	listed := names(t, ix, tree)
	var read []string
	for _, n := range listed {
		p := filepath.Join(tree, n)
		if n[len(n)-1] == '/' {
			continue
		}
		f, ok := ix.Lookup(p)
		fi, err := os.Stat(p) // before the read, as a reader's fstat
		require.NoError(t, err)
		data, err := os.ReadFile(p)
		require.NoError(t, err)
		if ok {
			assert.Equal(t, sha256.Sum256(data), f.Digest, "%s: a hit is the file's digest", n)
			assert.Equal(t, "meta of "+string(data), string(f.Meta))
			continue
		}
		read = append(read, n)
		st, ok := treeindex.StatOf(fi)
		require.True(t, ok)
		ix.Record(p, st, treeindex.File{Digest: sha256.Sum256(data), Meta: []byte("meta of " + string(data))})
	}
	stats := ix.Stats()
	require.NoError(t, ix.Close())
	return listed, read, stats
}

// needStat skips a test on a platform where the index answers nothing.
func needStat(t *testing.T) {
	t.Helper()
	if runtime.GOOS != "linux" && runtime.GOOS != "darwin" {
		t.Skip("the index answers nothing on this platform")
	}
}

// indexedTree is a tree of one file after one run: the cache directory, the tree and the path
// of the index file that run wrote.
func indexedTree(t *testing.T) (cacheDir, tree, index string) {
	t.Helper()
	needStat(t)
	cacheDir, tree = t.TempDir(), t.TempDir()
	write(t, filepath.Join(tree, "a.yaml"), "a: 1\n")
	run(t, cacheDir, tree, later())
	idx, err := filepath.Glob(filepath.Join(cacheDir, "trees", "*.index"))
	require.NoError(t, err)
	require.Len(t, idx, 1)
	return cacheDir, tree, idx[0]
}

func TestIndexAnswersForWhatDidNotChange(t *testing.T) {
	needStat(t)
	cacheDir, tree := t.TempDir(), t.TempDir()
	write(t, filepath.Join(tree, "a.yaml"), "a: 1\n")
	write(t, filepath.Join(tree, "b.yaml"), "b: 1\n")
	write(t, filepath.Join(tree, "sub", "c.yaml"), "c: 1\n")

	steps := []struct {
		name   string
		edit   func()
		start  func() time.Time
		listed []string
		read   []string
		stats  treeindex.Stats
	}{
		{name: "first run: everything read", edit: func() {}, start: later,
			listed: []string{"a.yaml", "b.yaml", "sub/"}, read: []string{"a.yaml", "b.yaml"}},
		{name: "nothing changed: nothing read", edit: func() {}, start: later,
			listed: []string{"a.yaml", "b.yaml", "sub/"}, stats: treeindex.Stats{Dirs: 1, Files: 2}},
		{name: "a file rewritten with the same size", edit: func() { write(t, filepath.Join(tree, "a.yaml"), "a: 2\n") }, start: later,
			listed: []string{"a.yaml", "b.yaml", "sub/"}, read: []string{"a.yaml"}, stats: treeindex.Stats{Dirs: 1, Files: 1}},
		{name: "a file added: the directory is listed again", edit: func() { write(t, filepath.Join(tree, "d.yaml"), "d: 1\n") }, start: later,
			listed: []string{"a.yaml", "b.yaml", "d.yaml", "sub/"}, read: []string{"d.yaml"}, stats: treeindex.Stats{Files: 2}},
		{name: "a file removed", edit: func() { require.NoError(t, os.Remove(filepath.Join(tree, "b.yaml"))) }, start: later,
			listed: []string{"a.yaml", "d.yaml", "sub/"}, stats: treeindex.Stats{Files: 2}},
		{name: "racy: a run within the window of the writes trusts none of them", edit: func() { write(t, filepath.Join(tree, "a.yaml"), "a: 3\n") }, start: time.Now,
			listed: []string{"a.yaml", "d.yaml", "sub/"}, read: []string{"a.yaml", "d.yaml"}},
		{name: "and recorded none of them", edit: func() {}, start: later,
			listed: []string{"a.yaml", "d.yaml", "sub/"}, read: []string{"a.yaml", "d.yaml"}},
		{name: "and are now", edit: func() {}, start: later,
			listed: []string{"a.yaml", "d.yaml", "sub/"}, stats: treeindex.Stats{Dirs: 1, Files: 2}},
	}
	for _, s := range steps {
		s.edit()
		listed, read, stats := run(t, cacheDir, tree, s.start())
		assert.Equal(t, s.listed, listed, s.name)
		assert.Equal(t, s.read, read, s.name)
		assert.Equal(t, s.stats, stats, s.name)
	}
}

func TestDamagedIndexIsEmpty(t *testing.T) {
	cacheDir, tree, idx := indexedTree(t)
	raw, err := os.ReadFile(idx)
	require.NoError(t, err)

	for name, damage := range map[string]func([]byte) []byte{
		"a flipped byte": func(b []byte) []byte { b = append([]byte(nil), b...); b[len(b)-3] ^= 0x40; return b },
		"truncated":      func(b []byte) []byte { return b[:len(b)/2] },
		"empty":          func([]byte) []byte { return nil },
		"not an index":   func([]byte) []byte { return []byte("hello\n") },
	} {
		require.NoError(t, os.WriteFile(idx, damage(raw), 0o644), name)
		_, read, stats := run(t, cacheDir, tree, later())
		assert.Equal(t, []string{"a.yaml"}, read, "%s: read again", name)
		assert.Equal(t, treeindex.Stats{Damaged: true}, stats, name)
		_, read, _ = run(t, cacheDir, tree, later())
		assert.Empty(t, read, "%s: the index was written again", name)
	}
}

func TestCloseKeepsAnUnchangedIndexAndTrimsOldOnes(t *testing.T) {
	cacheDir, tree, idx := indexedTree(t)
	before, err := os.Stat(idx)
	require.NoError(t, err)

	stale := filepath.Join(cacheDir, "trees", "0123.index")
	write(t, stale, "an old tree's index")
	old := time.Now().Add(-treeindex.MaxAge - time.Hour)
	require.NoError(t, os.Chtimes(stale, old, old))
	recent := filepath.Join(cacheDir, "trees", "4567.index")
	write(t, recent, "another tree's index")

	var many []string
	for i := range treeindex.MaxTrees + 2 {
		p := filepath.Join(cacheDir, "trees", fmt.Sprintf("other-%02d.index", i))
		write(t, p, "another tree's index")
		at := time.Now().Add(-time.Duration(i+1) * time.Minute) // other-00 the most recent
		require.NoError(t, os.Chtimes(p, at, at))
		many = append(many, p)
	}

	run(t, cacheDir, tree, later())
	after, err := os.Stat(idx)
	require.NoError(t, err)
	assert.True(t, os.SameFile(before, after), "nothing changed: the index is not rewritten")
	assert.NoFileExists(t, stale, "unused for MaxAge: removed")
	// kept: this run's, "recent" and the most recent others, MaxTrees in all
	assert.FileExists(t, recent)
	for i, p := range many {
		if i < treeindex.MaxTrees-2 {
			assert.FileExists(t, p)
		} else {
			assert.NoFileExists(t, p, "beyond the MaxTrees most recently used: removed")
		}
	}
}

func TestNilIndexReadsEverything(t *testing.T) {
	tree := t.TempDir()
	write(t, filepath.Join(tree, "a.yaml"), "a: 1\n")
	var ix *treeindex.Index
	assert.Equal(t, []string{"a.yaml"}, names(t, ix, tree))
	_, ok := ix.Lookup(filepath.Join(tree, "a.yaml"))
	assert.False(t, ok)
	ix.Record(filepath.Join(tree, "a.yaml"), treeindex.Stat{Size: 1}, treeindex.File{})
	assert.NoError(t, ix.Close())
}

// TestStaleIndexStopsAsking: when the first recorded files all fail their stat and none has
// held (a fresh checkout: every inode is new), the index stops taking a stat per file, so the
// files after that are misses even where they hold.
func TestStaleIndexStopsAsking(t *testing.T) {
	needStat(t)
	const n = 300
	cacheDir, tree := t.TempDir(), t.TempDir()
	for i := range n {
		write(t, filepath.Join(tree, fmt.Sprintf("f%03d.yaml", i)), "a: 1\n")
	}
	for _, changed := range []int{0, 200, 280} { // how many files, first in order, are rewritten
		t.Run(fmt.Sprint(changed), func(t *testing.T) {
			run(t, cacheDir, tree, later()) // every file recorded
			for i := range changed {
				write(t, filepath.Join(tree, fmt.Sprintf("f%03d.yaml", i)), fmt.Sprintf("a: %d\n", changed%10))
			}
			_, read, stats := run(t, cacheDir, tree, later())
			want := n - changed // a stale index only after 256 misses in a row with no hit
			if changed >= 256 {
				want = 0
			}
			assert.Equal(t, want, stats.Files, "files the index answered for")
			assert.Len(t, read, n-want)
		})
	}
}

// TestFewChangesKeepTheIndex: a run that changes few records of a large index does not write it
// again; the next run reads the changed file again (and finds the rest unchanged).
func TestFewChangesKeepTheIndex(t *testing.T) {
	needStat(t)
	cacheDir, tree := t.TempDir(), t.TempDir()
	for i := range 1200 {
		write(t, filepath.Join(tree, fmt.Sprintf("f%04d.yaml", i)), fmt.Sprintf("n: %d\n", i))
	}
	_, read, _ := run(t, cacheDir, tree, later())
	require.Len(t, read, 1200)
	idx, err := filepath.Glob(filepath.Join(cacheDir, "trees", "*.index"))
	require.NoError(t, err)
	require.Len(t, idx, 1)
	before, err := os.Stat(idx[0])
	require.NoError(t, err)

	write(t, filepath.Join(tree, "f0007.yaml"), "n: 7, edited\n")
	_, read, _ = run(t, cacheDir, tree, later())
	assert.Equal(t, []string{"f0007.yaml"}, read)
	after, err := os.Stat(idx[0])
	require.NoError(t, err)
	assert.True(t, os.SameFile(before, after), "one change in 1,201 records: the index is kept")
	_, read, stats := run(t, cacheDir, tree, later())
	assert.Equal(t, []string{"f0007.yaml"}, read, "its record did not hold: read again")
	assert.Equal(t, 1199, stats.Files)
}

// TestTheLaterRecordWins records one path twice in a run, and records again a path whose
// record the run used: the index written keeps the later record of each.
func TestTheLaterRecordWins(t *testing.T) {
	needStat(t)
	cacheDir, tree := t.TempDir(), t.TempDir()
	p := filepath.Join(tree, "a.yaml")
	write(t, p, "a: 1\n")
	fi, err := os.Stat(p)
	require.NoError(t, err)
	st, ok := treeindex.StatOf(fi)
	require.True(t, ok)
	digest := sha256.Sum256([]byte("a: 1\n"))
	open := func() *treeindex.Index {
		ix, err := treeindex.Open(cacheDir, "scope "+tree, later())
		require.NoError(t, err)
		return ix
	}

	ix := open()
	ix.Record(p, st, treeindex.File{Digest: digest, Meta: []byte("first")})
	ix.Record(p, st, treeindex.File{Digest: digest, Meta: []byte("second")})
	require.NoError(t, ix.Close())

	ix = open()
	f, ok := ix.Lookup(p)
	require.True(t, ok)
	assert.Equal(t, "second", string(f.Meta), "recorded twice: the later record")
	ix.Record(p, st, treeindex.File{Digest: digest, Meta: []byte("third")})
	require.NoError(t, ix.Close())

	ix = open()
	f, ok = ix.Lookup(p)
	require.True(t, ok)
	assert.Equal(t, "third", string(f.Meta), "used, then recorded: the record of this run")
	require.NoError(t, ix.Close())
}
