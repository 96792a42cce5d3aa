package engine

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/openova-io/ova-lint/linter/config"
)

// TestCatalogueParams: the embedded rules' parameter declarations merge without conflict, and
// the engine reads the same catalogue as Catalogue.
func TestCatalogueParams(t *testing.T) {
	cat, err := Catalogue()
	require.NoError(t, err)
	assert.Equal(t, []string{"gitea-url"}, cat.DeclaredBy["gitea.url_pattern"])
	eng, err := New(context.Background(), Options{})
	require.NoError(t, err)
	fromEngine, err := eng.Catalogue()
	require.NoError(t, err)
	assert.Equal(t, cat, fromEngine)
}

// TestDefaultParamsDeclared: every parameter of the default profile is declared by some rule's
// custom.params, so no value of .ova-lint.yaml goes unvalidated, and the default profile itself
// validates against the declarations.
func TestDefaultParamsDeclared(t *testing.T) {
	cat, err := Catalogue()
	require.NoError(t, err)
	def, err := config.Default()
	require.NoError(t, err)
	assert.Empty(t, cat.Undeclared(def.Params), "parameters of linter/config/default.yaml that no rule declares in custom.params")
	assert.NoError(t, config.Check(config.DefaultYAML(), "default.yaml", cat))
}

// BenchmarkCatalogue: the cost the CLI pays, before building the engine, to check a
// configuration file against the catalogue (parse the rules' METADATA, build and compile the
// schema, validate a small file).
func BenchmarkCatalogue(b *testing.B) {
	raw := []byte("params:\n  gitea:\n    host: gitea.example.org\nrules:\n  kustomization-prune: {disabled: true}\n")
	for b.Loop() {
		cat, err := Catalogue()
		if err != nil {
			b.Fatal(err)
		}
		if err := config.Check(raw, "c.yaml", cat); err != nil {
			b.Fatal(err)
		}
	}
}
