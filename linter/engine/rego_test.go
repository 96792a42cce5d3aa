package engine_test

import (
	"context"
	"testing"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/storage/inmem"
	"github.com/open-policy-agent/opa/v1/tester"
	"github.com/stretchr/testify/require"

	"github.com/openova-io/ova-lint/linter/config"
	"github.com/openova-io/ova-lint/linter/engine"
)

// TestRegoUnitTests runs every *_test.rego of the embedded policies with OPA's tester, against
// the default profile's parameters in data.ova.params.
func TestRegoUnitTests(t *testing.T) {
	ctx := context.Background()
	modules, err := engine.LoadModules(true)
	require.NoError(t, err)
	cfg, err := config.Default()
	require.NoError(t, err)
	store := inmem.NewFromObject(map[string]any{"ova": map[string]any{"params": cfg.Params}})
	compiler := ast.NewCompiler().WithEnablePrintStatements(true)
	ch, err := tester.NewRunner().
		SetCompiler(compiler).
		SetStore(store).
		SetModules(modules).
		CapturePrintOutput(true).
		RaiseBuiltinErrors(false). // as in production: a builtin error leaves the expression undefined
		RunTests(ctx, nil)
	require.NoError(t, err)
	n := 0
	for r := range ch {
		n++
		name := r.Package + "." + r.Name
		t.Run(name, func(t *testing.T) {
			if r.Error != nil {
				t.Fatalf("%s: error: %v\n%s", r.Location, r.Error, r.Output)
			}
			if r.Fail {
				t.Fatalf("%s: failed\n%s", r.Location, r.Output)
			}
			if r.Skip {
				t.Skip("skipped")
			}
		})
	}
	require.Greater(t, n, 0, "no Rego tests ran")
}

func TestEngineCatalogue(t *testing.T) {
	e, err := engine.New(context.Background(), engine.Options{})
	require.NoError(t, err)
	var ids []string
	for _, r := range e.Rules() {
		ids = append(ids, r.ID)
	}
	require.Subset(t, ids, []string{
		"blueprint-version", "duplicate-key", "gitea-url", "gitrepository-ref", "gitrepository-secret",
		"kustomization-health-checks", "kustomization-prune", "kustomization-wait", "literal-credential",
		"no-sops", "plaintext-secret", "sealed-secret", "single-gitea", "sync-interval",
		"waiver-expired", "waiver-invalid", "waiver-unused", "yaml-syntax",
	}, ids)
}
