package linter_test

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/stretchr/testify/require"

	"github.com/openova-io/ova-lint/internal/gencorpus"
	"github.com/openova-io/ova-lint/linter"
	"github.com/openova-io/ova-lint/linter/config"
	"github.com/openova-io/ova-lint/linter/engine"
	"github.com/openova-io/ova-lint/linter/input"
	"github.com/openova-io/ova-lint/linter/loader"
	"github.com/openova-io/ova-lint/linter/report"
	"github.com/openova-io/ova-lint/linter/schema"
)

// benchCorpus generates a deterministic tree of n documents once per benchmark.
func benchCorpus(b *testing.B, n int) (string, gencorpus.Stats) {
	b.Helper()
	dir := b.TempDir()
	st, err := gencorpus.Generate(dir, n, 42)
	require.NoError(b, err)
	return dir, st
}

// BenchmarkLint runs the whole lint (walk, parse, evaluate on all cores, repo pass, positions)
// over a generated corpus and reports documents per second.
func BenchmarkLint(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		b.Run(docsName(n), func(b *testing.B) {
			dir, st := benchCorpus(b, n)
			ctx := context.Background()
			cfg, err := config.Default()
			require.NoError(b, err)
			eng, err := engine.New(ctx, engine.Options{Config: cfg})
			require.NoError(b, err)
			l := linter.New(eng, cfg, linter.Options{Schema: &schema.Options{}})
			b.ResetTimer()
			for b.Loop() {
				rep, err := l.Lint(ctx, []string{dir})
				if err != nil || rep.Summary.Documents != st.Documents {
					b.Fatalf("lint: %v (%d documents)", err, rep.Summary.Documents)
				}
			}
			b.ReportMetric(float64(st.Documents)*float64(b.N)/b.Elapsed().Seconds(), "docs/s")
		})
	}
}

// BenchmarkParse is the loader stage alone: one multi-document file parsed into nodes and values.
func BenchmarkParse(b *testing.B) {
	dir, _ := benchCorpus(b, 9)
	data, err := os.ReadFile(filepath.Join(dir, "apps/app-00000/deploy/production/workload.yaml"))
	require.NoError(b, err)
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, serr := loader.Parse(data, loader.DefaultLimits()); serr != nil {
			b.Fatal(serr)
		}
	}
}

// benchInput is the engine input of one object of a generated kind ("Chart.yaml" for the
// document without one).
type benchInput struct {
	kind string
	in   ast.Value
}

// benchInputs compiles the default rules and builds the input of one object of each generated
// kind.
func benchInputs(b *testing.B) (*engine.Engine, []benchInput) {
	dir, _ := benchCorpus(b, 9)
	cfg, err := config.Default()
	require.NoError(b, err)
	eng, err := engine.New(context.Background(), engine.Options{Config: cfg})
	require.NoError(b, err)
	var out []benchInput
	files := []string{"clusters/cluster-00/production/app-00000.yaml", "apps/app-00000/deploy/production/workload.yaml", "platform/app-00000/blueprint.yaml", "platform/app-00000/chart/Chart.yaml"}
	for _, rel := range files {
		data, err := os.ReadFile(filepath.Join(dir, rel))
		require.NoError(b, err)
		docs, serr := loader.Parse(data, loader.DefaultLimits())
		require.Nil(b, serr)
		for _, d := range docs {
			kind, _, _ := input.Identity(d.Object)
			if kind == "" {
				kind = "Chart.yaml"
			}
			in, err := input.ObjectInput(cfg, d.Object, input.FileSource(rel, rel, ".", d.Index, string(data)), nil)
			require.NoError(b, err)
			out = append(out, benchInput{kind, in})
		}
	}
	return eng, out
}

// BenchmarkEval is the engine stage alone: one object of each generated kind evaluated against
// every rule that applies to it.
func BenchmarkEval(b *testing.B) {
	ctx := context.Background()
	eng, inputs := benchInputs(b)
	for _, bi := range inputs {
		b.Run(bi.kind, func(b *testing.B) {
			for b.Loop() {
				if _, err := eng.Eval(ctx, bi.in); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkEvalRule is BenchmarkEval one rule at a time: each object rule that applies to an
// object of each generated kind, evaluated alone (a query of its package only), to find the
// rules that cost the most.
func BenchmarkEvalRule(b *testing.B) {
	ctx := context.Background()
	eng, inputs := benchInputs(b)
	for _, bi := range inputs {
		for _, r := range eng.Rules() {
			if r.Disabled || r.Scope != engine.ScopeObject || (r.Kinds != nil && !slices.Contains(r.Kinds, bi.kind)) {
				continue
			}
			b.Run(bi.kind+"/"+r.ID, func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if _, err := eng.EvalRules(ctx, bi.in, []string{r.Package}); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

func docsName(n int) string {
	switch {
	case n >= 1000:
		return itoa(n/1000) + "k-docs"
	default:
		return itoa(n) + "-docs"
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

// BenchmarkWalk is the load stage: finding the YAML files of a generated 10k-document tree.
func BenchmarkWalk(b *testing.B) {
	dir, _ := benchCorpus(b, 10000)
	ctx := context.Background()
	for b.Loop() {
		if _, err := loader.Walk(ctx, []string{dir}, nil); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkReport is the report stage: every format over the findings of a 10k-document tree.
func BenchmarkReport(b *testing.B) {
	dir, _ := benchCorpus(b, 10000)
	ctx := context.Background()
	cfg, err := config.Default()
	require.NoError(b, err)
	eng, err := engine.New(ctx, engine.Options{Config: cfg})
	require.NoError(b, err)
	rep, err := linter.New(eng, cfg, linter.Options{}).Lint(ctx, []string{dir})
	require.NoError(b, err)
	for _, format := range report.Formats() {
		write, err := report.Lookup(format)
		require.NoError(b, err)
		b.Run(format, func(b *testing.B) {
			for b.Loop() {
				if err := write(io.Discard, rep, report.Options{Rules: eng.Rules()}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
