package linter

import (
	"errors"
	"fmt"
	"strings"
	"sync"

	"gopkg.in/yaml.v3"

	"github.com/openova-io/ova-lint/linter/engine"
	"github.com/openova-io/ova-lint/linter/finding"
	"github.com/openova-io/ova-lint/linter/input"
	"github.com/openova-io/ova-lint/linter/schema"
)

// schemaRuleID is the catalogue id of schema validation.
const schemaRuleID = "schema"

// schemaCheck validates documents against the offline schema catalogue. Documents whose kind
// has no schema are held until every CustomResourceDefinition of the tree has been added, then
// validated again; only then is "no schema" reported.
type schemaCheck struct {
	validator  *schema.Validator
	rule       *engine.Rule
	noSchemaAs string
	// fluxNote ends the fix of an error in a Flux object (which Flux line, and why).
	fluxNote string

	mu       sync.Mutex
	crds     []map[string]any
	deferred []deferredDoc
	// held are the files of crds and deferred: their results depend on the whole tree.
	held map[string]bool
}

type deferredDoc struct {
	file             string
	node             *yaml.Node
	obj              map[string]any
	path             []any
	kind, ns, name   string
	base, apiVersion string
}

func newSchemaCheck(v *schema.Validator, e *engine.Engine, params map[string]any) *schemaCheck {
	rule := e.Rule(schemaRuleID)
	if v == nil || rule == nil || rule.Disabled {
		return nil
	}
	sev := "info"
	if p, ok := params["schema"].(map[string]any); ok {
		if s, ok := p["no_schema_severity"].(string); ok && s != "" {
			sev = s
		}
	}
	return &schemaCheck{validator: v, rule: rule, noSchemaAs: sev}
}

// check validates one document and returns its findings. A CRD is remembered for the second
// pass; a document without a schema is deferred to it.
func (s *schemaCheck) check(file, base string, node *yaml.Node, obj any, kind, ns, name string) []finding.Finding {
	m, ok := obj.(map[string]any)
	if !ok {
		return nil
	}
	apiVersion, _ := m["apiVersion"].(string)
	k, _ := m["kind"].(string)
	switch {
	case base == "Chart.yaml":
		return s.findings(file, node, nil, kind, ns, name, s.validator.ValidateChart, m)
	case isKustomizeConfig(base, apiVersion):
		return s.findings(file, node, nil, kind, ns, name, s.validator.ValidateKustomization, m)
	case apiVersion == "" && k == "":
		return nil // not a Kubernetes object (Helm values, tool configuration)
	case k == "List":
		var out []finding.Finding
		items, _ := m["items"].([]any)
		for i, item := range items {
			if im, ok := item.(map[string]any); ok {
				ik, ins, iname := input.Identity(im)
				out = append(out, s.object(file, node, []any{"items", i}, im, ik, ins, iname)...)
			}
		}
		return out
	}
	if _, ok := m["sops"]; ok {
		// SOPS's own metadata block: the no-sops rule reports it, the schema does not know it.
		m = withoutKey(m, "sops")
	}
	if k == "CustomResourceDefinition" && strings.HasPrefix(apiVersion, "apiextensions.k8s.io/") {
		s.mu.Lock()
		s.crds = append(s.crds, m)
		s.hold(file)
		s.mu.Unlock()
	}
	return s.object(file, node, nil, m, kind, ns, name)
}

func (s *schemaCheck) object(file string, node *yaml.Node, prefix []any, m map[string]any, kind, ns, name string) []finding.Finding {
	errs, err := s.validator.Validate(m)
	if errors.Is(err, schema.ErrNoSchema) {
		s.mu.Lock()
		s.deferred = append(s.deferred, deferredDoc{file: file, node: node, obj: m, path: prefix, kind: kind, ns: ns, name: name})
		s.hold(file)
		s.mu.Unlock()
		return nil
	}
	return s.toFindings(file, node, prefix, kind, ns, name, errs, err, s.noteFor(m))
}

// hold marks file as held (s.mu is held).
func (s *schemaCheck) hold(file string) {
	if s.held == nil {
		s.held = map[string]bool{}
	}
	s.held[file] = true
}

// holds reports whether a document of file waits for the tree's CRDs or is one: its result is
// not the file's alone.
func (s *schemaCheck) holds(file string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.held[file]
}

// noteFor is fluxNote for a Flux object, "" for any other.
func (s *schemaCheck) noteFor(m map[string]any) string {
	apiVersion, _ := m["apiVersion"].(string)
	if !strings.Contains(apiVersion, ".toolkit.fluxcd.io/") {
		return ""
	}
	return s.fluxNote
}

func (s *schemaCheck) findings(file string, node *yaml.Node, prefix []any, kind, ns, name string, validate func(map[string]any) ([]schema.Error, error), m map[string]any) []finding.Finding {
	errs, err := validate(m)
	return s.toFindings(file, node, prefix, kind, ns, name, errs, err, "")
}

func (s *schemaCheck) toFindings(file string, node *yaml.Node, prefix []any, kind, ns, name string, errs []schema.Error, err error, fluxNote string) []finding.Finding {
	if err != nil {
		v := engine.Violation{Rule: s.rule, Path: prefix, Message: fmt.Sprintf("schema validation failed: %v", err), Fix: "report this to the ova-lint maintainers"}
		return []finding.Finding{place(v, file, node, kind, ns, name)}
	}
	out := make([]finding.Finding, 0, len(errs))
	for _, e := range errs {
		path := append(append([]any{}, prefix...), stringsToAny(e.Path)...)
		v := engine.Violation{
			Rule: s.rule, Path: path,
			Message: fmt.Sprintf("%s: %s (Kubernetes %s, Flux %s schemas)", fieldName(e.Path), e.Message, s.validator.KubernetesVersion(), s.validator.FluxVersion()),
			Fix:     fixFor(e),
		}
		if e.Keyword == "additionalProperties" || e.Keyword == "enum" {
			v.Fix += fluxNote // a field or value a newer Flux may know
		}
		out = append(out, place(v, file, node, kind, ns, name))
	}
	return out
}

// finish adds the tree's CRDs and validates the deferred documents; what still has no schema is
// reported with the configured severity.
func (s *schemaCheck) finish() []finding.Finding {
	var out []finding.Finding
	for _, crd := range s.crds {
		if err := s.validator.AddCRD(crd); err != nil {
			_, _, name := input.Identity(crd)
			out = append(out, finding.Finding{Rule: s.rule.ID, Severity: "warning", File: "", Line: 1, Column: 1, Kind: "CustomResourceDefinition", Name: name,
				Message: finding.Compose("CustomResourceDefinition could not be converted to a schema: "+err.Error(), "check its spec.versions[].schema.openAPIV3Schema", s.rule.SourceText())})
		}
	}
	for _, d := range s.deferred {
		errs, err := s.validator.Validate(d.obj)
		if errors.Is(err, schema.ErrNoSchema) {
			v := engine.Violation{Rule: s.rule, Path: append(append([]any{}, d.path...), "apiVersion"),
				Message: err.Error() + ": the document was not validated",
				Fix:     "add the kind's CustomResourceDefinition to the linted tree, or lower schema.no_schema_severity"}
			f := place(v, d.file, d.node, d.kind, d.ns, d.name)
			f.Severity = s.noSchemaAs
			out = append(out, f)
			continue
		}
		out = append(out, s.toFindings(d.file, d.node, d.path, d.kind, d.ns, d.name, errs, err, s.noteFor(d.obj))...)
	}
	return out
}

func isKustomizeConfig(base, apiVersion string) bool {
	switch base {
	case "kustomization.yaml", "kustomization.yml", "Kustomization":
		return apiVersion == "" || strings.HasPrefix(apiVersion, "kustomize.config.k8s.io/")
	}
	return false
}

func stringsToAny(p []string) []any {
	out := make([]any, len(p))
	for i, s := range p {
		out[i] = s
	}
	return out
}

func fieldName(p []string) string {
	if len(p) == 0 {
		return "document"
	}
	return strings.Join(p, ".")
}

func fixFor(e schema.Error) string {
	switch e.Keyword {
	case "additionalProperties":
		return "remove the field or fix its name (strict validation: unknown fields are errors); check the API version you target"
	case "required":
		return "add the required field"
	case "type":
		return "give the field a value of the expected type (quote numbers meant as strings)"
	}
	return "make the field conform to its schema"
}

func withoutKey(m map[string]any, key string) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		if k != key {
			out[k] = v
		}
	}
	return out
}
