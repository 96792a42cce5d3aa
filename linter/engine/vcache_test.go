package engine

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/open-policy-agent/opa/v1/ast"
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
