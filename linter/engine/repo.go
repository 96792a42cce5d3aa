package engine

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/open-policy-agent/opa/v1/ast"

	"github.com/openova-io/ova-lint/linter/facts"
)

// repoFactsRef is the function through which repo-scope rules read the facts one rule package
// collected: data.ova.lib.repo.facts(pkg).
var repoFactsRef = ast.MustParseRef("data.ova.lib.repo.facts")

// repoGroup is a set of rule packages the repo pass evaluates together, on an input that holds
// only the facts they read: the repo pass's live heap is then the largest group's facts as OPA
// terms, not every fact of the tree at once.
type repoGroup struct {
	packages []string        // rule packages, in catalogue order
	facts    map[string]bool // the fact packages (facts.Fact.Pkg) the input holds; nil: every fact
}

// repoGroups groups the rule packages by the facts they read. A package reads the facts it
// names in data.ova.lib.repo.facts("pkg") calls, in its own rules and in every rule they depend
// on. A package that reads the facts any other way (input.repo.facts, input.repo.by_pkg, a call
// whose argument is not a string) reads every fact. Packages that read the same facts share a
// group; the packages that read none share one (their input holds only input.repo.complete).
func repoGroups(compiler *ast.Compiler, rules []*Rule) []repoGroup {
	var groups []repoGroup
	index := map[string]int{} // the fact set's key -> its group
	for _, r := range rules {
		reads, all := factsRead(compiler, rulesPrefix+r.Package)
		key := "*"
		if !all {
			names := make([]string, 0, len(reads))
			for n := range reads {
				names = append(names, n)
			}
			sort.Strings(names)
			key = strings.Join(names, ",")
		}
		i, ok := index[key]
		if !ok {
			i = len(groups)
			index[key] = i
			g := repoGroup{facts: reads}
			if all {
				g.facts = nil
			} else if g.facts == nil {
				g.facts = map[string]bool{}
			}
			groups = append(groups, g)
		}
		groups[i].packages = append(groups[i].packages, r.Package)
	}
	return groups
}

// factsRead returns the fact packages that the rules under the data path prefix, and every rule
// they depend on, read through data.ova.lib.repo.facts, or all when they read facts any other way.
func factsRead(compiler *ast.Compiler, prefix string) (reads map[string]bool, all bool) {
	reads = map[string]bool{}
	var todo []*ast.Rule
	seen := map[*ast.Rule]bool{}
	push := func(r *ast.Rule) {
		for ; r != nil; r = r.Else {
			if !seen[r] {
				seen[r] = true
				todo = append(todo, r)
			}
		}
	}
	root := ast.MustParseRef(prefix)
	for _, m := range compiler.Modules {
		if m.Package.Path.Equal(root) {
			for _, r := range m.Rules {
				push(r)
			}
		}
	}
	for len(todo) > 0 {
		r := todo[len(todo)-1]
		todo = todo[:len(todo)-1]
		if r.Module != nil && r.Path().Equal(repoFactsRef) {
			continue // the accessor itself: its reads are the calls' arguments, read below
		}
		ast.WalkExprs(r, func(e *ast.Expr) bool {
			if e.IsCall() && e.Operator().Equal(repoFactsRef) {
				if s, ok := e.Operand(0).Value.(ast.String); ok {
					reads[string(s)] = true
				} else {
					all = true
				}
			}
			return false
		})
		// input.repo and input.repo.complete read no fact. (A rule that handed the whole input
		// to a function reading input.repo.facts there would escape this; the shipped rules
		// pass input only to object.get for other keys.)
		ast.WalkRefs(r, func(ref ast.Ref) bool {
			if ref.HasPrefix(repoRef) && !(len(ref) == 2 || len(ref) == 3 && ref[2].Equal(ast.StringTerm("complete"))) {
				all = true
			}
			return false
		})
		for dep := range compiler.Graph.Dependencies(r) {
			if d, ok := dep.(*ast.Rule); ok {
				push(d)
			}
		}
	}
	return reads, all
}

// repoWorkers is how many groups the repo pass evaluates at once: its live heap is then at most
// the facts of that many groups as OPA terms, whatever the number of cores.
const repoWorkers = 2

// EvalRepo evaluates the repo pass over the facts of every object: the violations Eval reports
// for facts.Input(fs, complete), each rule package evaluated with only the facts it reads (see
// repoGroups), repoWorkers groups at a time, the largest first, and returned in catalogue order.
func (e *Engine) EvalRepo(ctx context.Context, fs []facts.Fact, complete bool) (Result, error) {
	c, err := e.ready()
	if err != nil {
		return Result{}, err
	}
	return c.evalRepo(ctx, fs, complete)
}

func (e *compiled) evalRepo(ctx context.Context, fs []facts.Fact, complete bool) (Result, error) {
	type job struct {
		g   repoGroup
		sub []facts.Fact
		res []Violation
		err error
	}
	byFactPkg := map[string][]facts.Fact{}
	for _, f := range fs {
		byFactPkg[f.Pkg] = append(byFactPkg[f.Pkg], f)
	}
	var jobs []*job
	for _, g := range e.repo {
		if !slices.ContainsFunc(g.packages, func(p string) bool { return !e.byPackage[p].Disabled }) {
			continue
		}
		j := &job{g: g, sub: fs}
		if g.facts != nil {
			j.sub = nil
			for _, pkg := range slices.Sorted(maps.Keys(g.facts)) { // a fixed order: the same input every run
				j.sub = append(j.sub, byFactPkg[pkg]...)
			}
		}
		jobs = append(jobs, j)
	}
	sort.SliceStable(jobs, func(a, b int) bool { return len(jobs[a].sub) > len(jobs[b].sub) })
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(repoWorkers, len(jobs)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := int(next.Add(1)) - 1; i < len(jobs) && ctx.Err() == nil; i = int(next.Add(1)) - 1 {
				j := jobs[i]
				in, err := facts.Input(j.sub, complete)
				if err != nil {
					j.err = err
					continue
				}
				res, err := e.evalRules(ctx, in, j.g.packages)
				if err != nil {
					j.err = fmt.Errorf("evaluate the repo pass: %w", err)
					continue
				}
				j.res = res.Violations
			}
		}()
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return Result{}, err
	}
	byPkg := map[string][]Violation{}
	for _, j := range jobs {
		if j.err != nil {
			return Result{}, j.err
		}
		for _, v := range j.res {
			byPkg[v.Rule.Package] = append(byPkg[v.Rule.Package], v)
		}
	}
	var out Result
	for _, o := range e.all.outputs {
		if !o.fact && !o.rule.Disabled {
			out.Violations = append(out.Violations, byPkg[o.rule.Package]...)
			delete(byPkg, o.rule.Package)
		}
	}
	// a violation of a package all does not name cannot happen; keep it rather than lose it
	rest := make([]string, 0, len(byPkg))
	for p := range byPkg {
		rest = append(rest, p)
	}
	slices.Sort(rest)
	for _, p := range rest {
		out.Violations = append(out.Violations, byPkg[p]...)
	}
	return out, nil
}
