package engine_test

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/openova-io/ova-lint/linter/config"
	"github.com/openova-io/ova-lint/linter/engine"
	"github.com/openova-io/ova-lint/linter/input"
	"github.com/openova-io/ova-lint/linter/loader"
)

// TestEvalRules: EvalRules returns exactly Eval's violations of the packages it is asked for, in
// Eval's order, for every document of the rule fixtures, as a file and at admission. The sets
// asked for are each rule that fired alone, all of them, all of them with rules that did not
// fire or are not rules, and none.
func TestEvalRules(t *testing.T) {
	ctx := context.Background()
	cfg, err := config.Default()
	require.NoError(t, err)
	eng, err := engine.New(ctx, engine.Options{Config: cfg})
	require.NoError(t, err)

	files := ruleFixtureFiles(t)

	notFired := "kustomization-prune" // a package name that is also a rule: asked for, it must not add what did not fire
	if r := eng.Rule("kustomization-prune"); r != nil {
		notFired = r.Package
	}
	fired := 0
	for _, file := range files {
		data, err := os.ReadFile(file)
		require.NoError(t, err)
		docs, _ := loader.Parse(data, loader.DefaultLimits())
		for _, doc := range docs {
			if doc.Object == nil {
				continue
			}
			for _, src := range []input.Source{
				input.FileSource(file, filepath.Base(file), filepath.Dir(file), doc.Index, string(data)),
				{Operation: "UPDATE", Namespace: "apps", Text: string(data), Origin: map[string]any{"producer": "admission", "applied_by": "kustomize-controller"}},
			} {
				in, err := input.ObjectInput(cfg, doc.Object, src, doc.DuplicateKeys)
				require.NoError(t, err)
				all, err := eng.Eval(ctx, in)
				require.NoError(t, err)
				var pkgs []string
				for _, v := range all.Violations {
					if !slices.Contains(pkgs, v.Rule.Package) {
						pkgs = append(pkgs, v.Rule.Package)
					}
				}
				fired += len(pkgs)
				sets := [][]string{nil, pkgs, append(slices.Clone(pkgs), notFired, "no-such-rule", "lib")}
				for _, p := range pkgs {
					sets = append(sets, []string{p})
				}
				for _, set := range sets {
					var want []engine.Violation
					for _, v := range all.Violations {
						if slices.Contains(set, v.Rule.Package) {
							want = append(want, v)
						}
					}
					got, err := eng.EvalRules(ctx, in, set)
					require.NoError(t, err)
					assert.Equal(t, want, got.Violations, "%s document %d (%s), packages %v", file, doc.Index, src.Operation, set)
					assert.Empty(t, got.Facts)
				}
			}
		}
	}
	t.Logf("%d files, %d rule firings compared", len(files), fired)
	require.Positive(t, fired, "the fixtures made no rule fire: the test compared nothing")
}

// TestEvalRulesConcurrent: first uses of the same and of different package sets from many
// goroutines at once (run with -race) give Eval's violations.
func TestEvalRulesConcurrent(t *testing.T) {
	ctx := context.Background()
	cfg, err := config.Default()
	require.NoError(t, err)
	eng, err := engine.New(ctx, engine.Options{Config: cfg})
	require.NoError(t, err)
	obj := map[string]any{
		"apiVersion": "kustomize.toolkit.fluxcd.io/v1", "kind": "Kustomization",
		"metadata": map[string]any{"name": "apps", "namespace": "flux-system"},
		"spec":     map[string]any{"interval": "5m", "path": "./apps", "prune": false, "sourceRef": map[string]any{"kind": "GitRepository", "name": "flux-system"}},
	}
	in, err := input.ObjectInput(cfg, obj, input.Source{Operation: "CREATE", Origin: map[string]any{"producer": "admission"}}, nil)
	require.NoError(t, err)
	all, err := eng.Eval(ctx, in)
	require.NoError(t, err)
	require.NotEmpty(t, all.Violations)
	var pkgs []string
	for _, v := range all.Violations {
		if !slices.Contains(pkgs, v.Rule.Package) {
			pkgs = append(pkgs, v.Rule.Package)
		}
	}
	done := make(chan []engine.Violation)
	for i := range 8 {
		go func() {
			got, err := eng.EvalRules(ctx, in, pkgs[:1+i%len(pkgs)])
			assert.NoError(t, err)
			done <- got.Violations
		}()
	}
	for range 8 {
		got := <-done
		require.NotEmpty(t, got)
		for _, v := range got {
			assert.Contains(t, all.Violations, v)
		}
	}
}

// ruleFixtures is the directory of the rule fixtures.
var ruleFixtures = filepath.Join("..", "..", "fixtures", "rules")

// ruleFixtureFiles lists the YAML files of the rule fixtures.
func ruleFixtureFiles(t *testing.T) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir(ruleFixtures, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && (strings.HasSuffix(p, ".yaml") || strings.HasSuffix(p, ".yml")) {
			files = append(files, p)
		}
		return err
	})
	require.NoError(t, err)
	require.NotEmpty(t, files)
	return files
}
