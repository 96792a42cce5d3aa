package engine

import (
	"context"
	"strings"
	"testing"

	"github.com/open-policy-agent/opa/v1/ast"
)

// TestLazy: a lazy engine reads the catalogue in New and compiles on the first evaluation, so a
// rule that does not compile fails that evaluation (every one after it too), where an eager New
// fails at once; a lazy engine whose rules compile evaluates as an eager one does.
func TestLazy(t *testing.T) {
	ctx := context.Background()
	dirs := []string{"testdata/uncompilable"}
	if _, err := New(ctx, Options{PolicyDirs: dirs}); err == nil || !strings.Contains(err.Error(), "compile policies") {
		t.Fatalf("eager New: got %v, want a compile error", err)
	}
	lazy, err := New(ctx, Options{PolicyDirs: dirs, Lazy: true})
	if err != nil {
		t.Fatalf("lazy New: %v", err)
	}
	if lazy.Rule("custom-broken") == nil {
		t.Fatal("the lazy engine's catalogue lacks custom-broken")
	}
	in := ast.MustInterfaceToValue(map[string]any{"object": map[string]any{"apiVersion": "v1", "kind": "ConfigMap"}})
	for i := range 2 {
		if _, err := lazy.Eval(ctx, in); err == nil || !strings.Contains(err.Error(), "compile policies") {
			t.Fatalf("evaluation %d: got %v, want the compile error", i+1, err)
		}
	}

	obj := ast.MustInterfaceToValue(map[string]any{
		"object": map[string]any{"apiVersion": "v1", "kind": "Secret", "metadata": map[string]any{"name": "s", "namespace": "n"}, "stringData": map[string]any{"password": "hunter2"}},
		"origin": map[string]any{"producer": "file"},
	})
	eager, err := New(ctx, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if lazy, err = New(ctx, Options{Lazy: true}); err != nil {
		t.Fatal(err)
	}
	want, err := eager.Eval(ctx, obj)
	if err != nil {
		t.Fatal(err)
	}
	got, err := lazy.Eval(ctx, obj)
	if err != nil {
		t.Fatal(err)
	}
	if len(want.Violations) == 0 || len(got.Violations) != len(want.Violations) {
		t.Fatalf("lazy: %d violations, eager: %d (want some)", len(got.Violations), len(want.Violations))
	}
	for i := range want.Violations {
		if got.Violations[i].Rule.ID != want.Violations[i].Rule.ID || got.Violations[i].Message != want.Violations[i].Message {
			t.Errorf("violation %d: lazy %s %q, eager %s %q", i, got.Violations[i].Rule.ID, got.Violations[i].Message, want.Violations[i].Rule.ID, want.Violations[i].Message)
		}
	}
}
