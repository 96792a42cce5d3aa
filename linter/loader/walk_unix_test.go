//go:build unix

package loader

import (
	"context"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestWalkSkipsIrregularFiles: a walked tree lints regular files and links to them only. A
// named pipe called *.yaml blocked the run, a link to /dev/zero read without end, a link to a
// directory failed the run with "is a directory".
func TestWalkSkipsIrregularFiles(t *testing.T) {
	dir := t.TempDir()
	write := func(name string) {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte("a: 1\n"), 0o644))
	}
	write("plain.yaml")
	require.NoError(t, os.Mkdir(filepath.Join(dir, "sub"), 0o755))
	require.NoError(t, os.Symlink("plain.yaml", filepath.Join(dir, "link.yaml")))
	require.NoError(t, os.Symlink("sub", filepath.Join(dir, "dir-link.yaml")))
	require.NoError(t, os.Symlink("missing.yaml", filepath.Join(dir, "broken-link.yaml")))
	if _, err := os.Stat("/dev/zero"); err == nil {
		require.NoError(t, os.Symlink("/dev/zero", filepath.Join(dir, "zero.yaml")))
	}
	require.NoError(t, syscall.Mkfifo(filepath.Join(dir, "pipe.yaml"), 0o644))

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	res, err := Walk(ctx, []string{dir}, nil)
	require.NoError(t, err)
	var rels []string
	for _, f := range res.Files {
		rels = append(rels, f.Rel)
	}
	// the broken link stays: reading it reports the missing file (exit 2), as for any path
	assert.Equal(t, []string{"broken-link.yaml", "link.yaml", "plain.yaml"}, rels)
	for _, f := range res.Files[1:] {
		data, err := ReadFile(f.OSPath, DefaultLimits())
		require.NoError(t, err)
		assert.Equal(t, "a: 1\n", string(data))
	}
}

// TestReadFileOfADevice: a path given on the command line is read whatever it is, but never past
// the size limit.
func TestReadFileOfADevice(t *testing.T) {
	if _, err := os.Stat("/dev/zero"); err != nil {
		t.Skip("no /dev/zero")
	}
	data, err := ReadFile("/dev/zero", Limits{MaxFileBytes: 1 << 20})
	require.NoError(t, err)
	assert.Len(t, data, 1<<20+1)
	assert.True(t, IsBinary(data))
}
