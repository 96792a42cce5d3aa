package engine

import (
	"context"
	"os"
	"path/filepath"
	"strings"
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

// TestCataloguePolicyDir: a rule added with --policy declares its parameters like the embedded
// ones: a configuration is checked against them, and a declaration that contradicts an embedded
// rule's is a catalogue error naming both rules.
func TestCataloguePolicyDir(t *testing.T) {
	rule := func(id, params string) string {
		return "# METADATA\n# title: " + id + "\n# related_resources:\n#   - ref: https://example.org\n# custom:\n" +
			"#   id: " + id + "\n#   severity: error\n#   scope: object\n#   params:\n" + params +
			"package ova.rules." + strings.ReplaceAll(id, "-", "_") + "\n\nviolation contains v if {\n\tv := {\"msg\": \"x\"}\n\tfalse\n}\n"
	}
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "demo.rego"), []byte(rule("demo-rule", "#     demo.max_replicas: {type: integer, minimum: 1}\n")), 0o644))
	cat, err := Catalogue(dir)
	require.NoError(t, err)
	assert.Contains(t, cat.RuleIDs, "demo-rule")
	require.NoError(t, config.Check([]byte("params: {demo: {max_replicas: 3}}\nrules: {demo-rule: {severity: warning}}\n"), "c.yaml", cat))
	err = config.Check([]byte("params:\n  demo:\n    max_replicas: \"3\"\n    max_replica: 3\n"), "c.yaml", cat)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "c.yaml:3:5: params.demo.max_replicas: got string, want integer")
	assert.Contains(t, err.Error(), "c.yaml:4:5: params.demo.max_replica: no rule declares this parameter; did you mean `params.demo.max_replicas`?")

	conflict := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(conflict, "other.rego"), []byte(rule("other-rule", "#     gitea.url_pattern: {type: integer}\n")), 0o644))
	_, err = Catalogue(conflict)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "declared as")
	assert.Contains(t, err.Error(), "by gitea-url")
	assert.Contains(t, err.Error(), "by other-rule")
}
