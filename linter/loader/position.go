package loader

import (
	"encoding/json"
	"math"
	"strconv"

	"gopkg.in/yaml.v3"
)

// Position returns the 1-based line and column of the node at path below root. Path elements
// are mapping keys (string) or sequence indexes (int, int64, float64 or json.Number). For a
// mapping key the key's own position is returned; when the path leads to a field that does not
// exist, the position of its deepest existing ancestor is returned.
func Position(root *yaml.Node, path []any) (line, column int) {
	if root == nil {
		return 1, 1
	}
	n := root
	line, column = n.Line, n.Column
	for _, elem := range path {
		for n.Kind == yaml.AliasNode && n.Alias != nil {
			n = n.Alias
		}
		switch n.Kind {
		case yaml.MappingNode:
			key, ok := elem.(string)
			if !ok {
				return line, column
			}
			next := (*yaml.Node)(nil)
			for i := 0; i+1 < len(n.Content); i += 2 {
				if keyString(n.Content[i]) == key {
					line, column = n.Content[i].Line, n.Content[i].Column
					next = n.Content[i+1]
					// the last occurrence wins, as in the decoded value
				}
			}
			if next == nil {
				return line, column
			}
			n = next
		case yaml.SequenceNode:
			i, ok := index(elem)
			if !ok || i < 0 || i >= len(n.Content) {
				return line, column
			}
			n = n.Content[i]
			line, column = n.Line, n.Column
		default:
			return line, column
		}
	}
	return line, column
}

// index converts a path element to a sequence index; values that are no int (fractions, out of
// range of int) are not an index.
func index(elem any) (int, bool) {
	switch v := elem.(type) {
	case int:
		return v, true
	case int64:
		return int(v), v >= math.MinInt && v <= math.MaxInt
	case float64:
		if v != math.Trunc(v) || v < math.MinInt || v >= math.MaxInt {
			return 0, false // also NaN and the infinities
		}
		return int(v), true
	case json.Number:
		i, err := strconv.Atoi(string(v))
		return i, err == nil
	case string:
		i, err := strconv.Atoi(v)
		return i, err == nil
	}
	return 0, false
}
