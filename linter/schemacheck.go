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
	"github.com/openova-io/ova-lint/linter/loader"
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

	// reparse parses file f again and returns the document at position doc of loader.Parse's
	// (for a cached deferral a CRD of the tree gave a schema).
	reparse func(f loader.File, doc int) (*yaml.Node, any, error)

	mu       sync.Mutex
	crds     []map[string]any
	deferred []deferredDoc
	// held are the files of crds: their results depend on the whole tree.
	held map[string]bool
}

type deferredDoc struct {
	file string
	// node and obj are the document and the object; both nil for a deferral a cached result
	// gave (src names the file to parse again, should a CRD of the tree give it a schema).
	node *yaml.Node
	obj  map[string]any
	src  loader.File
	noSchemaDoc
}

// noSchemaDoc is an object (a document, or an item of a List) whose apiVersion and kind the
// catalog has no schema for: finish reports it, unless a CRD of the tree gives it one. A file's
// cached result keeps these, so that the file is not linted again only to say so.
type noSchemaDoc struct {
	doc              int   // the document's position in what loader.Parse returns for its file
	path             []any // the object in the document: none, or ["items", i]
	apiVersion, kind string
	// idKind, ns and name are the object's identity in the finding.
	idKind, ns, name string
	// line and column locate the finding: the object's apiVersion.
	line, column int
	// message is the catalog's NoSchemaError: what finish says when the tree has no CRD.
	message string
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
	out, _ := s.checkDoc(file, base, node, obj, kind, ns, name)
	return out
}

// checkDoc is check that also returns the objects it deferred for want of a schema (their doc
// left for the caller to set).
func (s *schemaCheck) checkDoc(file, base string, node *yaml.Node, obj any, kind, ns, name string) ([]finding.Finding, []noSchemaDoc) {
	m, ok := obj.(map[string]any)
	if !ok {
		return nil, nil
	}
	apiVersion, _ := m["apiVersion"].(string)
	k, _ := m["kind"].(string)
	switch {
	case base == "Chart.yaml":
		return s.findings(file, node, nil, kind, ns, name, s.validator.ValidateChart, m), nil
	case isKustomizeConfig(base, apiVersion):
		return s.findings(file, node, nil, kind, ns, name, s.validator.ValidateKustomization, m), nil
	case apiVersion == "" && k == "":
		return nil, nil // not a Kubernetes object (Helm values, tool configuration)
	case k == "List":
		var out []finding.Finding
		var deferred []noSchemaDoc
		items, _ := m["items"].([]any)
		for i, item := range items {
			if im, ok := item.(map[string]any); ok {
				ik, ins, iname := input.Identity(im)
				fs, d := s.object(file, node, []any{"items", i}, im, ik, ins, iname)
				out = append(out, fs...)
				deferred = append(deferred, d...)
			}
		}
		return out, deferred
	}
	m = withoutSOPS(m)
	if k == "CustomResourceDefinition" && strings.HasPrefix(apiVersion, "apiextensions.k8s.io/") {
		s.mu.Lock()
		s.crds = append(s.crds, m)
		s.hold(file)
		s.mu.Unlock()
	}
	return s.object(file, node, nil, m, kind, ns, name)
}

func (s *schemaCheck) object(file string, node *yaml.Node, prefix []any, m map[string]any, kind, ns, name string) ([]finding.Finding, []noSchemaDoc) {
	errs, err := s.validator.Validate(m)
	if errors.Is(err, schema.ErrNoSchema) {
		d := noSchemaDoc{path: prefix, idKind: kind, ns: ns, name: name, message: err.Error()}
		d.apiVersion, _ = m["apiVersion"].(string)
		d.kind, _ = m["kind"].(string)
		d.line, d.column = loader.Position(node, apiVersionPath(prefix)) // as place finds it
		if d.column == 0 {
			d.column = 1
		}
		s.mu.Lock()
		s.deferred = append(s.deferred, deferredDoc{file: file, node: node, obj: m, noSchemaDoc: d})
		s.mu.Unlock()
		return nil, []noSchemaDoc{d}
	}
	return s.toFindings(file, node, prefix, kind, ns, name, errs, err, s.noteFor(m)), nil
}

// apiVersionPath is the path of the apiVersion of the object at prefix.
func apiVersionPath(prefix []any) []any {
	return append(append([]any{}, prefix...), "apiVersion")
}

// deferCached defers the objects of file f that its cached result says have no schema in the
// catalog. A nil check does nothing.
func (s *schemaCheck) deferCached(f loader.File, docs []docResult) {
	if s == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, d := range docs {
		for _, n := range d.noSchema {
			s.deferred = append(s.deferred, deferredDoc{file: f.Display, src: f, noSchemaDoc: n})
		}
	}
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
// reported with the configured severity. Without CRDs in the tree nothing can have gained a
// schema: each deferred object is reported with the catalog's own verdict, and the catalog is
// not read for it.
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
		if len(s.crds) == 0 {
			out = append(out, s.noSchema(d, d.message))
			continue
		}
		obj := d.obj
		if obj == nil { // a cached deferral: its type tells whether a CRD gave it a schema
			obj = map[string]any{"apiVersion": d.apiVersion, "kind": d.kind}
		}
		errs, err := s.validator.Validate(obj)
		if errors.Is(err, schema.ErrNoSchema) {
			out = append(out, s.noSchema(d, err.Error()))
			continue
		}
		if d.obj == nil && err == nil { // it has one now: the whole object is validated
			if d.node, d.obj, err = s.parseAgain(d); err == nil {
				errs, err = s.validator.Validate(d.obj)
			}
		}
		out = append(out, s.toFindings(d.file, d.node, d.path, d.idKind, d.ns, d.name, errs, err, s.noteFor(obj))...)
	}
	return out
}

// noSchema is the finding of a deferred object that no schema was found for: msg says why.
func (s *schemaCheck) noSchema(d deferredDoc, msg string) finding.Finding {
	v := engine.Violation{Rule: s.rule, Path: apiVersionPath(d.path),
		Message: msg + ": the document was not validated",
		Fix:     "add the kind's CustomResourceDefinition to the linted tree, or lower schema.no_schema_severity"}
	f := newFinding(v, d.file, d.line, d.column, d.idKind, d.ns, d.name)
	f.Severity = s.noSchemaAs
	return f
}

// parseAgain recovers the document and the object of a cached deferral from its file.
func (s *schemaCheck) parseAgain(d deferredDoc) (*yaml.Node, map[string]any, error) {
	if s.reparse == nil {
		return nil, nil, fmt.Errorf("%s: cannot parse the document again", d.file)
	}
	node, doc, err := s.reparse(d.src, d.doc)
	if err != nil {
		return nil, nil, err
	}
	m, _ := doc.(map[string]any)
	if len(d.path) == 2 { // ["items", i]: an item of a List
		items, _ := m["items"].([]any)
		if i, ok := d.path[1].(int); ok && i < len(items) {
			m, _ = items[i].(map[string]any)
		} else {
			m = nil
		}
	} else {
		m = withoutSOPS(m)
	}
	if m == nil {
		return nil, nil, fmt.Errorf("%s changed since it was linted", d.file)
	}
	return node, m, nil
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

// withoutSOPS is a document without SOPS's own metadata block: the no-sops rule reports it, the
// schema does not know it.
func withoutSOPS(m map[string]any) map[string]any {
	if _, ok := m["sops"]; !ok {
		return m
	}
	out := make(map[string]any, len(m))
	for k, v := range m {
		if k != "sops" {
			out[k] = v
		}
	}
	return out
}
