package cache

import (
	"errors"
	"slices"
	"strings"

	"github.com/open-policy-agent/opa/v1/ast"
)

// errStop ends an iteration early.
var errStop = errors.New("stop")

// MapHeader starts a map of n entries, as Value starts one: the caller then writes n keys in
// order (String), each followed by its value.
func (w *Writer) MapHeader(n int) {
	w.buf = append(w.buf, tagMap)
	w.Int(n)
}

// Term writes an OPA value as Value writes what ast.JSON makes of it: numbers as json.Number,
// sets as lists in their order, objects as maps in key order. It reports false, and writes
// nothing, when v holds what that conversion would not give a plain value for the same way (an
// object key that is not a string, a value that needs evaluation).
func (w *Writer) Term(v ast.Value) bool {
	start := len(w.buf)
	if !w.term(v) {
		w.buf = w.buf[:start]
		return false
	}
	return true
}

func (w *Writer) term(v ast.Value) bool {
	switch x := v.(type) {
	case ast.Null:
		w.buf = append(w.buf, tagNil)
	case ast.Boolean:
		if x {
			w.buf = append(w.buf, tagTrue)
		} else {
			w.buf = append(w.buf, tagFalse)
		}
	case ast.Number:
		w.buf = append(w.buf, tagNumber)
		w.String(string(x))
	case ast.String:
		w.buf = append(w.buf, tagString)
		w.String(string(x))
	case *ast.Array:
		w.buf = append(w.buf, tagList)
		w.Int(x.Len())
		for i := range x.Len() {
			if !w.term(x.Elem(i).Value) {
				return false
			}
		}
	case ast.Set:
		w.buf = append(w.buf, tagList)
		w.Int(x.Len())
		ok := true
		_ = x.Iter(func(t *ast.Term) error { // the order ast.JSON lists a set in
			if ok = w.term(t.Value); !ok {
				return errStop
			}
			return nil
		})
		return ok
	case ast.Object:
		keys, ok := StringKeys(x)
		if !ok {
			return false
		}
		w.MapHeader(len(keys))
		for _, k := range keys {
			w.String(string(k.Value.(ast.String)))
			if !w.term(x.Get(k).Value) {
				return false
			}
		}
	default:
		return false
	}
	return true
}

// StringKeys returns the keys of o in the order Value writes a map's (sorted as Go strings);
// false when a key is not a string.
func StringKeys(o ast.Object) ([]*ast.Term, bool) {
	keys := o.Keys() // a copy
	for _, k := range keys {
		if _, ok := k.Value.(ast.String); !ok {
			return nil, false
		}
	}
	slices.SortFunc(keys, func(a, b *ast.Term) int {
		return strings.Compare(string(a.Value.(ast.String)), string(b.Value.(ast.String)))
	})
	return keys, true
}
