// Package input builds the documents the engine evaluates (input.object, input.source,
// input.origin, ...) and says where an object came from. The CLI, the admission webhook and the
// audit share it; it imports no renderer, so the webhook binary stays small.
package input

import (
	"fmt"
	"strings"

	"github.com/open-policy-agent/opa/v1/ast"

	"github.com/openova-io/ova-lint/linter/config"
	"github.com/openova-io/ova-lint/linter/loader"
)

// Source says where an object came from. The CLI fills File/Path/Root/Index; the admission
// webhook fills Operation/Namespace/User.
type Source struct {
	// File is the path shown in findings; Path is relative to the linted root; Root the root.
	File  string `json:"file,omitempty"`
	Path  string `json:"path,omitempty"`
	Root  string `json:"root,omitempty"`
	Index int    `json:"index"`
	// Base and Dir split Path into the file name and its directory ("" at the root).
	Base string `json:"base,omitempty"`
	Dir  string `json:"dir,omitempty"`
	// Text is the raw text of the file (or of the admitted object), for rules that look for
	// markers before walking a document. It never reaches an output.
	Text string `json:"-"`
	// Admission fields.
	Operation string `json:"operation,omitempty"`
	Namespace string `json:"namespace,omitempty"`
	User      string `json:"user,omitempty"`
	DryRun    bool   `json:"dry_run,omitempty"`
	// Origin is input.origin: which producer made the document and how (graph.Origin as plain
	// values); nil for a file's own document, which the rules see as {"producer": "file"}.
	Origin map[string]any `json:"-"`
}

// FileSource describes document index of the file at rel (relative to root, forward slashes).
func FileSource(display, rel, root string, index int, text string) Source {
	dir, base := "", rel
	if i := strings.LastIndexByte(rel, '/'); i >= 0 {
		dir, base = rel[:i], rel[i+1:]
	}
	return Source{File: display, Path: rel, Root: root, Index: index, Base: base, Dir: dir, Text: text}
}

// term is input.source as an OPA term: index and text always, the other fields when set.
func (s Source) term() *ast.Term {
	items := make([][2]*ast.Term, 0, 11)
	items = append(items, item("index", ast.IntNumberTerm(s.Index)), item("text", ast.StringTerm(s.Text)))
	for _, kv := range [...]struct{ k, v string }{{"file", s.File}, {"path", s.Path}, {"root", s.Root}, {"base", s.Base}, {"dir", s.Dir}, {"operation", s.Operation}, {"namespace", s.Namespace}, {"user", s.User}} {
		if kv.v != "" {
			items = append(items, item(kv.k, ast.InternedTerm(kv.v)))
		}
	}
	if s.DryRun {
		items = append(items, item("dry_run", ast.InternedTerm(true)))
	}
	return ast.NewTerm(ast.NewObject(items...))
}

// item is one key and value of an OPA object.
func item(key string, v *ast.Term) [2]*ast.Term { return [2]*ast.Term{ast.InternedTerm(key), v} }

// ObjectInput builds the engine input for one object: input.object, input.source,
// input.environment (selected by cfg) and input.parse (duplicate keys found by the loader).
func ObjectInput(cfg *config.Config, obj any, src Source, dups []loader.DuplicateKey) (ast.Value, error) {
	v, err := ast.InterfaceToValue(obj)
	if err != nil {
		return nil, fmt.Errorf("build policy input: %w", err)
	}
	return ObjectInputValue(cfg, obj, v, src, dups)
}

// ObjectInputValue is ObjectInput for an object whose OPA value the caller already has: value
// is obj as ast.InterfaceToValue makes it (the admission webhook decodes objects straight into
// OPA values); obj is read for its labels and namespace only. The wrapper around the object
// (source, environment, origin, versions, parse) is built as OPA terms directly, with no Go maps
// to convert.
func ObjectInputValue(cfg *config.Config, obj any, value ast.Value, src Source, dups []loader.DuplicateKey) (ast.Value, error) {
	labels, namespace := meta(obj)
	if namespace == "" {
		namespace = src.Namespace
	}
	env := cfg.EnvironmentFor(src.Path, labels, namespace)
	origin, err := src.originTerm()
	if err != nil {
		return nil, fmt.Errorf("build policy input: %w", err)
	}
	items := make([][2]*ast.Term, 0, 6)
	items = append(items,
		item("object", ast.NewTerm(value)),
		item("source", src.term()),
		item("environment", ast.ObjectTerm(item("name", ast.InternedTerm(env)))),
		item("origin", origin),
		// the Kubernetes and Flux versions the run judges APIs by (kubernetes-api-version,
		// flux-api-version), as "1.31" and "2.4"
		item("versions", ast.ObjectTerm(item("kubernetes", ast.InternedTerm(Minor(cfg.KubernetesVersion))), item("flux", ast.InternedTerm(Minor(cfg.FluxVersion))))),
	)
	if len(dups) > 0 {
		ds := make([]*ast.Term, len(dups))
		for i, d := range dups {
			ds[i] = ast.ObjectTerm(item("key", ast.InternedTerm(d.Key)), item("line", ast.IntNumberTerm(d.Line)),
				item("column", ast.IntNumberTerm(d.Column)), item("first_line", ast.IntNumberTerm(d.FirstLine)))
		}
		items = append(items, item("parse", ast.ObjectTerm(item("duplicate_keys", ast.ArrayTerm(ds...)))))
	}
	return ast.NewObject(items...), nil
}

// originTerm is input.origin as an OPA term: Origin, else {"producer": "admission"} for an
// admitted object, else {"producer": "file"}.
func (s Source) originTerm() (*ast.Term, error) {
	if s.Origin != nil {
		v, err := ast.InterfaceToValue(s.Origin)
		if err != nil {
			return nil, err
		}
		return ast.NewTerm(v), nil
	}
	producer := "file"
	if s.Operation != "" {
		producer = "admission"
	}
	return ast.ObjectTerm(item("producer", ast.InternedTerm(producer))), nil
}

// RenderErrorInput builds the engine input for a build or render that could not be done:
// input.object is the Kustomization or HelmRelease that asked for it, input.render_error says
// what happened (type, message, path).
func RenderErrorInput(cfg *config.Config, obj any, src Source, renderErr map[string]any) (ast.Value, error) {
	object, err := ast.InterfaceToValue(obj)
	if err != nil {
		return nil, err
	}
	rendering, err := ast.InterfaceToValue(renderErr)
	if err != nil {
		return nil, err
	}
	origin, err := src.originTerm()
	if err != nil {
		return nil, err
	}
	return ast.NewObject(item("object", ast.NewTerm(object)), item("source", src.term()), item("origin", origin),
		item("render_error", ast.NewTerm(rendering))), nil
}

// SyntaxErrorInput builds the engine input for a file that did not parse.
func SyntaxErrorInput(src Source, e *loader.SyntaxError) (ast.Value, error) {
	parse, err := ast.InterfaceToValue(parseError(e))
	if err != nil {
		return nil, err
	}
	return ast.NewObject(item("source", src.term()), item("parse_error", ast.NewTerm(parse))), nil
}

// Identity returns kind, namespace and name of an object (empty strings when absent).
func Identity(obj any) (kind, namespace, name string) {
	m, ok := obj.(map[string]any)
	if !ok {
		return "", "", ""
	}
	kind, _ = m["kind"].(string)
	if md, ok := m["metadata"].(map[string]any); ok {
		namespace, _ = md["namespace"].(string)
		name, _ = md["name"].(string)
	}
	if name == "" {
		name, _ = m["name"].(string) // Chart.yaml and other non-objects
	}
	return kind, namespace, name
}

func meta(obj any) (map[string]string, string) {
	m, ok := obj.(map[string]any)
	if !ok {
		return nil, ""
	}
	md, ok := m["metadata"].(map[string]any)
	if !ok {
		return nil, ""
	}
	ns, _ := md["namespace"].(string)
	var labels map[string]string
	if l, ok := md["labels"].(map[string]any); ok {
		labels = make(map[string]string, len(l))
		for k, v := range l {
			if s, ok := v.(string); ok {
				labels[k] = s
			}
		}
	}
	return labels, ns
}

func parseError(e *loader.SyntaxError) map[string]any {
	m := map[string]any{"message": e.Message, "line": e.Line, "column": e.Column}
	if e.Fix != "" {
		m["fix"] = e.Fix
	}
	return m
}

// Minor turns "v1.31.4", "1.31" or "2.7.2" into "1.31" / "2.7".
func Minor(v string) string {
	v = strings.TrimPrefix(strings.TrimSpace(v), "v")
	// up to the second dot, if any: a substring, so building every input allocates nothing here
	if i := strings.IndexByte(v, '.'); i >= 0 {
		if j := strings.IndexByte(v[i+1:], '.'); j >= 0 {
			return v[:i+1+j]
		}
	}
	return v
}
