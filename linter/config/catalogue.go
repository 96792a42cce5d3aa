package config

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
	"strings"

	jsonschema "github.com/santhosh-tekuri/jsonschema/v6"
)

// Catalogue is what the rule catalogue says about a configuration: the rule ids `rules:` may
// name and the schema of every parameter under `params:`, each declared by the rules that read
// it (custom.params in their # METADATA).
type Catalogue struct {
	// RuleIDs are the ids of the catalogue's rules.
	RuleIDs []string
	// Params maps a dotted parameter path under params: ("gitea.url_pattern") to its JSON
	// schema (draft 2020-12, plus the formats regex, duration, glob, semver and semver-range).
	Params map[string]map[string]any
	// DeclaredBy names, for each parameter path, the rules that declare it.
	DeclaredBy map[string][]string
}

// Declare adds a rule's id and its parameter declarations (dotted path -> schema). A parameter
// may be declared by several rules with the same schema; a different schema, or a parameter
// declared inside another one (gitea and gitea.host), is an error naming both rules.
func (cat *Catalogue) Declare(ruleID string, params map[string]any) error {
	cat.RuleIDs = append(cat.RuleIDs, ruleID)
	if cat.Params == nil {
		cat.Params = map[string]map[string]any{}
		cat.DeclaredBy = map[string][]string{}
	}
	paths := make([]string, 0, len(params))
	for p := range params {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for _, p := range paths {
		s, err := normalizeSchema(params[p])
		if err != nil {
			return fmt.Errorf("custom.params %s: %w", p, err)
		}
		if p == "" || strings.HasPrefix(p, ".") || strings.HasSuffix(p, ".") || strings.Contains(p, "..") {
			return fmt.Errorf("custom.params %q: want a dotted path under params:, such as gitea.url_pattern", p)
		}
		if old, ok := cat.Params[p]; ok {
			if !reflect.DeepEqual(old, s) {
				return fmt.Errorf("custom.params %s: declared as %s by %s and as %s by %s", p, compact(old), strings.Join(cat.DeclaredBy[p], ", "), compact(s), ruleID)
			}
			cat.DeclaredBy[p] = append(cat.DeclaredBy[p], ruleID)
			continue
		}
		for q := range cat.Params {
			if strings.HasPrefix(q, p+".") || strings.HasPrefix(p, q+".") {
				return fmt.Errorf("custom.params %s: %s is declared by %s; declare one parameter or the other, not both", p, q, strings.Join(cat.DeclaredBy[q], ", "))
			}
		}
		cat.Params[p] = s
		cat.DeclaredBy[p] = []string{ruleID}
	}
	return nil
}

// Undeclared returns the dotted paths of the parameters the params map sets that no rule
// declares (the leaves, or the first key below the declared tree).
func (cat *Catalogue) Undeclared(params map[string]any) []string {
	var out []string
	var walk func(prefix string, m map[string]any)
	walk = func(prefix string, m map[string]any) {
		for k, v := range m {
			p := prefix + k
			if _, ok := cat.Params[p]; ok {
				continue
			}
			if cat.isBranch(p) {
				if sub, ok := v.(map[string]any); ok {
					walk(p+".", sub)
					continue
				}
			}
			out = append(out, p)
		}
	}
	walk("", params)
	sort.Strings(out)
	return out
}

// isBranch reports whether some declared parameter lies below the dotted path p.
func (cat *Catalogue) isBranch(p string) bool {
	for q := range cat.Params {
		if strings.HasPrefix(q, p+".") {
			return true
		}
	}
	return false
}

// normalizeSchema turns a schema read from METADATA into JSON values (numbers as json.Number),
// as the schema compiler expects.
func normalizeSchema(x any) (map[string]any, error) {
	if _, ok := x.(map[string]any); !ok {
		return nil, fmt.Errorf("want a schema object such as {type: string, format: regex}, got %T", x)
	}
	raw, err := json.Marshal(x)
	if err != nil {
		return nil, err
	}
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		return nil, err
	}
	return v.(map[string]any), nil
}

func compact(s map[string]any) string {
	raw, _ := json.Marshal(s)
	return string(raw)
}
