package cache

import (
	"os"
	"testing"
)

// inode tells one file from its replacement (os.SameFile compares device and inode).
func inode(t *testing.T, path string) os.FileInfo {
	t.Helper()
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return info
}
