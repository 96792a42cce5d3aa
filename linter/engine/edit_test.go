package engine

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestToEdits reads the fix-edit contract: one edit or a list, a value or remove: true, keys and
// indexes in the path; anything malformed makes the whole fix non-mechanical.
func TestToEdits(t *testing.T) {
	tests := []struct {
		name string
		edit string // JSON, as Rego bindings arrive (numbers as json.Number)
		want []Edit
	}{
		{"none", `null`, nil},
		{"one", `{"path": ["spec", "prune"], "value": true}`, []Edit{{Path: []any{"spec", "prune"}, Value: true}}},
		{"list", `[{"path": ["spec", "interval"], "value": "10m"}, {"path": ["spec", "decryption"], "remove": true}]`,
			[]Edit{{Path: []any{"spec", "interval"}, Value: "10m"}, {Path: []any{"spec", "decryption"}, Remove: true}}},
		{"index and number", `{"path": ["spec", "items", 0, "replicas"], "value": 3}`, []Edit{{Path: []any{"spec", "items", 0, "replicas"}, Value: int64(3)}}},
		{"null value", `{"path": ["a"], "value": null}`, []Edit{{Path: []any{"a"}, Value: nil}}},
		{"no value", `{"path": ["a"]}`, nil},
		{"empty path", `{"path": [], "value": 1}`, nil},
		{"bad index", `{"path": ["a", -1], "value": 1}`, nil},
		{"fractional index", `{"path": ["a", 1.5], "value": 1}`, nil},
		{"one bad item spoils the list", `[{"path": ["a"], "value": 1}, "x"]`, nil},
		{"not an object", `"spec.prune"`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dec := json.NewDecoder(strings.NewReader(tt.edit))
			dec.UseNumber()
			var x any
			require.NoError(t, dec.Decode(&x))
			require.Equal(t, tt.want, toEdits(x))
		})
	}
}
