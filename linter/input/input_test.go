package input

import (
	"testing"

	"github.com/open-policy-agent/opa/v1/ast"

	"github.com/openova-io/ova-lint/linter/config"
	"github.com/openova-io/ova-lint/linter/loader"
)

// sourceMap and originMap are input.source and input.origin as Go maps, the way the inputs were
// built before they were built as terms: the reference the terms are checked against.
func sourceMap(s Source) map[string]any {
	m := map[string]any{"index": s.Index}
	for k, v := range map[string]string{"file": s.File, "path": s.Path, "root": s.Root, "base": s.Base, "dir": s.Dir, "operation": s.Operation, "namespace": s.Namespace, "user": s.User} {
		if v != "" {
			m[k] = v
		}
	}
	m["text"] = s.Text
	if s.DryRun {
		m["dry_run"] = true
	}
	return m
}

func originMap(s Source) map[string]any {
	if s.Origin != nil {
		return s.Origin
	}
	if s.Operation != "" {
		return map[string]any{"producer": "admission"}
	}
	return map[string]any{"producer": "file"}
}

// viaMaps is the input as ObjectInput built it before it built terms directly: Go maps
// converted by ast.InterfaceToValue. The rules see exactly this value.
func viaMaps(t testing.TB, cfg *config.Config, obj any, src Source, dups []loader.DuplicateKey) ast.Value {
	t.Helper()
	labels, namespace := meta(obj)
	if namespace == "" {
		namespace = src.Namespace
	}
	in := map[string]any{
		"object":      obj,
		"source":      sourceMap(src),
		"environment": map[string]any{"name": cfg.EnvironmentFor(src.Path, labels, namespace)},
		"origin":      originMap(src),
		"versions":    map[string]any{"kubernetes": Minor(cfg.KubernetesVersion), "flux": Minor(cfg.FluxVersion)},
	}
	if len(dups) > 0 {
		ds := make([]any, len(dups))
		for i, d := range dups {
			ds[i] = map[string]any{"key": d.Key, "line": d.Line, "column": d.Column, "first_line": d.FirstLine}
		}
		in["parse"] = map[string]any{"duplicate_keys": ds}
	}
	v, err := ast.InterfaceToValue(in)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func mustValue(t testing.TB, x any) ast.Value {
	t.Helper()
	v, err := ast.InterfaceToValue(x)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// TestObjectInputIsTheMapsValue: ObjectInput, RenderErrorInput and SyntaxErrorInput build the
// value (and hash) that Go maps converted by ast.InterfaceToValue give.
func TestObjectInputIsTheMapsValue(t *testing.T) {
	cfg, err := config.Default()
	if err != nil {
		t.Fatal(err)
	}
	kustomization := map[string]any{
		"apiVersion": "kustomize.toolkit.fluxcd.io/v1", "kind": "Kustomization",
		"metadata": map[string]any{"name": "apps", "namespace": "flux-system", "labels": map[string]any{"env": "prod", "n": 3}},
		"spec":     map[string]any{"interval": "10m", "prune": true, "replicas": 3, "ratio": 0.5, "items": []any{"a", nil}},
	}
	cases := []struct {
		name string
		obj  any
		src  Source
		dups []loader.DuplicateKey
	}{
		{"file document", kustomization, FileSource("clusters/a.yaml", "clusters/a.yaml", ".", 2, "kind: Kustomization\n"), nil},
		{"root file, index 0", map[string]any{"kind": "ConfigMap"}, FileSource("a.yaml", "a.yaml", "/tmp/x", 0, ""), nil},
		{"duplicate keys", kustomization, FileSource("a.yaml", "a.yaml", ".", 0, "x"), []loader.DuplicateKey{{Key: "spec", Line: 4, Column: 1, FirstLine: 2}, {Key: "prune", Line: 9, Column: 3, FirstLine: 7}}},
		{"admission", kustomization, Source{Text: `{"kind":"Kustomization"}`, Operation: "UPDATE", Namespace: "apps", User: "system:serviceaccount:flux-system:kustomize-controller", DryRun: true}, nil},
		{"admission, namespace from the request", map[string]any{"kind": "Secret", "metadata": map[string]any{"name": "s"}}, Source{Operation: "CREATE", Namespace: "staging"}, nil},
		{"rendered, with an origin", kustomization, Source{File: "charts/x/templates/a.yaml", Path: "charts/x/templates/a.yaml", Origin: map[string]any{"producer": "helm", "chain": []any{"a", "b"}, "template": "templates/a.yaml", "missing": false}}, nil},
		{"not an object", []any{"a", 1}, Source{File: "list.yaml"}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := ObjectInput(cfg, c.obj, c.src, c.dups)
			if err != nil {
				t.Fatal(err)
			}
			want := viaMaps(t, cfg, c.obj, c.src, c.dups)
			if ast.Compare(got, want) != 0 || got.Hash() != want.Hash() {
				t.Errorf("ObjectInput:\n got  %v\n want %v", got, want)
			}
			renderErr := map[string]any{"type": "build", "message": "no kustomization.yaml", "path": "clusters/a"}
			got, err = RenderErrorInput(cfg, c.obj, c.src, renderErr)
			if err != nil {
				t.Fatal(err)
			}
			want = mustValue(t, map[string]any{"object": c.obj, "source": sourceMap(c.src), "origin": originMap(c.src), "render_error": renderErr})
			if ast.Compare(got, want) != 0 || got.Hash() != want.Hash() {
				t.Errorf("RenderErrorInput:\n got  %v\n want %v", got, want)
			}
			syntax := &loader.SyntaxError{Message: "mapping values are not allowed", Line: 3, Column: 7, Fix: "quote the value"}
			got, err = SyntaxErrorInput(c.src, syntax)
			if err != nil {
				t.Fatal(err)
			}
			want = mustValue(t, map[string]any{"source": sourceMap(c.src), "parse_error": parseError(syntax)})
			if ast.Compare(got, want) != 0 || got.Hash() != want.Hash() {
				t.Errorf("SyntaxErrorInput:\n got  %v\n want %v", got, want)
			}
		})
	}
}

// BenchmarkObjectInput is the input of a small Kustomization at admission: the Go maps
// converted (as before), the terms built directly, and with the object already an OPA value (the
// webhook's case).
func BenchmarkObjectInput(b *testing.B) {
	cfg, err := config.Default()
	if err != nil {
		b.Fatal(err)
	}
	obj := map[string]any{
		"apiVersion": "kustomize.toolkit.fluxcd.io/v1", "kind": "Kustomization",
		"metadata": map[string]any{"name": "apps", "namespace": "flux-system", "labels": map[string]any{"kustomize.toolkit.fluxcd.io/name": "flux-system"}},
		"spec":     map[string]any{"interval": "10m", "prune": true, "wait": true, "sourceRef": map[string]any{"kind": "GitRepository", "name": "platform"}},
	}
	src := Source{Text: `{"apiVersion":"kustomize.toolkit.fluxcd.io/v1","kind":"Kustomization"}`, Operation: "CREATE", Namespace: "flux-system", User: "admin"}
	value, err := ast.InterfaceToValue(obj)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("maps", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_ = viaMaps(b, cfg, obj, src, nil)
		}
	})
	b.Run("terms", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := ObjectInput(cfg, obj, src, nil); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("terms, object already a value", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := ObjectInputValue(cfg, obj, value, src, nil); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func TestMinor(t *testing.T) {
	for in, want := range map[string]string{
		"1.31": "1.31", "v1.31.4": "1.31", "2.4.0": "2.4", " v2.9 ": "2.9", "1": "1", "": "",
		"1.31.4.5": "1.31", "v1.": "1.", ".5.6": ".5",
	} {
		if got := Minor(in); got != want {
			t.Errorf("Minor(%q) = %q, want %q", in, got, want)
		}
	}
}
