package linter

import (
	"testing"

	"github.com/openova-io/ova-lint/linter/cache"
	"github.com/openova-io/ova-lint/linter/loader"
)

// TestResultKeyIsTheHasherStream: key builds the cache.Hasher stream in one buffer; it must
// give the Hasher's key (or every cache written before would silently miss, or worse, two parts
// could run together).
func TestResultKeyIsTheHasherStream(t *testing.T) {
	for _, tc := range []struct {
		graph, patch bool
		f            loader.File
	}{
		{true, true, loader.File{Display: "a/b.yaml", Rel: "b.yaml", Root: "a"}},
		{false, false, loader.File{Display: "b.yaml", Rel: "b.yaml", Root: "."}},
		{false, true, loader.File{}},
	} {
		c := &resultCache{fingerprint: []byte("0123456789abcdef0123456789abcdef"), graph: tc.graph}
		d := [32]byte{1, 2, 3}
		p, g := "file", "no graph"
		if tc.patch {
			p = "patch"
		}
		if tc.graph {
			g = "graph"
		}
		want := cache.NewHasher().Bytes(c.fingerprint).String(tc.f.Display, tc.f.Rel, tc.f.Root, p, g).Bytes(d[:]).Sum()
		if got := c.key(tc.f, d, tc.patch); got != want {
			t.Errorf("%+v: key %s, the Hasher's %s", tc, got, want)
		}
	}
}
