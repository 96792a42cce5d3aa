package loader_test

import (
	"context"
	"io/fs"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/openova-io/ova-lint/internal/gencorpus"
	"github.com/openova-io/ova-lint/linter/loader"
)

// TestWalkManyDirectories: the directories of a generated tree (hundreds of them, read on
// several goroutines) give exactly the YAML files a sequential filepath.WalkDir finds, sorted,
// whichever directory argument is given.
func TestWalkManyDirectories(t *testing.T) {
	dir := t.TempDir()
	_, err := gencorpus.Generate(dir, 2000, 7)
	require.NoError(t, err)
	var want []string
	require.NoError(t, filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && (filepath.Ext(p) == ".yaml" || filepath.Ext(p) == ".yml") {
			rel, _ := filepath.Rel(dir, p)
			want = append(want, filepath.ToSlash(rel))
		}
		return err
	}))
	sort.Strings(want)
	require.Greater(t, len(want), 500)
	t.Chdir(dir)
	for range 3 {
		res, err := loader.Walk(context.Background(), []string{"."}, nil)
		require.NoError(t, err)
		var got []string
		for _, f := range res.Files {
			got = append(got, f.Rel)
			assert.Equal(t, f.Rel, f.Display)
		}
		assert.Equal(t, want, got)
	}

	// whatever the argument's form, each file's paths are what they say: OSPath opens it, Rel
	// ends it, Display is it relative to the working directory (the walk shares one string
	// among the three when it can)
	for _, arg := range []string{".", "platform", "./platform/", filepath.Join(dir, "platform"), dir + "/"} {
		res, err := loader.Walk(context.Background(), []string{arg}, nil)
		require.NoError(t, err, arg)
		require.NotEmpty(t, res.Files, arg)
		for _, f := range res.Files {
			abs, err := filepath.Abs(f.OSPath)
			require.NoError(t, err)
			require.FileExists(t, f.OSPath)
			display, err := filepath.Rel(dir, abs)
			require.NoError(t, err)
			assert.Equal(t, filepath.ToSlash(display), f.Display, arg)
			assert.True(t, strings.HasSuffix(filepath.ToSlash(f.OSPath), "/"+f.Rel) || filepath.ToSlash(f.OSPath) == f.Rel, "%s: OSPath %s, Rel %s", arg, f.OSPath, f.Rel)
		}
	}

	// a cancelled walk returns the context's error
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = loader.Walk(ctx, []string{"."}, nil)
	assert.ErrorIs(t, err, context.Canceled)
}
