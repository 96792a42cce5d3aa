package engine

import (
	"context"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/storage"
	"github.com/open-policy-agent/opa/v1/storage/inmem"
	"github.com/open-policy-agent/opa/v1/topdown"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestVcacheIsTopdowns runs random sequences of Push, Pop, Put and Get on vcache and on
// topdown's own virtual cache, and compares every answer (and Keys, as sets). The caller's
// reference slice is overwritten after each Put, as the evaluator reuses its buffers.
func TestVcacheIsTopdowns(t *testing.T) {
	refs := []ast.Ref{
		ast.MustParseRef("data.ova.rules.no_sops.violation"),
		ast.MustParseRef("data.ova.rules.no_sops.fix"),
		ast.MustParseRef("data.ova.rules.sync_interval.violation"),
		ast.MustParseRef("data.ova.rules.sync_interval.expected"),
		ast.MustParseRef("data.ova.lib.k8s.display"),
		ast.MustParseRef("data.ova.lib.k8s"),
		ast.MustParseRef("data.ova.lib.k8s.display.x"),
		ast.MustParseRef(`data.ova.lib.k8s.path[1]`),
		ast.MustParseRef(`data.ova.lib.k8s.path["a"]`),
	}
	values := []*ast.Term{nil, ast.StringTerm("a"), ast.BooleanTerm(true), ast.SetTerm(ast.StringTerm("v")), ast.IntNumberTerm(3)}
	var pool vcachePool
	for seed := range uint64(200) {
		rng := rand.New(rand.NewPCG(seed, 7))
		mine, theirs := pool.get(), topdown.NewVirtualCache()
		depth := 0
		for step := range 200 {
			ref := refs[rng.IntN(len(refs))]
			switch op := rng.IntN(10); {
			case op == 0:
				mine.Push()
				theirs.Push()
				depth++
			case op == 1 && depth > 0:
				mine.Pop()
				theirs.Pop()
				depth--
			case op < 5:
				v := values[rng.IntN(len(values))]
				buf := slices.Clone(ref)
				mine.Put(buf, v)
				theirs.Put(slices.Clone(ref), v)
				for i := range buf {
					buf[i] = ast.StringTerm("overwritten")
				}
			default:
				gotV, gotU := mine.Get(ref)
				wantV, wantU := theirs.Get(ref)
				require.Equal(t, wantU, gotU, "seed %d step %d: Get(%v) undefined", seed, step, ref)
				require.Equal(t, wantV, gotV, "seed %d step %d: Get(%v)", seed, step, ref)
			}
			assert.ElementsMatch(t, refStrings(theirs.Keys()), refStrings(mine.Keys()), "seed %d step %d: Keys", seed, step)
		}
		pool.put(mine)
	}
}

// TestVcachePoolStartsEmpty: a cache taken from the pool again holds nothing of its last use.
func TestVcachePoolStartsEmpty(t *testing.T) {
	var pool vcachePool
	ref := ast.MustParseRef("data.ova.rules.no_sops.violation")
	c := pool.get()
	c.Put(ref, ast.StringTerm("x"))
	c.Push()
	c.Put(ref, nil)
	pool.put(c)
	c = pool.get()
	v, undefined := c.Get(ref)
	assert.Nil(t, v)
	assert.False(t, undefined)
	assert.Empty(t, c.Keys())
	assert.Len(t, c.frames, 1)
}

func refStrings(refs []ast.Ref) []string {
	out := make([]string, len(refs))
	for i, r := range refs {
		out[i] = r.String()
	}
	return out
}

// TestDataCacheIsTheStore: every base document the data cache answers is what reading the
// store gives, for paths that exist (objects, arrays, scalars) and paths that do not.
func TestDataCacheIsTheStore(t *testing.T) {
	ctx := context.Background()
	store := inmem.NewFromObjectWithOpts(map[string]any{"ova": map[string]any{
		"params": map[string]any{"sync_interval": map[string]any{"kinds": map[string]any{"GitRepository": "1m"}}, "hosts": []any{"a", "b"}, "n": 3},
		"apis":   map[string]any{"flux": map[string]any{"2.4": map[string]any{"source.toolkit.fluxcd.io/GitRepository": map[string]any{"storage": "v1"}}}},
	}}, inmem.OptReturnASTValuesOnRead(true))
	c, err := readData(store)
	require.NoError(t, err)
	for _, text := range []string{
		"data", "data.ova", "data.ova.params", "data.ova.params.sync_interval.kinds.GitRepository",
		"data.ova.params.hosts", "data.ova.params.hosts[1]", "data.ova.params.hosts[2]", "data.ova.params.n",
		`data.ova.apis.flux["2.4"]["source.toolkit.fluxcd.io/GitRepository"].storage`,
		"data.ova.params.missing", "data.ova.params.n.x", "data.other", `data.ova.apis.flux["2.5"]`,
	} {
		ref := ast.MustParseRef(text)
		got := c.Get(ref)
		path, err := storage.NewPathForRef(ref)
		require.NoError(t, err)
		txn, err := store.NewTransaction(ctx)
		require.NoError(t, err)
		want, err := store.Read(ctx, txn, path)
		store.Abort(ctx, txn)
		if storage.IsNotFound(err) {
			assert.Nil(t, got, text)
			continue
		}
		require.NoError(t, err, text)
		require.NotNil(t, got, text)
		assert.Equal(t, 0, want.(ast.Value).Compare(got), "%s: %v, the store reads %v", text, got, want)
	}
}
