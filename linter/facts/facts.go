// Package facts keeps the repo-scope facts of a lint compactly and builds the repo pass's input
// from them.
//
// Every object of a tree leaves a few facts for the repo-scope rules (a chart's name and
// version, a source reference, a Gitea host), kept until all files are linted. As Go maps a
// located fact takes ~1.5 KB and as OPA terms ~3 KB; at 50,000 documents (~80,000 facts) the two
// together held the live heap at the memory limit and the garbage collector took a third of the
// run. A Fact is the located fact encoded once, in the result cache's codec (~300 bytes), which
// the cache stores as it is; Input decodes the encodings straight into OPA terms, sharing one
// term per distinct string.
package facts

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/open-policy-agent/opa/v1/ast"

	"github.com/openova-io/ova-lint/linter/cache"
)

// Fact is one located fact: the rule package that collected it and its encoding.
type Fact struct {
	// Pkg is the rule package (input.repo.by_pkg's key).
	Pkg string
	// Enc is the fact (a map, "pkg" and "at" included) as cache.Writer.Value writes it.
	Enc []byte
}

// Encode encodes a located fact, a map of plain Go values with its "pkg".
func Encode(m map[string]any) (Fact, error) {
	var w cache.Writer
	w.Value(m)
	b, err := w.Bytes()
	if err != nil {
		return Fact{}, fmt.Errorf("repo fact: %w", err)
	}
	pkg, _ := m["pkg"].(string)
	// a copy of exact size: the writer's buffer grew by doubling, and facts live to the end
	return Fact{Pkg: pkg, Enc: bytes.Clone(b)}, nil
}

// Decode returns the fact as plain Go values.
func (f Fact) Decode() (map[string]any, error) {
	r := cache.NewReader(f.Enc)
	m, ok := r.Value().(map[string]any)
	if err := r.Done(); err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("repo fact: not an object")
	}
	return m, nil
}

// Check says whether enc is one whole encoded object (a cached fact is checked before it is
// trusted).
func Check(enc []byte) error {
	if !cache.IsMap(enc) {
		return fmt.Errorf("repo fact: not an object")
	}
	r := cache.NewReader(enc)
	r.Skip()
	if err := r.Done(); err != nil {
		return fmt.Errorf("repo fact: %w", err)
	}
	return nil
}

// Digest hashes the facts in order: equal digests mean the repo pass sees the same input.
func Digest(h *cache.Hasher, fs []Fact) *cache.Hasher {
	for _, f := range fs {
		h.Bytes(f.Enc)
	}
	return h
}

// Input builds the input of the repo pass: input.repo.facts (every fact, in order),
// input.repo.by_pkg (the same terms grouped by the rule package that collected them, read
// through data.ova.lib.repo.facts) and input.repo.complete (whether the whole tree was linted;
// false for a partial, changed-files run).
func Input(fs []Fact, complete bool) (ast.Value, error) {
	b := newBuilder()
	all := make([]*ast.Term, len(fs))
	groups := map[string][]*ast.Term{}
	var order []string
	for i, f := range fs {
		r := cache.NewReader(f.Enc)
		t := cache.Build(r, b.terms)
		if err := r.Done(); err != nil {
			return nil, fmt.Errorf("repo fact %d: %w", i, err)
		}
		if _, ok := t.Value.(ast.Object); !ok {
			return nil, fmt.Errorf("repo fact %d: not an object", i)
		}
		all[i] = t
		if _, seen := groups[f.Pkg]; !seen {
			order = append(order, f.Pkg)
		}
		groups[f.Pkg] = append(groups[f.Pkg], t)
	}
	byPkg := ast.NewObject()
	for _, pkg := range order {
		byPkg.Insert(ast.StringTerm(pkg), ast.ArrayTerm(groups[pkg]...))
	}
	repo := ast.NewObject(
		ast.Item(ast.StringTerm("facts"), ast.ArrayTerm(all...)),
		ast.Item(ast.StringTerm("by_pkg"), ast.NewTerm(byPkg)),
		ast.Item(ast.StringTerm("complete"), ast.BooleanTerm(complete)),
	)
	return ast.NewObject(ast.Item(ast.StringTerm("repo"), ast.NewTerm(repo))), nil
}

// builder decodes facts into OPA terms. Strings (keys and values: kinds, files, rule packages)
// repeat across facts, so each distinct string is one shared term; evaluation never changes
// an input term.
type builder struct {
	strings map[string]*ast.Term
	terms   *cache.Builder[*ast.Term]
}

func newBuilder() *builder {
	b := &builder{strings: map[string]*ast.Term{}}
	b.terms = &cache.Builder[*ast.Term]{
		Nil:    ast.NullTerm,
		Bool:   ast.BooleanTerm,
		Int:    ast.IntNumberTerm,
		Int64:  func(n int64) *ast.Term { return ast.NumberTerm(json.Number(strconv.FormatInt(n, 10))) },
		Float:  ast.FloatNumberTerm,
		String: b.str,
		Number: func(s string) *ast.Term { return ast.NumberTerm(json.Number(s)) },
		List:   func(ts []*ast.Term) *ast.Term { return ast.ArrayTerm(ts...) },
		Map: func(keys [][]byte, values []*ast.Term) *ast.Term {
			items := make([][2]*ast.Term, len(keys))
			for i, k := range keys {
				items[i] = [2]*ast.Term{b.str(k), values[i]}
			}
			return ast.ObjectTerm(items...)
		},
	}
	return b
}

// str returns the shared term of the string s.
func (b *builder) str(s []byte) *ast.Term {
	if t, ok := b.strings[string(s)]; ok {
		return t
	}
	t := ast.StringTerm(string(s))
	b.strings[string(s)] = t
	return t
}

// EncodeLocated encodes a fact as a rule made it, with the rule package that collected it
// under "pkg" and its location under "at" (both replacing keys of those names): byte for byte
// what Encode makes of that map, without converting the fact to Go values first.
func EncodeLocated(pkg string, fact ast.Object, at map[string]any) (Fact, error) {
	if keys, ok := cache.StringKeys(fact); ok {
		type entry struct {
			name string
			key  *ast.Term // nil for "pkg" and "at"
		}
		entries := make([]entry, 0, len(keys)+2)
		for _, k := range keys {
			if n := string(k.Value.(ast.String)); n != "pkg" && n != "at" {
				entries = append(entries, entry{n, k})
			}
		}
		entries = append(entries, entry{"pkg", nil}, entry{"at", nil})
		slices.SortFunc(entries, func(a, b entry) int { return strings.Compare(a.name, b.name) })
		var w cache.Writer
		w.MapHeader(len(entries))
		written := true
		for _, e := range entries {
			w.String(e.name)
			switch {
			case e.key != nil:
				written = w.Term(fact.Get(e.key).Value)
			case e.name == "pkg":
				w.Value(pkg)
			default:
				w.Value(at)
			}
			if !written {
				break
			}
		}
		if b, err := w.Bytes(); written && err == nil {
			return Fact{Pkg: pkg, Enc: bytes.Clone(b)}, nil
		}
	}
	// a fact with what the writer does not take (a key that is not a string): through Go values
	v, err := ast.JSONWithOpt(fact, ast.JSONOpt{})
	if err != nil {
		return Fact{}, fmt.Errorf("repo fact: %w", err)
	}
	m, ok := v.(map[string]any)
	if !ok {
		return Fact{}, fmt.Errorf("repo fact: not an object")
	}
	m["pkg"], m["at"] = pkg, at
	return Encode(m)
}
