package fix

import (
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// omap is the keys an insertion creates, in the order the edits name them.
type omap struct {
	keys []string
	vals map[string]any // *omap for a mapping the insertion creates, else the edit's value
}

// set places value at path, creating the mappings on the way.
func (m *omap) set(path []string, value any) {
	if m.vals == nil {
		m.vals = map[string]any{}
	}
	k := path[0]
	if _, ok := m.vals[k]; !ok {
		m.keys = append(m.keys, k)
	}
	if len(path) == 1 {
		m.vals[k] = value
		return
	}
	sub, ok := m.vals[k].(*omap)
	if !ok {
		sub = &omap{}
		m.vals[k] = sub
	}
	sub.set(path[1:], value)
}

// block writes the keys as block YAML lines at indent, nested by step.
func (m *omap) block(b *strings.Builder, indent, step, nl string) {
	for _, k := range m.keys {
		writeBlock(b, k, m.vals[k], indent, step, nl)
	}
}

func writeBlock(b *strings.Builder, key string, v any, indent, step, nl string) {
	b.WriteString(indent + keyText(key) + ":")
	switch x := v.(type) {
	case *omap:
		b.WriteString(nl)
		x.block(b, indent+step, step, nl)
	case map[string]any:
		if len(x) == 0 {
			b.WriteString(" {}" + nl)
			return
		}
		b.WriteString(nl)
		for _, k := range sortedKeys(x) {
			writeBlock(b, k, x[k], indent+step, step, nl)
		}
	case []any:
		if len(x) == 0 {
			b.WriteString(" []" + nl)
			return
		}
		b.WriteString(nl)
		for _, item := range x {
			text, err := marshal(item)
			if err != nil {
				text = "null"
			}
			lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
			for i, line := range lines {
				lead := indent + step + "  "
				if i == 0 {
					lead = indent + step + "- "
				}
				b.WriteString(lead + line + nl)
			}
		}
	default:
		text, err := scalar(v, 0, false)
		if err != nil {
			text = "null"
		}
		b.WriteString(" " + text + nl)
	}
}

// flow writes the keys as the entries of a flow mapping.
func (m *omap) flow() string {
	parts := make([]string, 0, len(m.keys))
	for _, k := range m.keys {
		parts = append(parts, keyText(k)+": "+flowValue(m.vals[k]))
	}
	return strings.Join(parts, ", ")
}

func flowValue(v any) string {
	switch x := v.(type) {
	case *omap:
		return "{" + x.flow() + "}"
	case map[string]any:
		parts := make([]string, 0, len(x))
		for _, k := range sortedKeys(x) {
			parts = append(parts, keyText(k)+": "+flowValue(x[k]))
		}
		return "{" + strings.Join(parts, ", ") + "}"
	case []any:
		parts := make([]string, 0, len(x))
		for _, e := range x {
			parts = append(parts, flowValue(e))
		}
		return "[" + strings.Join(parts, ", ") + "]"
	}
	text, err := scalar(v, 0, true)
	if err != nil {
		return "null"
	}
	return text
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func keyText(k string) string {
	text, err := scalar(k, 0, true)
	if err != nil {
		return strconv.Quote(k)
	}
	return text
}

func marshal(v any) (string, error) {
	out, err := yaml.Marshal(v)
	return string(out), err
}

// scalar renders a scalar value in style (the style of the scalar it replaces): a string keeps
// double or single quotes, or stays plain when YAML reads it back as the same string; other
// values are plain.
func scalar(v any, style yaml.Style, flow bool) (string, error) {
	switch x := v.(type) {
	case nil:
		return "null", nil
	case bool:
		return strconv.FormatBool(x), nil
	case int:
		return strconv.Itoa(x), nil
	case int64:
		return strconv.FormatInt(x, 10), nil
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64), nil
	case json.Number:
		return x.String(), nil
	case string:
		switch {
		case style&yaml.DoubleQuotedStyle != 0:
			return doubleQuoted(x), nil
		case style&yaml.SingleQuotedStyle != 0 && !strings.ContainsAny(x, "\n\r\t"):
			return "'" + strings.ReplaceAll(x, "'", "''") + "'", nil
		case plainSafe(x, flow):
			return x, nil
		}
		return doubleQuoted(x), nil
	}
	return "", fmt.Errorf("cannot write a %T as a scalar", v)
}

// doubleQuoted writes s as a YAML double-quoted scalar (Go's escapes are YAML's).
func doubleQuoted(s string) string { return strconv.Quote(s) }

// plainSafe reports whether s can be written plain and read back as the same string.
func plainSafe(s string, flow bool) bool {
	if s == "" || (flow && strings.ContainsAny(s, ",[]{}")) {
		return false
	}
	out, err := yaml.Marshal(s)
	if err != nil || strings.TrimSuffix(string(out), "\n") != s {
		return false
	}
	var back any
	return yaml.Unmarshal([]byte(s), &back) == nil && back == s
}

// canon gives decoded YAML and edit values one representation (JSON's).
func canon(x any) any {
	raw, err := json.Marshal(x)
	if err != nil {
		return x
	}
	var out any
	if json.Unmarshal(raw, &out) != nil {
		return x
	}
	return out
}

// applyValue returns obj (canonical) with the op's edit made.
func applyValue(obj any, o op) any {
	if o.kind == opNone {
		return obj
	}
	return setPath(obj, o.path, canon(o.value), o.kind == opRemove)
}

func setPath(obj any, path []any, value any, remove bool) any {
	if len(path) == 0 {
		return value
	}
	switch c := obj.(type) {
	case map[string]any:
		k, _ := path[0].(string)
		out := make(map[string]any, len(c)+1)
		for kk, vv := range c {
			out[kk] = vv
		}
		if len(path) == 1 && remove {
			delete(out, k)
			return out
		}
		out[k] = setPath(c[k], path[1:], value, remove)
		return out
	case []any:
		i, _ := path[0].(int)
		out := append([]any{}, c...)
		if i >= 0 && i < len(out) {
			out[i] = setPath(c[i], path[1:], value, remove)
		}
		return out
	default:
		if remove {
			return obj
		}
		k, ok := path[0].(string)
		if !ok {
			return obj
		}
		return map[string]any{k: setPath(nil, path[1:], value, remove)}
	}
}

// showPath writes a field path as spec.ref.branch or items[0].name.
func showPath(path []any) string {
	var b strings.Builder
	for _, p := range path {
		switch x := p.(type) {
		case int:
			fmt.Fprintf(&b, "[%d]", x)
		default:
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			fmt.Fprint(&b, x)
		}
	}
	return b.String()
}
