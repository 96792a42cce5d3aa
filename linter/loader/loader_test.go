package loader_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/openova-io/ova-lint/linter/loader"
)

func TestParsePositions(t *testing.T) {
	src := []byte(`# comment
apiVersion: v1
kind: Pod
metadata:
  name: p
spec:
  containers:
    - name: a
      env:
        - name: X
          value: "1"
    - name: b
`)
	docs, serr := loader.Parse(src, loader.DefaultLimits())
	require.Nil(t, serr)
	require.Len(t, docs, 1)
	tests := []struct {
		name      string
		path      []any
		line, col int
	}{
		{"root", nil, 2, 1},
		{"top-level key", []any{"kind"}, 3, 1},
		{"nested key", []any{"metadata", "name"}, 5, 3},
		{"sequence item", []any{"spec", "containers", 1}, 12, 7},
		{"json number index", []any{"spec", "containers", 0.0, "env", 0.0, "value"}, 11, 11},
		{"string index", []any{"spec", "containers", "0", "name"}, 8, 7},
		{"missing field points at its parent", []any{"spec", "nope"}, 6, 1},
		{"index out of range", []any{"spec", "containers", 5}, 7, 3},
		{"key into a scalar", []any{"kind", "x"}, 3, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			line, col := loader.Position(docs[0].Node, tt.path)
			assert.Equal(t, [2]int{tt.line, tt.col}, [2]int{line, col})
		})
	}
}

func TestParseValues(t *testing.T) {
	docs, serr := loader.Parse([]byte("a: 1\nb: 1.5\nc: true\nd: null\ne: \"01\"\nf: 2024-01-01\ng: 0x1F\nbase: &b {x: 1}\nmerged:\n  <<: *b\n  y: 2\n"), loader.DefaultLimits())
	require.Nil(t, serr)
	require.Len(t, docs, 1)
	m := docs[0].Object.(map[string]any)
	assert.Equal(t, int64(1), m["a"])
	assert.Equal(t, 1.5, m["b"])
	assert.Equal(t, true, m["c"])
	assert.Nil(t, m["d"])
	assert.Equal(t, "01", m["e"])
	assert.Equal(t, "2024-01-01", m["f"], "timestamps stay text, as Kubernetes reads them")
	assert.Equal(t, int64(31), m["g"])
	assert.Equal(t, map[string]any{"x": int64(1), "y": int64(2)}, m["merged"])
}

func TestParseMultiDocumentAndErrors(t *testing.T) {
	tests := []struct {
		name    string
		src     string
		docs    int
		errLine int
		indexes []int
	}{
		{"three documents, empty ones skipped", "a: 1\n---\n---\n# only a comment\n---\nb: 2\n", 2, 0, []int{0, 3}},
		{"error in the second document keeps the first", "a: 1\n---\nb: [1, 2\nc: 3\n", 1, 3, []int{0}},
		{"missing key reports the mapping start", "a:\n  b: 1\n  - c\n", 0, 2, nil},
		{"bad indentation", "a:\n  b: 1\n   c: 2\n", 0, 3, nil},
		{"tab indentation", "a:\n\tb: 1\n", 0, 2, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			docs, serr := loader.Parse([]byte(tt.src), loader.DefaultLimits())
			require.Len(t, docs, tt.docs)
			var idx []int
			for _, d := range docs {
				idx = append(idx, d.Index)
			}
			assert.Equal(t, tt.indexes, idx)
			if tt.errLine == 0 {
				assert.Nil(t, serr)
				return
			}
			require.NotNil(t, serr)
			assert.Equal(t, tt.errLine, serr.Line, serr.Message)
			assert.Positive(t, serr.Column)
		})
	}
}

func TestDuplicateKeys(t *testing.T) {
	docs, serr := loader.Parse([]byte("a: 1\nm:\n  x: 1\n  y: 2\n  x: 3\na: 2\n"), loader.DefaultLimits())
	require.Nil(t, serr)
	require.Len(t, docs, 1)
	assert.Equal(t, []loader.DuplicateKey{
		{Key: "x", Line: 5, Column: 3, FirstLine: 3},
		{Key: "a", Line: 6, Column: 1, FirstLine: 1},
	}, docs[0].DuplicateKeys)
	assert.Equal(t, int64(3), docs[0].Object.(map[string]any)["m"].(map[string]any)["x"], "the last value wins, as in the decoded object")
}

func TestWalk(t *testing.T) {
	t.Chdir("testdata/tree")
	res, err := loader.Walk(context.Background(), []string{"."}, []string{"vendor/**"})
	require.NoError(t, err)
	var got []string
	for _, f := range res.Files {
		got = append(got, f.Display)
	}
	assert.Equal(t, []string{
		"clusters/a/cm.yaml",
		"clusters/a/other.yml",
		"platform/app/chart/Chart.yaml",
		"platform/app/chart/values.yaml",
	}, got, "templates, vendored charts, node_modules, excluded globs and non-YAML files are not linted")
	assert.Equal(t, 2, res.Skipped, "the chart's two template files are counted as skipped")

	res, err = loader.Walk(context.Background(), []string{"clusters/a/cm.yaml", "clusters/a/cm.yaml"}, nil)
	require.NoError(t, err)
	require.Len(t, res.Files, 1, "a file named twice is linted once")
	assert.Equal(t, "cm.yaml", res.Files[0].Rel)

	_, err = loader.Walk(context.Background(), []string{"missing"}, nil)
	assert.Error(t, err)
}

func TestParseListItems(t *testing.T) {
	src := []byte(`apiVersion: v1
kind: ConfigMap
metadata: {name: before}
---
apiVersion: v1
kind: List
metadata:
  resourceVersion: ""
  resourceVersion: "1"
items:
  - apiVersion: v1
    kind: Secret
    metadata:
      name: a
    stringData:
      k: v
      k: w
  - {apiVersion: v1, kind: ConfigMap, metadata: {name: b}}
---
apiVersion: v1
kind: SecretList
items:
  - apiVersion: v1
    kind: Secret
    metadata: {name: c}
`)
	docs, serr := loader.Parse(src, loader.DefaultLimits())
	require.Nil(t, serr)
	require.Len(t, docs, 4)
	var names []string
	var indexes []int
	for _, d := range docs {
		md := d.Object.(map[string]any)["metadata"].(map[string]any)
		names = append(names, md["name"].(string))
		indexes = append(indexes, d.Index)
	}
	assert.Equal(t, []string{"before", "a", "b", "c"}, names)
	assert.Equal(t, []int{0, 1, 1, 2}, indexes, "the items keep their List's index")

	// positions point into the file
	line, col := loader.Position(docs[1].Node, []any{"stringData", "k"})
	assert.Equal(t, [2]int{17, 7}, [2]int{line, col})
	line, col = loader.Position(docs[2].Node, []any{"metadata", "name"})
	assert.Equal(t, [2]int{18, 50}, [2]int{line, col})
	line, col = loader.Position(docs[3].Node, nil)
	assert.Equal(t, [2]int{23, 5}, [2]int{line, col})

	// a duplicate key goes to the item it is in; one in the List's own fields to the first item
	assert.ElementsMatch(t, []loader.DuplicateKey{
		{Key: "resourceVersion", Line: 9, Column: 3, FirstLine: 8},
		{Key: "k", Line: 17, Column: 7, FirstLine: 16},
	}, docs[1].DuplicateKeys)
	assert.Empty(t, docs[2].DuplicateKeys)
}

func TestParseListsThatStayWhole(t *testing.T) {
	for name, src := range map[string]string{
		"no items":            "apiVersion: v1\nkind: List\nitems: []\n",
		"an item not a map":   "apiVersion: v1\nkind: List\nitems: [{kind: Secret}, 2]\n",
		"kind not a List":     "apiVersion: v1\nkind: Listing\nitems: [{kind: Secret}]\n",
		"items not a list":    "apiVersion: v1\nkind: List\nitems: {a: {kind: Secret}}\n",
		"items only by merge": "base: &b {items: [{kind: Secret}]}\nkind: List\n<<: *b\n",
	} {
		t.Run(name, func(t *testing.T) {
			docs, serr := loader.Parse([]byte(src), loader.DefaultLimits())
			require.Nil(t, serr)
			require.Len(t, docs, 1)
			assert.Equal(t, "List", docs[0].Object.(map[string]any)["kind"].(string)[:4])
		})
	}
}

func TestParseListItemsCountAsOneDocument(t *testing.T) {
	limits := loader.DefaultLimits()
	limits.MaxDocuments = 1
	docs, serr := loader.Parse([]byte("kind: List\nitems: [{a: 1}, {b: 2}, {c: 3}]\n"), limits)
	require.Nil(t, serr)
	assert.Len(t, docs, 3)
}
