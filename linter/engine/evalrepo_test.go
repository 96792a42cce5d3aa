package engine_test

import (
	"context"
	"fmt"
	"github.com/open-policy-agent/opa/v1/ast"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/openova-io/ova-lint/linter/config"
	"github.com/openova-io/ova-lint/linter/engine"
	"github.com/openova-io/ova-lint/linter/facts"
	"github.com/openova-io/ova-lint/linter/input"
	"github.com/openova-io/ova-lint/linter/loader"
)

// TestEvalRepoIsEval: the repo pass evaluated group by group (EvalRepo) gives exactly the
// violations of one evaluation over every fact (Eval of facts.Input), in the same order, for the
// facts of each rule fixture case and for the facts of all of them together, complete or not.
func TestEvalRepoIsEval(t *testing.T) {
	ctx := context.Background()
	eng := defaultEngine(t)
	cases := map[string][]facts.Fact{}
	fixtureFacts(t, eng, func(rel string, doc loader.Document, fs []engine.Fact) {
		parts := strings.SplitN(filepath.ToSlash(rel), "/", 3) // rule/case/file
		caseName := parts[0]
		if len(parts) > 1 {
			caseName += "/" + parts[1]
		}
		kind, ns, name := input.Identity(doc.Object)
		for _, rf := range fs {
			f, err := rf.Map()
			require.NoError(t, err)
			located := map[string]any{"at": map[string]any{"file": rel, "line": doc.Index + 1, "column": 1, "kind": kind, "namespace": ns, "name": name}}
			for k, v := range f {
				located[k] = v
			}
			enc, err := facts.Encode(located)
			require.NoError(t, err)
			cases[caseName] = append(cases[caseName], enc)
		}
	})
	var every []facts.Fact
	for _, fs := range cases {
		every = append(every, fs...)
	}
	require.Greater(t, len(every), 50, "the fixtures give facts to every repo rule")
	cases["all fixtures together"] = every

	violations := 0
	for name, fs := range cases {
		for _, complete := range []bool{true, false} {
			in, err := facts.Input(fs, complete)
			require.NoError(t, err)
			want, err := eng.Eval(ctx, in)
			require.NoError(t, err)
			got, err := eng.EvalRepo(ctx, fs, complete)
			require.NoError(t, err)
			assert.Equal(t, summary(want.Violations), summary(got.Violations), "%s, complete %v", name, complete)
			violations += len(got.Violations)
		}
	}
	assert.Greater(t, violations, 20, "the repo rules found something to compare")
}

// summary is what a violation says, for comparisons (fmt prints maps with sorted keys).
func summary(vs []engine.Violation) []string {
	out := make([]string, 0, len(vs))
	for _, v := range vs {
		out = append(out, fmt.Sprintf("%s|%s|%s|%v|%v|%s", v.Rule.ID, v.Message, v.Fix, v.Path, v.At, v.Severity))
	}
	return out
}

// TestEncodeLocatedIsEncode: every fact of the rule fixtures, and facts of every shape a rule
// could make, encode byte for byte as the map of the fact, its "pkg" and its "at" did.
func TestEncodeLocatedIsEncode(t *testing.T) {
	var all []engine.Fact
	fixtureFacts(t, defaultEngine(t), func(_ string, _ loader.Document, fs []engine.Fact) {
		all = append(all, fs...)
	})
	require.Greater(t, len(all), 50, "the fixtures give facts")
	for _, text := range []string{
		`{"path": ["spec", "chart", 0], "n": 3, "f": 1.5, "big": 12345678901234567890, "b": true, "z": null}`,
		`{"set": {"b", "a", 2}, "nested": {"y": [1, {"x": "v"}], "a": {}}, "e": []}`,
		`{"pkg": "theirs", "at": "theirs", "path": []}`,
		`{"url_path": ["spec", "url"], "url": "https://x"}`,
		`{1: "a number key"}`,
		`{"k": {["a"]: 1}}`,
	} {
		all = append(all, engine.Fact{Pkg: "ova.rules.test", Value: ast.MustParseTerm(text).Value.(ast.Object)})
	}
	for i, f := range all {
		at := map[string]any{"file": "a.yaml", "line": i + 1, "column": 3, "kind": "K", "namespace": "", "name": "n", "url_line": 4}
		m, err := f.Map()
		require.NoError(t, err)
		m["at"] = at
		want, err := facts.Encode(m)
		require.NoError(t, err)
		got, err := facts.EncodeLocated(f.Pkg, f.Value, at)
		require.NoError(t, err)
		require.Equal(t, want, got, "fact %d of %s: %v", i, f.Pkg, f.Value)
	}
}

// defaultEngine compiles the shipped rules with the default configuration.
func defaultEngine(t *testing.T) *engine.Engine {
	t.Helper()
	cfg, err := config.Default()
	require.NoError(t, err)
	eng, err := engine.New(context.Background(), engine.Options{Config: cfg})
	require.NoError(t, err)
	return eng
}

// fixtureFacts evaluates every document of the rule fixtures and hands each one's facts to do,
// with the fixture file's path relative to the fixtures.
func fixtureFacts(t *testing.T, eng *engine.Engine, do func(rel string, doc loader.Document, fs []engine.Fact)) {
	t.Helper()
	cfg, err := config.Default()
	require.NoError(t, err)
	for _, p := range ruleFixtureFiles(t) {
		rel, _ := filepath.Rel(ruleFixtures, p)
		data, err := os.ReadFile(p)
		require.NoError(t, err)
		docs, _ := loader.Parse(data, loader.DefaultLimits())
		for _, doc := range docs {
			if doc.Object == nil {
				continue
			}
			in, err := input.ObjectInput(cfg, doc.Object, input.FileSource(rel, rel, ruleFixtures, doc.Index, string(data)), nil)
			require.NoError(t, err)
			res, err := eng.Eval(context.Background(), in)
			require.NoError(t, err)
			do(rel, doc, res.Facts)
		}
	}
}
