package engine

import (
	"slices"
	"sync"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/topdown"
)

// vcache is topdown.VirtualCache as a flat list indexed by each reference's hash, reused from
// one evaluation to the next.
//
// OPA's own cache is a trie with a hash map per level of a reference: caching
// data.ova.rules.no_sops.violation made five maps and five nodes, which were a third of the
// allocations of a ConfigMap's evaluation. Here a reference's terms are copied into one slice,
// its entry appended to another, and a map from the reference's hash to its newest entry (each
// entry links to the previous one of the same hash) finds it; kept from one evaluation to the
// next, none of it allocates once grown. (A list searched without the index was cheaper still
// for a dozen entries, but the repo pass caches thousands of function calls with object
// arguments: searching them one by one took half the run.)
//
// A reference is copied in when it is put (the evaluator reuses the slices it passes), and the
// value kept as given. Behaviour is topdown's: a frame per Push, Get and Put see only the
// newest frame, putting nil marks the reference undefined (and a value put later does not
// clear the mark), and Keys lists the references with a value.
type vcache struct {
	terms   []*ast.Term // the references' terms, back to back
	entries []vcacheEntry
	frames  []vcacheFrame
	newest  map[int]int // a reference's hash: its newest entry
}

type vcacheEntry struct {
	start, end int // the reference: terms[start:end]
	hash       int
	prev       int // the previous entry of the same hash, or -1
	value      *ast.Term
	undefined  bool
}

// vcacheFrame is where a frame starts in entries and terms.
type vcacheFrame struct{ entries, terms int }

var _ topdown.VirtualCache = (*vcache)(nil)

// vcachePool keeps vcaches between evaluations.
type vcachePool struct{ pool sync.Pool }

// get returns an empty cache with one frame.
func (p *vcachePool) get() *vcache {
	c, _ := p.pool.Get().(*vcache)
	if c == nil {
		c = &vcache{newest: map[int]int{}}
	}
	c.Push()
	return c
}

// put empties c (it keeps no term or value alive) and keeps it for the next evaluation.
func (p *vcachePool) put(c *vcache) {
	clear(c.terms)
	clear(c.entries)
	clear(c.newest)
	c.terms, c.entries, c.frames = c.terms[:0], c.entries[:0], c.frames[:0]
	p.pool.Put(c)
}

// Push starts a frame.
func (c *vcache) Push() {
	c.frames = append(c.frames, vcacheFrame{entries: len(c.entries), terms: len(c.terms)})
}

// Pop drops the newest frame and what it holds.
func (c *vcache) Pop() {
	if len(c.frames) == 0 {
		return
	}
	f := c.frames[len(c.frames)-1]
	c.frames = c.frames[:len(c.frames)-1]
	for i := len(c.entries) - 1; i >= f.entries; i-- { // newest first: each was its hash's newest
		if e := &c.entries[i]; e.prev >= 0 {
			c.newest[e.hash] = e.prev
		} else {
			delete(c.newest, e.hash)
		}
	}
	clear(c.terms[f.terms:])
	clear(c.entries[f.entries:])
	c.terms, c.entries = c.terms[:f.terms], c.entries[:f.entries]
}

// find returns the index of ref in the newest frame, or -1, and ref's hash.
func (c *vcache) find(ref ast.Ref) (int, int) {
	h := ref.Hash()
	if len(c.frames) == 0 {
		return -1, h
	}
	first := c.frames[len(c.frames)-1].entries
	i, ok := c.newest[h]
	if !ok {
		return -1, h
	}
	for ; i >= first; i = c.entries[i].prev {
		e := &c.entries[i]
		if e.end-e.start == len(ref) && equalTerms(c.terms[e.start:e.end], ref) {
			return i, h
		}
	}
	return -1, h
}

// equalTerms compares two references of one length, last terms first (they differ first).
func equalTerms(a []*ast.Term, b ast.Ref) bool {
	for j := len(a) - 1; j >= 0; j-- {
		if a[j] != b[j] && !a[j].Equal(b[j]) {
			return false
		}
	}
	return true
}

// Get returns what was put under ref: (value, false), (nil, true) when it is undefined, and
// (nil, false) when nothing was.
func (c *vcache) Get(ref ast.Ref) (*ast.Term, bool) {
	i, _ := c.find(ref)
	if i < 0 {
		return nil, false
	}
	if e := &c.entries[i]; e.undefined {
		return nil, true
	} else {
		return e.value, false
	}
}

// Put keeps value under ref; a nil value marks ref undefined.
func (c *vcache) Put(ref ast.Ref, value *ast.Term) {
	if len(c.frames) == 0 {
		c.Push()
	}
	i, h := c.find(ref)
	if i < 0 {
		prev, ok := c.newest[h]
		if !ok {
			prev = -1
		}
		start := len(c.terms)
		c.terms = append(c.terms, ref...)
		c.entries = append(c.entries, vcacheEntry{start: start, end: len(c.terms), hash: h, prev: prev})
		i = len(c.entries) - 1
		c.newest[h] = i
	}
	if value != nil {
		c.entries[i].value = value
	} else {
		c.entries[i].undefined = true
	}
}

// Keys lists the references of the newest frame that have a value.
func (c *vcache) Keys() []ast.Ref {
	if len(c.frames) == 0 {
		return nil
	}
	var out []ast.Ref
	for _, e := range c.entries[c.frames[len(c.frames)-1].entries:] {
		if e.value != nil {
			out = append(out, slices.Clone(ast.Ref(c.terms[e.start:e.end])))
		}
	}
	return out
}

// dataCache is topdown.BaseCache over the engine's data (data.ova.params and data.ova.apis),
// read from the store once when the rules compile. The store is never written after, so every
// base document an evaluation reads is already here: OPA's own cache, a trie built afresh for
// each evaluation, filled itself by reading the store (a path, a pointer walk and a node per
// reference level), ~90 allocations per evaluation of a Flux object. Get answers from the value
// read; Put keeps nothing, since what it would keep is read from that same value.
type dataCache struct{ data ast.Value }

var _ topdown.BaseCache = dataCache{}

// Get returns the base document at ref (data and the path under it), or nil.
func (c dataCache) Get(ref ast.Ref) ast.Value {
	if len(ref) == 0 || c.data == nil {
		return nil
	}
	v, err := c.data.Find(ref[1:])
	if err != nil {
		return nil
	}
	return v
}

// Put keeps nothing: Get answers from the data as read.
func (dataCache) Put(ast.Ref, ast.Value) {}
