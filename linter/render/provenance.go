package render

import (
	"encoding/base64"
	"fmt"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
	"helm.sh/helm/v3/pkg/chart"
)

// minTemplateLiteral is the shortest value searched for in template text;
// shorter ones would match by accident.
const minTemplateLiteral = 4

// provenance traces Secret values back to Git.
type provenance struct {
	layers []ValuesLayer
	src    *sources
	// parsed values.yaml nodes, filled lazily (per render, not shared).
	valuesNodes []*yaml.Node
	parsed      bool
}

// secret returns, for a v1 Secret, where each of its data/stringData values
// is written in Git. produced is the template file that rendered it (may be nil).
func (p *provenance) secret(obj map[string]any, produced *chart.File) map[string]Position {
	out := map[string]Position{}
	if sd, ok := obj["stringData"].(map[string]any); ok {
		for _, k := range sortedKeys(sd) {
			s, ok := sd[k].(string)
			if !ok || s == "" {
				continue
			}
			if pos, ok := p.find(s, "", produced); ok {
				out["stringData."+k] = pos
			}
		}
	}
	if d, ok := obj["data"].(map[string]any); ok {
		for _, k := range sortedKeys(d) {
			raw, ok := d[k].(string)
			if !ok || raw == "" {
				continue
			}
			v := raw
			alt := ""
			if b, err := base64.StdEncoding.DecodeString(raw); err == nil {
				v = string(b)
				alt = raw
			}
			if v == "" {
				continue
			}
			if pos, ok := p.find(v, alt, produced); ok {
				out["data."+k] = pos
			}
		}
	}
	return out
}

// find searches v in the values layers (the latest first, as later layers
// win), then the charts' values.yaml files, then template text. alt, when
// set, is the still-encoded form of a data value, also searched in
// template text (a base64 literal written in the template).
func (p *provenance) find(v, alt string, produced *chart.File) (Position, bool) {
	for i := len(p.layers) - 1; i >= 0; i-- {
		l := p.layers[i]
		if l.Node != nil {
			if n := findScalar(l.Node, v); n != nil {
				return Position{File: l.File, Line: n.Line, Column: n.Column, Via: l.Via}, true
			}
			continue
		}
		if containsLeaf(l.Values, v) {
			return Position{File: l.File, Line: 1, Column: 1, Via: l.Via}, true
		}
	}
	p.parseValues()
	for i, vf := range p.src.values {
		if n := p.valuesNodes[i]; n != nil {
			if s := findScalar(n, v); s != nil {
				return Position{File: vf.file, Line: s.Line, Column: s.Column, Via: "values.yaml"}, true
			}
		} else if strings.Contains(string(vf.data), v) {
			return Position{File: vf.file, Line: 1, Column: 1, Via: "values.yaml"}, true
		}
	}
	for _, cand := range []string{v, alt} {
		if len(cand) < minTemplateLiteral {
			continue
		}
		if pos, ok := p.findInTemplates(cand, produced); ok {
			return pos, true
		}
	}
	return Position{}, false
}

// findInTemplates looks for a literal in the producing template first, then
// in the other templates (partials included) of the tree.
func (p *provenance) findInTemplates(v string, produced *chart.File) (Position, bool) {
	if produced != nil {
		if line, col, ok := findLiteral(string(produced.Data), v); ok {
			return Position{File: p.src.file(produced, produced.Name), Line: line, Column: col, Via: "template"}, true
		}
	}
	for _, t := range p.src.templates {
		if t.f == produced {
			continue
		}
		if line, col, ok := findLiteral(string(t.f.Data), v); ok {
			return Position{File: t.file, Line: line, Column: col, Via: "template"}, true
		}
	}
	return Position{}, false
}

func (p *provenance) parseValues() {
	if p.parsed {
		return
	}
	p.parsed = true
	p.valuesNodes = make([]*yaml.Node, len(p.src.values))
	for i, vf := range p.src.values {
		var n yaml.Node
		if yaml.Unmarshal(vf.data, &n) == nil {
			p.valuesNodes[i] = &n
		}
	}
}

// findScalar returns the first scalar value node (not a mapping key) whose
// value is v, in document order.
func findScalar(n *yaml.Node, v string) *yaml.Node {
	if n == nil {
		return nil
	}
	switch n.Kind {
	case yaml.ScalarNode:
		if scalarMatches(n.Value, v) {
			return n
		}
	case yaml.MappingNode:
		for i := 1; i < len(n.Content); i += 2 {
			if r := findScalar(n.Content[i], v); r != nil {
				return r
			}
		}
	case yaml.DocumentNode, yaml.SequenceNode:
		for _, c := range n.Content {
			if r := findScalar(c, v); r != nil {
				return r
			}
		}
	}
	return nil
}

// scalarMatches compares a written scalar with a rendered value; block
// scalars keep a trailing newline that templates often trim.
func scalarMatches(written, v string) bool {
	if written == v {
		return true
	}
	w := strings.TrimRight(written, "\n")
	return w != "" && w == strings.TrimRight(v, "\n")
}

// containsLeaf reports whether a values tree holds v as a leaf.
func containsLeaf(x any, v string) bool {
	switch t := x.(type) {
	case map[string]any:
		for _, e := range t {
			if containsLeaf(e, v) {
				return true
			}
		}
	case []any:
		for _, e := range t {
			if containsLeaf(e, v) {
				return true
			}
		}
	case nil:
		return false
	case string:
		return scalarMatches(t, v)
	default:
		return fmt.Sprint(t) == v
	}
	return false
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// redact removes from an error message the values of the layers that sit
// under secret-looking keys, so that a lint finding never carries them.
func redact(msg string, layers []ValuesLayer) string {
	var secrets []string
	for _, l := range layers {
		collectSecrets(l.Values, false, &secrets)
	}
	// Longest first, so that a value containing another is removed whole.
	sort.Slice(secrets, func(i, j int) bool { return len(secrets[i]) > len(secrets[j]) })
	for _, s := range secrets {
		msg = strings.ReplaceAll(msg, s, "[redacted]")
	}
	return msg
}

func collectSecrets(x any, secretKey bool, out *[]string) {
	switch t := x.(type) {
	case map[string]any:
		for k, e := range t {
			collectSecrets(e, secretKey || looksSecret(k), out)
		}
	case []any:
		for _, e := range t {
			collectSecrets(e, secretKey, out)
		}
	case string:
		if secretKey && len(t) >= minTemplateLiteral {
			*out = append(*out, t)
		}
	}
}

func looksSecret(key string) bool {
	k := strings.ToLower(key)
	for _, w := range []string{"password", "passwd", "secret", "token", "apikey", "api-key", "api_key", "credential", "private", "auth"} {
		if strings.Contains(k, w) {
			return true
		}
	}
	return false
}
