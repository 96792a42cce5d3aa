package engine

import (
	"context"
	"errors"
	"testing"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/topdown"
)

// TestEvalStopsWhenTheContextEnds: an evaluation whose context ends stops with a cancellation
// error instead of running to its end (the webhook's evaluation timeout), in Eval and EvalRules.
func TestEvalStopsWhenTheContextEnds(t *testing.T) {
	eng, err := New(context.Background(), Options{PolicyDirs: []string{"testdata/slow"}})
	if err != nil {
		t.Fatal(err)
	}
	in := ast.MustInterfaceToValue(map[string]any{"object": map[string]any{"apiVersion": "v1", "kind": "ConfigMap", "metadata": map[string]any{"name": "c"}}})
	for name, eval := range map[string]func(context.Context) error{
		"Eval":      func(ctx context.Context) error { _, err := eng.Eval(ctx, in); return err },
		"EvalRules": func(ctx context.Context) error { _, err := eng.EvalRules(ctx, in, []string{"custom_slow"}); return err },
	} {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		err := eval(ctx)
		var te *topdown.Error
		if !errors.As(err, &te) || te.Code != topdown.CancelErr {
			t.Errorf("%s with an ended context: got %v, want a cancellation error", name, err)
		}
	}
}
