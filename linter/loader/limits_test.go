package loader

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf16"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// laughs is a "billion laughs" document: each level holds ten aliases of the one before, so
// the last of levels expands to 10^levels scalars.
func laughs(levels int) string {
	var b strings.Builder
	b.WriteString("l0: &l0 [x, x, x, x, x, x, x, x, x, x]\n")
	for i := 1; i < levels; i++ {
		name, ref := "l"+strconv.Itoa(i), "*l"+strconv.Itoa(i-1)
		b.WriteString(name + ": &" + name + " [" + strings.Repeat(ref+", ", 9) + ref + "]\n")
	}
	return b.String()
}

// indented nests mappings by indentation: "a:" on each line, one more space each time.
func indented(levels int) string {
	var b strings.Builder
	for i := 0; i < levels; i++ {
		b.WriteString(strings.Repeat(" ", i) + "a:\n")
	}
	return b.String()
}

// keys is a mapping of n distinct keys.
func keys(n int) string {
	var b strings.Builder
	for i := 0; i < n; i++ {
		b.WriteString("k" + strconv.Itoa(i) + ": v\n")
	}
	return b.String()
}

func utf16LE(s string, bom bool) []byte {
	var out []byte
	if bom {
		out = append(out, 0xFF, 0xFE)
	}
	for _, u := range utf16.Encode([]rune(s)) {
		out = append(out, byte(u), byte(u>>8))
	}
	return out
}

func utf16BE(s string) []byte {
	out := []byte{0xFE, 0xFF}
	for _, u := range utf16.Encode([]rune(s)) {
		out = append(out, byte(u>>8), byte(u))
	}
	return out
}

// TestLimits checks that every limit is enforced with a finding at a position, fast, and that
// what comes before the limit is kept.
func TestLimits(t *testing.T) {
	small := Limits{MaxFileBytes: 4096, MaxDocuments: 3, MaxDepth: 10, MaxNodes: 1000}
	tests := []struct {
		name   string
		data   []byte
		limits Limits
		// wantErr is a substring of the error ("" for no error) found at wantLine:wantCol.
		wantErr           string
		wantLine, wantCol int
		wantDocs          int
	}{
		{name: "size at the limit", data: bytes.Repeat([]byte("#\n"), 2048), limits: small},
		{name: "size over the limit", data: bytes.Repeat([]byte("#\n"), 2049), limits: small,
			wantErr: "larger than the limit of 4096 bytes", wantLine: 1, wantCol: 1},
		{name: "size over the default limit", data: bytes.Repeat([]byte("a: b\n"), 4<<20), limits: DefaultLimits(),
			wantErr: "larger than the limit of 16777216 bytes", wantLine: 1, wantCol: 1},

		{name: "documents at the limit", data: []byte("a: 1\n---\nb: 2\n---\nc: 3\n"), limits: small, wantDocs: 3},
		{name: "documents over the limit", data: []byte("a: 1\n---\nb: 2\n---\nc: 3\n---\nd: 4\n"), limits: small,
			wantErr: "more than 3 documents", wantLine: 7, wantCol: 1, wantDocs: 3},
		{name: "empty documents count", data: []byte("---\n---\n---\n---\nd: 4\n"), limits: small,
			wantErr: "more than 3 documents", wantLine: 5, wantCol: 1},
		{name: "documents over the default limit", data: bytes.Repeat([]byte("---\nk: v\n"), 10001), limits: DefaultLimits(),
			wantErr: "more than 10000 documents", wantLine: 20002, wantCol: 1, wantDocs: 10000},

		{name: "flow nesting at the limit", data: []byte(strings.Repeat("[", 11) + strings.Repeat("]", 11)), limits: small, wantDocs: 1},
		{name: "flow nesting over the limit", data: []byte("k: " + strings.Repeat("[", 11) + strings.Repeat("]", 11)), limits: small,
			wantErr: "nesting deeper than 10 levels", wantLine: 1, wantCol: 14},
		{name: "block nesting over the limit", data: []byte(indented(20)), limits: small,
			wantErr: "nesting deeper than 10 levels", wantLine: 12, wantCol: 12},
		{name: "nesting through aliases", data: []byte("a: &a [[[[[[x]]]]]]\nb: [[[[*a]]]]\n"), limits: small,
			wantErr: "nesting deeper than 10 levels", wantLine: 2, wantCol: 8},
		// yaml.v3 stops these in its scanner (max depth 10000), before its recursive parser.
		{name: "100k-deep flow sequence", data: bytes.Repeat([]byte("["), 100000), limits: DefaultLimits(),
			wantErr: "exceeded max depth of 10000", wantLine: 1, wantCol: 1},
		{name: "100k-deep flow mapping", data: []byte("a: 1\nb: " + strings.Repeat("{a: ", 100000)), limits: DefaultLimits(),
			wantErr: "exceeded max depth of 10000", wantLine: 2, wantCol: 1},
		{name: "100k-deep block sequence", data: []byte(strings.Repeat("- ", 100000) + "x\n"), limits: DefaultLimits(),
			wantErr: "exceeded max depth of 10000", wantLine: 1, wantCol: 1},
		{name: "9999-deep flow sequence", data: []byte(strings.Repeat("[", 9999) + strings.Repeat("]", 9999)), limits: DefaultLimits(),
			wantErr: "nesting deeper than 200 levels", wantLine: 1, wantCol: 202},
		{name: "3000-deep block mapping", data: []byte(indented(3000)), limits: DefaultLimits(),
			wantErr: "nesting deeper than 200 levels", wantLine: 202, wantCol: 202},

		// a mapping of 499 keys: 999 nodes, estimated 998
		{name: "nodes at the limit", data: []byte(keys(499)), limits: small, wantDocs: 1},
		{name: "nodes over the limit, estimated", data: []byte(keys(501)), limits: small,
			wantErr: "more than 1000 YAML nodes by this line (estimated before parsing)", wantLine: 501, wantCol: 1},
		// a list of scalars is estimated at twice its nodes
		{name: "list of scalars over half the limit", data: bytes.Repeat([]byte("- x\n"), 501), limits: small,
			wantErr: "more than 1000 YAML nodes by this line (estimated before parsing)", wantLine: 501, wantCol: 1},
		{name: "nodes over the limit, across documents", data: bytes.Repeat([]byte("---\n[x, x, x, x, x, x, x, x, x]\n"), 101),
			limits: Limits{MaxNodes: 1000}, wantErr: "more than 1000 YAML nodes by this line", wantLine: 202, wantCol: 1},
		{name: "comment lines hold no nodes", data: append(bytes.Repeat([]byte("# a, b, [c]: d\n"), 2000), "k: v\n"...), limits: Limits{MaxNodes: 1000}, wantDocs: 1},
		{name: "billion laughs", data: []byte(laughs(9)), limits: DefaultLimits(),
			wantErr: "alias expansion makes the file larger than the limit of 2000000 YAML nodes", wantLine: 7, wantCol: 10},
		{name: "laughs under the limit", data: []byte(laughs(3)), limits: Limits{MaxNodes: 2000}, wantDocs: 1},
		{name: "laughs in every document", data: bytes.Repeat([]byte("---\n"+laughs(3)), 3), limits: Limits{MaxNodes: 2000},
			wantErr: "alias expansion makes the file larger than the limit of 2000 YAML nodes", wantLine: 8, wantCol: 30, wantDocs: 1},
		// a: 42 nodes; b: 2, then 43 per entry (map, alias, 41 merged): entry 23 passes 1000
		{name: "merge keys expand too", data: []byte("a: &a {" + strings.Repeat("k: v, ", 19) + "x: y}\nb: [" + strings.Repeat("{<<: *a}, ", 30) + "{}]\n"),
			limits: small, wantErr: "alias expansion makes the file larger than the limit of 1000 YAML nodes", wantLine: 2, wantCol: 230},

		// yaml.v3 accepts an alias inside its own anchor into a node tree; expanding it recursed
		// until the stack overflowed (a fatal error, not a panic) when MaxDepth was 0.
		{name: "alias cycle without limits", data: []byte("a: &a [x, *a]\n"), limits: Limits{},
			wantErr: "alias *a is used inside the node it names (a cycle)", wantLine: 1, wantCol: 11},
		{name: "alias cycle", data: []byte("a: &a [x, *a]\n"), limits: DefaultLimits(),
			wantErr: "alias *a is used inside the node it names (a cycle)", wantLine: 1, wantCol: 11},
		{name: "alias cycle through a merge key", data: []byte("a: &a {b: 1, c: {<<: *a}}\n"), limits: Limits{},
			wantErr: "alias *a is used inside the node it names (a cycle)", wantLine: 1, wantCol: 22},
		{name: "an alias used twice is no cycle", data: []byte("a: &a [x]\nb: [*a, *a, [*a]]\n"), limits: Limits{}, wantDocs: 1},

		{name: "NUL byte", data: []byte("a: 1\nb: \x00\n"), limits: small, wantErr: "binary content (NUL byte)", wantLine: 2, wantCol: 4},
		{name: "UTF-16LE with a byte order mark", data: utf16LE("a: 1\nb:\n  c: ü\n", true), limits: small, wantDocs: 1},
		{name: "UTF-16BE with a byte order mark", data: utf16BE("a: 1\nb:\n  c: ü\n"), limits: small, wantDocs: 1},
		{name: "UTF-16 without a byte order mark is binary", data: utf16LE("a: 1\n", false), limits: small,
			wantErr: "binary content (NUL byte)", wantLine: 1, wantCol: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			docs, err := Parse(tt.data, tt.limits)
			assert.Less(t, time.Since(start), 5*time.Second, "a limit must stop the work early")
			if tt.wantErr == "" {
				require.Nil(t, err)
			} else {
				require.NotNil(t, err)
				assert.Contains(t, err.Message, tt.wantErr)
				assert.Equal(t, [2]int{tt.wantLine, tt.wantCol}, [2]int{err.Line, err.Column}, "position of %q", err.Message)
			}
			assert.Len(t, docs, tt.wantDocs)
			for _, d := range docs {
				assert.NotNil(t, d.Node)
				assert.NotNil(t, d.Object)
			}
		})
	}
}

func TestUTF16Positions(t *testing.T) {
	src := "a: 1\nb:\n  c: ü\n"
	want, err := Parse([]byte(src), DefaultLimits())
	require.Nil(t, err)
	for name, data := range map[string][]byte{"LE": utf16LE(src, true), "BE": utf16BE(src)} {
		t.Run(name, func(t *testing.T) {
			assert.False(t, IsBinary(data))
			assert.Equal(t, src, string(UTF8(data)))
			got, err := Parse(data, DefaultLimits())
			require.Nil(t, err)
			require.Len(t, got, 1)
			assert.Equal(t, want[0].Object, got[0].Object)
			path := []any{"b", "c"}
			gl, gc := Position(got[0].Node, path)
			wl, wc := Position(want[0].Node, path)
			assert.Equal(t, [2]int{wl, wc}, [2]int{gl, gc})
		})
	}
}

func TestIsBinary(t *testing.T) {
	tests := []struct {
		name string
		data []byte
		want bool
	}{
		{"empty", nil, false},
		{"yaml", []byte("a: 1\n"), false},
		{"utf-8 with a byte order mark", []byte("\xEF\xBB\xBFa: 1\n"), false},
		{"invalid utf-8 is text (a yaml-syntax finding)", []byte("a: \xff\n"), false},
		{"NUL at the end", []byte("a: 1\n\x00"), true},
		{"gzip", []byte{0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00}, true},
		{"UTF-16LE with a byte order mark", utf16LE("a: 1\n", true), false},
		{"UTF-16LE holding a NUL character", utf16LE("a: \x00\n", true), true},
		{"UTF-16 without a byte order mark", utf16LE("a: 1\n", false), true},
		{"odd-length UTF-16", append(utf16LE("a: 1\n", true), 'x'), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, IsBinary(tt.data))
		})
	}
}

func TestReadFileStopsAfterTheLimit(t *testing.T) {
	path := filepath.Join(t.TempDir(), "big.yaml")
	require.NoError(t, os.WriteFile(path, bytes.Repeat([]byte("a: b\n"), 1000), 0o644))
	data, err := ReadFile(path, Limits{MaxFileBytes: 100})
	require.NoError(t, err)
	assert.Len(t, data, 101, "one byte past the limit tells Parse the file is over it")
	_, synErr := Parse(data, Limits{MaxFileBytes: 100})
	require.NotNil(t, synErr)
	assert.Contains(t, synErr.Message, "larger than the limit of 100 bytes")

	data, err = ReadFile(path, Limits{})
	require.NoError(t, err)
	assert.Len(t, data, 5000, "no limit reads everything")
	data, err = ReadAll(strings.NewReader("a: 1\n"), Limits{MaxDepth: 3})
	require.NoError(t, err)
	assert.Equal(t, "a: 1\n", string(data), "a zero MaxFileBytes is no limit")
	_, err = ReadFile(filepath.Join(t.TempDir(), "missing.yaml"), DefaultLimits())
	require.Error(t, err)
}

// TestNodeEstimate keeps the pre-parse estimate at or above the real count for ordinary YAML,
// so the estimate never refuses a file the converter would accept by much.
func TestNodeEstimate(t *testing.T) {
	tests := []struct {
		name string
		src  string
	}{
		{"block mapping", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  labels:\n    app: x\ndata:\n  k: v\n"},
		{"flow", `{"a": 1, "b": [1, 2, {"c": null}], "d": {}}`},
		{"compact json", `{"a":1,"b":[1,2,{"c":null}],"d":{}}`},
		{"sequence of mappings", "- a: 1\n  b: 2\n- a: 3\n  b: [x, y]\n"},
		{"nested sequences", "- - - x\n  - y\n- z\n"},
		{"explicit keys", "? a\n: b\n? [c]\n: d\n"},
		{"documents", "---\na: 1\n---\n- b\n...\n--- c\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			docs, err := Parse([]byte(tt.src), Limits{})
			require.Nil(t, err)
			c := converter{}
			for _, d := range docs {
				_, cerr := c.value(d.Node, 0)
				require.NoError(t, cerr)
			}
			estimate := 0
			for nodeEstimateExceeded([]byte(tt.src), estimate) > 0 {
				estimate++
			}
			assert.LessOrEqual(t, estimate, len(tt.src)+1, "at most one node per byte (Parse skips the scan below MaxNodes bytes)")
			assert.GreaterOrEqual(t, estimate, c.nodes-len(docs), "the estimate misses at most one node per document")
			assert.LessOrEqual(t, estimate, 2*c.nodes, "the estimate is close to the real count")
		})
	}
}

// TestConverterNodeLimit checks the count during conversion on its own: the estimate before
// parsing stops ordinary files first, aliases reach it (see TestLimits).
func TestConverterNodeLimit(t *testing.T) {
	docs, err := Parse([]byte("a: 1\nb: [2, 3]\nc: 4\n"), Limits{})
	require.Nil(t, err)
	c := converter{limits: Limits{MaxNodes: 6}} // a, 1, b, [, 2, 3 and the mapping: 7
	_, cerr := c.value(docs[0].Node, 0)
	var le *limitError
	require.ErrorAs(t, cerr, &le)
	assert.Equal(t, "not parsed: the file holds more than 6 YAML nodes", le.msg)
	assert.Equal(t, [2]int{2, 8}, [2]int{le.line, le.column}, "at the node over the limit (3)")
}

func TestDuplicateKeys(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want []DuplicateKey
	}{
		{"none", "a: 1\nb: 2\n", nil},
		{"repeated", "a: 1\nb: 2\na: 3\n", []DuplicateKey{{Key: "a", Line: 3, Column: 1, FirstLine: 1}}},
		{"nested", "a:\n  b: 1\n  b: 2\n", []DuplicateKey{{Key: "b", Line: 3, Column: 3, FirstLine: 2}}},
		// a written key overrides what a merge key brought in: no repetition
		{"override after a merge", "base: &b {a: 1}\nx:\n  <<: *b\n  a: 2\n", nil},
		{"override before a merge", "base: &b {a: 1}\nx:\n  a: 2\n  <<: *b\n", nil},
		{"repeated after a merge", "base: &b {a: 1}\nx:\n  <<: *b\n  a: 2\n  a: 3\n", []DuplicateKey{{Key: "a", Line: 5, Column: 3, FirstLine: 4}}},
		{"alias as a key", "k: &k a\nm: {a: 1, *k : 2}\n", []DuplicateKey{{Key: "a", Line: 2, Column: 11, FirstLine: 2}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			docs, err := Parse([]byte(tt.src), DefaultLimits())
			require.Nil(t, err)
			require.Len(t, docs, 1)
			assert.Equal(t, tt.want, docs[0].DuplicateKeys)
		})
	}
	docs, _ := Parse([]byte("base: &b {a: 1, c: 3}\nx:\n  <<: *b\n  a: 2\n"), DefaultLimits())
	assert.Equal(t, map[string]any{"a": int64(2), "c": int64(3)}, docs[0].Object.(map[string]any)["x"], "the written key wins")
}
