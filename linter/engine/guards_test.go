package engine

import (
	"context"
	"strings"
	"testing"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/openova-io/ova-lint/linter/schema"
)

// TestAPIVersionRuleKinds: flux-api-version and kubernetes-api-version declare custom.kinds
// so the engine skips them for other kinds; the lists must hold every kind of the carried
// catalogues (data.ova.apis), or a new Flux kind or a newly removed Kubernetes API would go
// unjudged.
func TestAPIVersionRuleKinds(t *testing.T) {
	eng, err := New(context.Background(), Options{})
	require.NoError(t, err)
	apis, err := schema.APIs()
	require.NoError(t, err)
	kindOf := func(key string) string { return key[strings.LastIndexByte(key, '/')+1:] }

	flux := eng.Rule("flux-api-version")
	require.NotNil(t, flux)
	lines, ok := apis["flux"].(map[string]any)
	require.True(t, ok)
	require.NotEmpty(t, lines)
	for line, kinds := range lines {
		for key := range kinds.(map[string]any) {
			assert.Contains(t, flux.Kinds, kindOf(key), "Flux %s kind %s is missing from flux-api-version's custom.kinds", line, key)
		}
	}

	kube := eng.Rule("kubernetes-api-version")
	require.NotNil(t, kube)
	removed, ok := apis["kubernetes"].(map[string]any)["removed"].(map[string]any)
	require.True(t, ok)
	require.NotEmpty(t, removed)
	for key := range removed {
		assert.Contains(t, kube.Kinds, kindOf(key), "removed API %s: its kind is missing from kubernetes-api-version's custom.kinds", key)
	}
}

// TestQuerySelection: a document is evaluated against the rules whose custom.kinds and
// custom.producers admit it, and only those.
func TestQuerySelection(t *testing.T) {
	eng, err := New(context.Background(), Options{})
	require.NoError(t, err)
	selected := func(kind any, producer string) []string {
		obj := map[string]any{"apiVersion": "v1"}
		if kind != nil {
			obj["kind"] = kind
		}
		in, err := ast.InterfaceToValue(map[string]any{"object": obj, "origin": map[string]any{"producer": producer}})
		require.NoError(t, err)
		var ids []string
		for _, o := range compiledOf(t, eng).queryFor(in).outputs {
			if !o.fact || len(ids) == 0 || ids[len(ids)-1] != o.rule.ID {
				ids = append(ids, o.rule.ID)
			}
		}
		return ids
	}
	cm := selected("ConfigMap", "file")
	assert.Contains(t, cm, "no-sops")
	for _, id := range []string{"flux-api-version", "kubernetes-api-version", "duplicate-resource", "unresolved-substitution", "gitea-url"} {
		assert.NotContains(t, cm, id)
	}
	built := selected("ConfigMap", "kustomize")
	assert.Contains(t, built, "duplicate-resource")
	assert.Contains(t, built, "unresolved-substitution")
	assert.Contains(t, selected("ConfigMap", "helm"), "duplicate-resource")
	assert.NotContains(t, selected("ConfigMap", "admission"), "unresolved-substitution")

	git := selected("GitRepository", "admission")
	for _, id := range []string{"flux-api-version", "gitea-url", "no-sops"} {
		assert.Contains(t, git, id)
	}
	assert.NotContains(t, git, "kubernetes-api-version")
	assert.Contains(t, selected("Ingress", "file"), "kubernetes-api-version")
	assert.Contains(t, selected(nil, "file"), "chart-name") // no kind: the rules that name ""
	assert.Contains(t, selected("SomeCRD", "file"), "no-sops")
	assert.NotContains(t, selected("SomeCRD", "file"), "chart-name")
}

// TestObjectQueriesLeaveOutRepoPassSets: an object's query asks for the facts of a repo-scope
// rule but not for its violation set when every body of that set starts with input.repo (the
// repo pass's); a set with an object-level body stays, and the repo pass's query asks for all.
func TestObjectQueriesLeaveOutRepoPassSets(t *testing.T) {
	eng, err := New(context.Background(), Options{})
	require.NoError(t, err)
	sets := func(q query) map[string]bool {
		out := map[string]bool{}
		for _, o := range q.outputs {
			set := "violation"
			if o.fact {
				set = "fact"
			}
			out[o.rule.Package+"."+set] = true
		}
		return out
	}
	in, err := ast.InterfaceToValue(map[string]any{"object": map[string]any{"apiVersion": "source.toolkit.fluxcd.io/v1", "kind": "GitRepository"}, "origin": map[string]any{"producer": "file"}})
	require.NoError(t, err)
	object := sets(compiledOf(t, eng).queryFor(in))
	assert.True(t, object["flux_source_ref.fact"])
	assert.False(t, object["flux_source_ref.violation"], "every body starts with input.repo.complete")
	assert.True(t, object["gitea_url.violation"])
	all := sets(compiledOf(t, eng).all)
	for _, set := range []string{"flux_source_ref.violation", "blueprint_version.violation", "duplicate_resource.violation", "gitea_url.violation"} {
		assert.True(t, all[set], set)
	}
	// the repo pass still finds what it finds: a reference to an undeclared source
	repoIn, err := ast.InterfaceToValue(map[string]any{"repo": map[string]any{"complete": true, "facts": []any{
		map[string]any{"pkg": "flux_source_ref", "type": "ref", "ref": "GitRepository/flux-system/missing", "by": "Kustomization flux-system/app", "path": []any{"spec", "sourceRef"},
			"at": map[string]any{"file": "a.yaml", "line": 3, "column": 3, "kind": "Kustomization", "namespace": "flux-system", "name": "app"}},
	}}})
	require.NoError(t, err)
	res, err := eng.Eval(context.Background(), repoIn)
	require.NoError(t, err)
	require.Len(t, res.Violations, 1)
	assert.Equal(t, "flux-source-ref", res.Violations[0].Rule.ID)
}

// compiledOf is what e evaluates with, compiled now if it was not.
func compiledOf(t testing.TB, e *Engine) *compiled {
	t.Helper()
	c, err := e.ready()
	if err != nil {
		t.Fatal(err)
	}
	return c
}
