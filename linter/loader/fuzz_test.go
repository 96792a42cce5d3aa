package loader

import (
	"encoding/json"
	"math"
	"strconv"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

// The fuzz targets run their seed corpora (testdata/fuzz/FuzzXxx) with every go test; fuzz
// them with e.g. go test ./linter/loader -run '^$' -fuzz '^FuzzParse$' -fuzztime 30s.

// fuzzLimits are small, so the fuzzer reaches every limit with short inputs.
var fuzzLimits = Limits{MaxFileBytes: 64 << 10, MaxDocuments: 8, MaxDepth: 24, MaxNodes: 5000}

// slow is how long one small input may take before it counts as a hang.
const slow = 5 * time.Second

// FuzzParse: Parse never panics or hangs; every document has a node and an object that JSON can
// encode (the engine's input) within the limits; every error has a position.
func FuzzParse(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, limits := range []Limits{fuzzLimits, DefaultLimits()} {
			start := time.Now()
			docs, err := Parse(data, limits)
			if d := time.Since(start); d > slow {
				t.Fatalf("Parse took %v on %d bytes", d, len(data))
			}
			checkDocuments(t, docs, err, limits)
		}
		if line := nodeEstimateExceeded(data, len(data)+1); line != 0 {
			t.Fatalf("the node estimate passes one per byte (+1) at line %d: Parse may not skip it for short files", line)
		}
	})
}

func checkDocuments(t *testing.T, docs []Document, err *SyntaxError, limits Limits) {
	t.Helper()
	if err != nil {
		if err.Line < 1 || err.Column < 1 || err.Message == "" {
			t.Fatalf("syntax error without a position or message: %+v", err)
		}
	}
	last, nodes, documents := -1, 0, 0
	for _, d := range docs {
		if d.Node == nil || d.Object == nil {
			t.Fatalf("document %d: node %v, object %v", d.Index, d.Node, d.Object)
		}
		// the items of a List share their List's index
		if d.Index < last {
			t.Fatalf("document index %d after %d", d.Index, last)
		}
		if d.Index != last {
			documents++
		}
		last = d.Index
		if _, jerr := json.Marshal(d.Object); jerr != nil {
			t.Fatalf("document %d: the engine cannot take the object: %v", d.Index, jerr)
		}
		depth, n := shape(d.Object)
		nodes += n
		if limits.MaxDepth > 0 && depth > limits.MaxDepth+1 {
			t.Fatalf("document %d: depth %d over the limit of %d", d.Index, depth, limits.MaxDepth)
		}
		if l, c := Position(d.Node, nil); l < 1 || c < 1 {
			t.Fatalf("document %d: root at %d:%d", d.Index, l, c)
		}
		for _, dk := range d.DuplicateKeys {
			if dk.Line < 1 || dk.Column < 1 || dk.FirstLine < 1 || dk.FirstLine > dk.Line {
				t.Fatalf("document %d: duplicate key without a position: %+v", d.Index, dk)
			}
		}
	}
	if limits.MaxDocuments > 0 && documents > limits.MaxDocuments {
		t.Fatalf("%d documents, over the limit of %d", documents, limits.MaxDocuments)
	}
	if limits.MaxNodes > 0 && nodes > limits.MaxNodes {
		t.Fatalf("%d nodes, over the limit of %d", nodes, limits.MaxNodes)
	}
}

// shape returns the nesting depth and the number of values and keys of a decoded value.
func shape(v any) (depth, nodes int) {
	switch x := v.(type) {
	case map[string]any:
		for _, e := range x {
			d, n := shape(e)
			depth, nodes = max(depth, d), nodes+n+1
		}
		return depth + 1, nodes + 1
	case []any:
		for _, e := range x {
			d, n := shape(e)
			depth, nodes = max(depth, d), nodes+n
		}
		return depth + 1, nodes + 1
	}
	return 0, 1
}

// FuzzPosition: Position never panics and always returns a position (line and column >= 1) for
// any path: arbitrary JSON elements from spec, and a path that walks the document's own tree
// (chosen by the bytes of spec, with every index type the engine may hand over), which must
// land exactly on the key or item it names.
func FuzzPosition(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte, spec string) {
		docs, _ := Parse(data, fuzzLimits)
		if l, c := Position(nil, arbitraryPath(spec)); l != 1 || c != 1 {
			t.Fatalf("nil root: %d:%d", l, c)
		}
		for _, d := range docs {
			for _, path := range [][]any{arbitraryPath(spec), numbersAsFloats(arbitraryPath(spec))} {
				if l, c := Position(d.Node, path); l < 1 || c < 1 {
					t.Fatalf("Position(%v) = %d:%d", path, l, c)
				}
			}
			path, wantLine, wantCol := walk(d.Node, []byte(spec))
			if l, c := Position(d.Node, path); l != wantLine || c != wantCol {
				t.Fatalf("Position(%#v) = %d:%d, want %d:%d", path, l, c, wantLine, wantCol)
			}
		}
	})
}

// arbitraryPath reads spec as a JSON array, else as dot-separated keys.
func arbitraryPath(spec string) []any {
	dec := json.NewDecoder(strings.NewReader(spec))
	dec.UseNumber()
	var path []any
	if err := dec.Decode(&path); err == nil {
		return path
	}
	var out []any
	for _, s := range strings.Split(spec, ".") {
		out = append(out, s)
	}
	return out
}

func numbersAsFloats(path []any) []any {
	out := make([]any, len(path))
	for i, e := range path {
		out[i] = e
		if n, ok := e.(json.Number); ok {
			if f, err := n.Float64(); err == nil {
				out[i] = f
			}
		}
	}
	return out
}

// walk follows the tree from root, taking child choice[i] at step i, and returns the path it
// took with the position Position must give for it: the last key of that name in a mapping (the
// one the decoded value keeps), the item in a sequence.
func walk(root *yaml.Node, choice []byte) (path []any, line, col int) {
	n := root
	line, col = n.Line, n.Column
	for _, b := range choice {
		for n.Kind == yaml.AliasNode && n.Alias != nil {
			n = n.Alias
		}
		switch n.Kind {
		case yaml.MappingNode:
			pairs := len(n.Content) / 2
			if pairs == 0 {
				return path, line, col
			}
			m := n
			key := keyString(m.Content[2*(int(b)%pairs)])
			for i := 0; i+1 < len(m.Content); i += 2 {
				if keyString(m.Content[i]) == key {
					line, col = m.Content[i].Line, m.Content[i].Column
					n = m.Content[i+1]
				}
			}
			path = append(path, key)
		case yaml.SequenceNode:
			if len(n.Content) == 0 {
				return path, line, col
			}
			i := int(b) % len(n.Content)
			n = n.Content[i]
			line, col = n.Line, n.Column
			path = append(path, indexAs(i, b))
		default:
			return path, line, col
		}
	}
	return path, line, col
}

// indexAs spells index i as one of the types a Rego path may carry.
func indexAs(i int, b byte) any {
	switch b % 5 {
	case 0:
		return i
	case 1:
		return int64(i)
	case 2:
		return float64(i)
	case 3:
		return json.Number(strconv.Itoa(i))
	}
	return strconv.Itoa(i)
}

// TestPosition pins the mapping from paths to positions.
func TestPosition(t *testing.T) {
	src := `apiVersion: v1
kind: ConfigMap
metadata:
  name: a
  labels: &l
    app: x
data:
  list:
    - one
    - two: 2
  alias: *l
  dup: 1
  dup: 2
`
	docs, err := Parse([]byte(src), DefaultLimits())
	if err != nil {
		t.Fatal(err)
	}
	root := docs[0].Node
	tests := []struct {
		name      string
		path      []any
		line, col int
	}{
		{"root", nil, 1, 1},
		{"key", []any{"kind"}, 2, 1},
		{"nested key", []any{"metadata", "name"}, 4, 3},
		{"missing field: deepest parent", []any{"metadata", "namespace"}, 3, 1},
		{"missing below a scalar", []any{"kind", "x", "y"}, 2, 1},
		{"sequence item, int", []any{"data", "list", 1}, 10, 7},
		{"sequence item, int64", []any{"data", "list", int64(0)}, 9, 7},
		{"sequence item, float64", []any{"data", "list", float64(1), "two"}, 10, 7},
		{"sequence item, json.Number", []any{"data", "list", json.Number("1")}, 10, 7},
		{"sequence item, numeric string", []any{"data", "list", "0"}, 9, 7},
		{"fractional index", []any{"data", "list", 0.5}, 8, 3},
		{"index out of range", []any{"data", "list", 2}, 8, 3},
		{"negative index", []any{"data", "list", -1}, 8, 3},
		{"huge int64 index", []any{"data", "list", int64(math.MaxInt64)}, 8, 3},
		{"NaN index", []any{"data", "list", math.NaN()}, 8, 3},
		{"infinite index", []any{"data", "list", math.Inf(1)}, 8, 3},
		{"key of another type", []any{"data", 3}, 7, 1},
		{"through an alias", []any{"data", "alias", "app"}, 6, 5},
		{"duplicate key: the last one", []any{"data", "dup"}, 13, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, c := Position(root, tt.path)
			if l != tt.line || c != tt.col {
				t.Errorf("Position(%v) = %d:%d, want %d:%d", tt.path, l, c, tt.line, tt.col)
			}
		})
	}
	if l, c := Position(nil, []any{"a"}); l != 1 || c != 1 {
		t.Errorf("nil root: %d:%d", l, c)
	}
}
