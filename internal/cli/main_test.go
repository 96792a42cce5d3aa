package cli

import (
	"fmt"
	"os"
	"testing"
)

// xdgCacheHome is XDG_CACHE_HOME as the test binary was started with (initialised before
// TestMain replaces it): hostGoEnv resolves the go command's settings with it.
var xdgCacheHome, xdgCacheHomeSet = os.LookupEnv("XDG_CACHE_HOME")

// TestMain points the result cache's default directory (os.UserCacheDir) at a directory of this
// test binary's own, so the CLI tests neither read a developer's cache nor leave packs in it.
// Tests that exercise the cache directory set their own.
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "ova-lint-cli-test-cache-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	if err := os.Setenv("XDG_CACHE_HOME", dir); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	code := m.Run()
	_ = os.RemoveAll(dir)
	os.Exit(code)
}
