package engine

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/open-policy-agent/opa/v1/ast"

	"github.com/openova-io/ova-lint/linter/config"
)

// Catalogue reads the rule ids and parameter declarations (custom.params) of the embedded rules
// and the rules under policyDirs, without compiling them, so that a configuration can be
// checked before an engine is built from it. Conflicting declarations of a parameter are an
// error.
func Catalogue(policyDirs ...string) (*config.Catalogue, error) {
	_, set, err := headerAnnotations(policyDirs)
	if err != nil {
		return nil, err
	}
	defaults, err := config.Default()
	if err != nil {
		return nil, err
	}
	var rules []*Rule
	for _, ref := range set.Flatten() {
		a := ref.Annotations
		if a == nil || a.Scope != "package" {
			continue
		}
		pkg, ok := strings.CutPrefix(ref.Path.String(), rulesPrefix)
		if !ok || strings.Contains(pkg, ".") {
			continue
		}
		r, err := ruleFromAnnotations(pkg, a, defaults.Params)
		if err != nil {
			return nil, fmt.Errorf("rule catalogue: %s (%s): %w", ref.Path, ref.Location, err)
		}
		rules = append(rules, r)
	}
	return catalogueOf(rules)
}

// headerAnnotations parses the headers of the rule files (loadHeaders) and their METADATA.
func headerAnnotations(dirs []string) ([]*ast.Module, *ast.AnnotationSet, error) {
	list, err := loadHeaders(dirs)
	if err != nil {
		return nil, nil, err
	}
	set, aerrs := ast.BuildAnnotationSet(list)
	if len(aerrs) > 0 {
		return nil, nil, fmt.Errorf("rule catalogue: %w", aerrs)
	}
	return list, set, nil
}

// loadHeaders parses, of every rule file LoadModules would read, the part up to its package
// line: the package-scoped # METADATA is all the catalogue needs, and the rule bodies are most
// of the parsing time.
func loadHeaders(dirs []string) ([]*ast.Module, error) {
	var list []*ast.Module
	parse := func(name string, src []byte) error {
		if strings.HasSuffix(name, "_test.rego") {
			return nil
		}
		m, err := ast.ParseModuleWithOpts(name, header(src), ast.ParserOptions{ProcessAnnotation: true, RegoVersion: ast.RegoV1})
		if err != nil {
			return fmt.Errorf("parse policy: %w", err)
		}
		list = append(list, m)
		return nil
	}
	if err := walkPolicies(dirs, parse); err != nil {
		return nil, err
	}
	return list, nil
}

// header returns src up to the end of its first package line (all of src if it has none).
func header(src []byte) string {
	s := string(src)
	for off := 0; off < len(s); {
		end := strings.IndexByte(s[off:], '\n')
		if end < 0 {
			end = len(s) - off
		}
		if strings.HasPrefix(s[off:off+end], "package ") {
			return s[:off+end] + "\n"
		}
		off += end + 1
	}
	return s
}

// catalogueOf declares the rules' ids and parameters, in id order.
func catalogueOf(rules []*Rule) (*config.Catalogue, error) {
	sorted := append([]*Rule(nil), rules...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].ID < sorted[j].ID })
	cat := &config.Catalogue{}
	var errs []error
	for _, r := range sorted {
		if err := cat.Declare(r.ID, r.Params); err != nil {
			errs = append(errs, fmt.Errorf("rule %s: %w", r.ID, err))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("rule catalogue: %w", err)
	}
	return cat, nil
}

// Catalogue returns what the engine's rules say about a configuration (see the function
// Catalogue).
func (e *Engine) Catalogue() (*config.Catalogue, error) { return catalogueOf(e.rules) }
