package engine

import (
	"fmt"
	"sort"
	"strings"

	"github.com/open-policy-agent/opa/v1/ast"

	"github.com/openova-io/ova-lint/linter/config"
)

// Scopes of a rule.
const (
	// ScopeObject rules need one object.
	ScopeObject = "object"
	// ScopeRepo rules need facts from the whole tree.
	ScopeRepo = "repo"
)

// Places a rule runs.
const (
	RunsCLI       = "cli"
	RunsAdmission = "admission"
)

// Rule is one entry of the catalogue, read from a rule package's # METADATA.
type Rule struct {
	ID          string   `json:"id"`
	Title       string   `json:"title"`
	Description string   `json:"description"`
	Severity    string   `json:"severity"`
	Scope       string   `json:"scope"`
	Runs        []string `json:"runs"`
	// Kinds are the object kinds the rule looks at (custom.kinds; "" stands for documents
	// without a kind, such as Chart.yaml); absent means every document, an empty list none
	// (findings produced in Go, repo-pass or loader-diagnostic rules). The engine evaluates a
	// rule only for objects of its kinds; the Rego still checks the kind.
	Kinds []string `json:"kinds,omitempty"`
	// Producers are the producers (input.origin.producer: file, admission, kustomize, helm) of
	// the documents the rule looks at (custom.producers); absent means every producer. The
	// engine evaluates the rule only for documents of these producers; the Rego still checks.
	Producers []string `json:"producers,omitempty"`
	Sources   []Source `json:"sources"`
	// Params are the parameters the rule reads (custom.params): the dotted path under params:
	// ("gitea.url_pattern") to its JSON schema ({type: string, format: regex}). The
	// configuration is validated against them when it loads (config.Catalogue).
	Params map[string]any `json:"params,omitempty"`
	// Fix describes the mechanical fix of the rule (custom.fix), which its violations carry as
	// an edit and `ova-lint lint --fix` applies; empty when the rule has none.
	Fix      string `json:"fix,omitempty"`
	Disabled bool   `json:"disabled,omitempty"`
	// Package is the last segment of the rule's package path (data.ova.rules.<Package>).
	Package string `json:"package"`
}

// Source is the source of truth a rule enforces.
type Source struct {
	Ref         string `json:"ref"`
	Description string `json:"description"`
}

// RunsAt reports whether the rule runs in the given place (RunsCLI or RunsAdmission).
func (r *Rule) RunsAt(place string) bool {
	for _, p := range r.Runs {
		if p == place {
			return true
		}
	}
	return false
}

// SourceText names the rule's source of truth for messages.
func (r *Rule) SourceText() string {
	var parts []string
	for _, s := range r.Sources {
		if s.Description != "" {
			parts = append(parts, s.Description)
		} else {
			parts = append(parts, s.Ref)
		}
	}
	return strings.Join(parts, "; ")
}

func ruleFromAnnotations(pkg string, a *ast.Annotations, params map[string]any) (*Rule, error) {
	r := &Rule{Package: pkg, Title: a.Title, Description: strings.TrimSpace(a.Description)}
	get := func(key string) string {
		s, _ := a.Custom[key].(string)
		return s
	}
	r.ID, r.Severity, r.Scope, r.Fix = get("id"), get("severity"), get("scope"), strings.TrimSpace(get("fix"))
	if r.ID == "" {
		return nil, fmt.Errorf("custom.id is required")
	}
	switch r.Severity {
	case config.SeverityError, config.SeverityWarning, config.SeverityInfo:
	default:
		return nil, fmt.Errorf("custom.severity %q is not one of error, warning, info", r.Severity)
	}
	switch r.Scope {
	case ScopeObject, ScopeRepo:
	default:
		return nil, fmt.Errorf("custom.scope %q is not one of object, repo", r.Scope)
	}
	if runs, ok := a.Custom["runs"].([]any); ok {
		for _, x := range runs {
			if s, ok := x.(string); ok {
				r.Runs = append(r.Runs, s)
			}
		}
	}
	if kinds, ok := a.Custom["kinds"].([]any); ok {
		// present but empty: the rule never looks at single objects (its findings come from Go
		// or the repo pass); absent: every document.
		r.Kinds = []string{}
		for _, x := range kinds {
			s, ok := x.(string)
			if !ok {
				return nil, fmt.Errorf("custom.kinds must list kind names (\"\" for documents without a kind)")
			}
			r.Kinds = append(r.Kinds, s)
		}
	}
	if prods, ok := a.Custom["producers"].([]any); ok {
		r.Producers = []string{}
		for _, x := range prods {
			s, ok := x.(string)
			if !ok || s == "" {
				return nil, fmt.Errorf("custom.producers must list producer names (file, admission, kustomize, helm)")
			}
			r.Producers = append(r.Producers, s)
		}
	} else if _, ok := a.Custom["producers"]; ok {
		return nil, fmt.Errorf("custom.producers must be a list of producer names")
	}
	if p, ok := a.Custom["params"]; ok {
		m, ok := p.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("custom.params must map dotted parameter paths to schemas, such as gitea.url_pattern: {type: string, format: regex}")
		}
		r.Params = m
	}
	if name, ok := a.Custom["kinds_param"].(string); ok {
		// the kinds are the keys of a parameter object (e.g. secrets.pod_spec_paths), so
		// configuration that adds a kind also makes the engine evaluate the rule for it
		m, err := paramObject(params, name)
		if err != nil {
			return nil, fmt.Errorf("custom.kinds_param: %w", err)
		}
		r.Kinds = append([]string{}, r.Kinds...)
		for k := range m {
			r.Kinds = append(r.Kinds, k)
		}
		sort.Strings(r.Kinds)
	}
	if len(r.Runs) == 0 {
		r.Runs = []string{RunsCLI}
	}
	if r.Title == "" {
		return nil, fmt.Errorf("title is required")
	}
	for _, rr := range a.RelatedResources {
		r.Sources = append(r.Sources, Source{Ref: rr.Ref.String(), Description: rr.Description})
	}
	if len(r.Sources) == 0 {
		return nil, fmt.Errorf("related_resources (the rule's source of truth) is required")
	}
	return r, nil
}

// paramObject returns the object at the dotted path of params.
func paramObject(params map[string]any, dotted string) (map[string]any, error) {
	var cur any = params
	for _, key := range strings.Split(dotted, ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("parameter %s is not an object", dotted)
		}
		cur = m[key]
	}
	m, ok := cur.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("parameter %s is not an object", dotted)
	}
	return m, nil
}
