package loader

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestScalars pins how scalars decode: as Kubernetes reads them, and always into a value JSON
// (the engine's input) can carry.
func TestScalars(t *testing.T) {
	tests := []struct {
		src  string
		want any
	}{
		{"1", int64(1)},
		{"0x1F", int64(31)},
		{"0o17", int64(15)},
		{"-0", int64(0)},
		{"1.5", 1.5},
		{"99999999999999999999", 1e20},
		{"18446744073709551615", uint64(18446744073709551615)},
		{"!!int 12", int64(12)},
		{"!!int 1e3", 1000.0},
		{"!!int NaN", "NaN"}, // found by FuzzParse: a NaN reached the engine's input
		{"!!int inf", "inf"},
		{"!!int -Infinity", "-Infinity"},
		{"!!int x", "x"},
		{".inf", ".inf"},
		{"-.Inf", "-.Inf"},
		{".NaN", ".NaN"},
		{"!!float 1e400", "1e400"},
		{"1e400", "1e400"},
		{"true", true},
		{"yes", "yes"}, // YAML 1.2: a string
		{"!!bool yes", true},
		{"~", nil},
		{"!!binary aGVsbG8=", "aGVsbG8="},
		{"2001-12-14", "2001-12-14"},
		{"!custom text", "text"},
	}
	for _, tt := range tests {
		t.Run(tt.src, func(t *testing.T) {
			docs, err := Parse([]byte("v: "+tt.src+"\n"), DefaultLimits())
			require.Nil(t, err)
			require.Len(t, docs, 1)
			got := docs[0].Object.(map[string]any)["v"]
			assert.Equal(t, tt.want, got)
			_, jerr := json.Marshal(docs[0].Object)
			assert.NoError(t, jerr)
		})
	}
}
