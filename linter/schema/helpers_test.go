package schema

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// loadDoc reads a single-document YAML file the way the linter does
// (yaml.v3 into map[string]any).
func loadDoc(tb testing.TB, path string) map[string]any {
	tb.Helper()
	raw, err := os.ReadFile(filepath.FromSlash(path))
	if err != nil {
		tb.Fatal(err)
	}
	var obj map[string]any
	if err := yaml.Unmarshal(raw, &obj); err != nil {
		tb.Fatalf("%s: %v", path, err)
	}
	return obj
}

func newValidator(tb testing.TB, opts Options, crds ...string) *Validator {
	tb.Helper()
	v, err := New(opts)
	if err != nil {
		tb.Fatal(err)
	}
	for _, c := range crds {
		if err := v.AddCRD(loadDoc(tb, c)); err != nil {
			tb.Fatalf("AddCRD(%s): %v", c, err)
		}
	}
	return v
}

// fileMode says which entry point a testdata file goes through.
func fileMode(path string) string {
	switch {
	case strings.HasPrefix(path, "testdata/kustomize/"):
		return "kustomization"
	case strings.HasPrefix(path, "testdata/chart/"):
		return "chart"
	}
	return "object"
}

func validateFile(v *Validator, path string, obj map[string]any) ([]Error, error) {
	switch fileMode(path) {
	case "kustomization":
		return v.ValidateKustomization(obj)
	case "chart":
		return v.ValidateChart(obj)
	}
	return v.Validate(obj)
}

// render is "dotted.path keyword", with "$" for the document root.
func render(errs []Error) []string {
	out := make([]string, 0, len(errs))
	for _, e := range errs {
		p := strings.Join(e.Path, ".")
		if p == "" {
			p = "$"
		}
		out = append(out, p+" "+e.Keyword)
	}
	return out
}

// allKinds compiles every schema the validator knows (kinds and files).
func compileAll(tb testing.TB, v *Validator) int {
	tb.Helper()
	idx, err := v.loaded()
	if err != nil {
		tb.Fatal(err)
	}
	n := 0
	for _, m := range []map[string]string{idx.kinds, idx.files} {
		for key, url := range m {
			if _, err := v.schema(url); err != nil {
				tb.Errorf("%s: %v", key, err)
			}
			n++
		}
	}
	return n
}
