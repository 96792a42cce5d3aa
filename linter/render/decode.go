package render

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"

	sigsyaml "sigs.k8s.io/yaml"
)

// docSep is Helm's YAML document separator (releaseutil.SplitManifests).
// A compiled regexp is immutable and safe for concurrent use.
var docSep = regexp.MustCompile("(?:^|\\s*\n)---\\s*")

// decodeManifests splits rendered text into YAML documents as Helm does and
// decodes each non-empty one into a JSON-shaped map. name is the engine's
// name for the file, used in errors as Helm does.
func decodeManifests(text, name string) ([]map[string]any, error) {
	var out []map[string]any
	for _, doc := range docSep.Split(strings.TrimSpace(text), -1) {
		doc = strings.TrimSpace(doc)
		if doc == "" {
			continue
		}
		obj, err := decodeDoc(doc)
		if err != nil {
			return nil, fmt.Errorf("YAML parse error on %s: %w", name, err)
		}
		if obj != nil {
			out = append(out, obj)
		}
	}
	return out, nil
}

// decodeDoc decodes one YAML document; a document holding only comments or
// null yields nil.
func decodeDoc(doc string) (map[string]any, error) {
	j, err := sigsyaml.YAMLToJSON([]byte(doc))
	if err != nil {
		return nil, err
	}
	j = bytes.TrimSpace(j)
	if len(j) == 0 || bytes.Equal(j, []byte("null")) {
		return nil, nil
	}
	dec := json.NewDecoder(bytes.NewReader(j))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	m, ok := normalizeNumbers(v).(map[string]any)
	if !ok {
		return nil, fmt.Errorf("document is a %T, not a mapping", v)
	}
	return m, nil
}

// normalizeNumbers turns json.Number into int64 when integral, else float64.
func normalizeNumbers(v any) any {
	switch t := v.(type) {
	case map[string]any:
		for k, e := range t {
			t[k] = normalizeNumbers(e)
		}
		return t
	case []any:
		for i, e := range t {
			t[i] = normalizeNumbers(e)
		}
		return t
	case json.Number:
		if i, err := t.Int64(); err == nil {
			return i
		}
		if f, err := t.Float64(); err == nil {
			return f
		}
		return t.String()
	}
	return v
}

// placeObjects wraps decoded objects of one template file with their
// position: the line of each object's literal `kind:` in the template text.
func placeObjects(objs []map[string]any, text, file string) []Object {
	out := make([]Object, 0, len(objs))
	seen := map[string]int{}
	for _, o := range objs {
		kind, _ := o["kind"].(string)
		n := seen[kind]
		seen[kind]++
		out = append(out, Object{Object: o, Template: file, Line: kindLine(text, kind, n)})
	}
	return out
}
