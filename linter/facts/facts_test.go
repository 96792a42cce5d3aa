package facts_test

import (
	"encoding/json"
	"testing"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/stretchr/testify/require"

	"github.com/openova-io/ova-lint/linter/cache"
	"github.com/openova-io/ova-lint/linter/facts"
)

func located() []map[string]any {
	return []map[string]any{
		{"pkg": "helmrelease_chart", "type": "release", "chart": "bp-a", "version": "1.0.0", "path": []any{"spec", "chart"},
			"at": map[string]any{"file": "a.yaml", "line": 4, "column": 7, "kind": "HelmRelease", "namespace": "flux-system", "name": "a"}},
		{"pkg": "single_gitea", "type": "gitea-host", "host": "gitea.example", "n": json.Number("2.5"), "ok": true, "none": nil, "f": 1.5, "big": int64(1) << 40,
			"at": map[string]any{"file": "b.yaml", "line": 1, "column": 1, "kind": "GitRepository", "namespace": "", "name": "b"}},
		{"pkg": "helmrelease_chart", "type": "chart", "name": "bp-a", "version": "1.0.0", "names": []any{},
			"at": map[string]any{"file": "c/Chart.yaml", "line": 2, "column": 7, "kind": "", "namespace": "", "name": "bp-a"}},
	}
}

// TestInputMatchesConversion: the terms decoded from the encodings are the terms OPA's own
// conversion makes of the Go values, grouped by package in order.
func TestInputMatchesConversion(t *testing.T) {
	ms := located()
	var fs []facts.Fact
	var want []*ast.Term
	for _, m := range ms {
		f, err := facts.Encode(m)
		require.NoError(t, err)
		require.Equal(t, m["pkg"], f.Pkg)
		require.NoError(t, facts.Check(f.Enc))
		back, err := f.Decode()
		require.NoError(t, err)
		require.Equal(t, m, back)
		fs = append(fs, f)
		v, err := ast.InterfaceToValue(m)
		require.NoError(t, err)
		want = append(want, ast.NewTerm(v))
	}
	for _, complete := range []bool{true, false} {
		in, err := facts.Input(fs, complete)
		require.NoError(t, err)
		repo := in.(ast.Object).Get(ast.StringTerm("repo")).Value.(ast.Object)
		require.Equal(t, 0, repo.Get(ast.StringTerm("facts")).Value.Compare(ast.NewArray(want...)))
		byPkg := repo.Get(ast.StringTerm("by_pkg")).Value.(ast.Object)
		require.Equal(t, 0, byPkg.Get(ast.StringTerm("helmrelease_chart")).Value.Compare(ast.NewArray(want[0], want[2])))
		require.Equal(t, 0, byPkg.Get(ast.StringTerm("single_gitea")).Value.Compare(ast.NewArray(want[1])))
		require.Equal(t, ast.Boolean(complete), repo.Get(ast.StringTerm("complete")).Value)
	}
}

// TestCheckRefusesDamage: a cached fact that is cut short, carries trailing bytes or is not an
// object is refused, never decoded into the repo pass.
func TestCheckRefusesDamage(t *testing.T) {
	f, err := facts.Encode(located()[0])
	require.NoError(t, err)
	var w cache.Writer
	w.Value([]any{"not", "an", "object"})
	list, _ := w.Bytes()
	for name, enc := range map[string][]byte{
		"empty":     nil,
		"truncated": f.Enc[:len(f.Enc)-3],
		"trailing":  append(append([]byte{}, f.Enc...), 0),
		"list":      list,
		"bad tag":   append([]byte{f.Enc[0], 2, 0x7f}, f.Enc[3:]...),
	} {
		t.Run(name, func(t *testing.T) {
			require.Error(t, facts.Check(enc))
			_, err := facts.Input([]facts.Fact{{Pkg: "x", Enc: enc}}, true)
			require.Error(t, err)
		})
	}
}
