// Package engine compiles the Rego rules once and evaluates them against one input at a time.
// The CLI and the admission webhook both call it; no rule logic lives in Go.
package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/metrics"
	"github.com/open-policy-agent/opa/v1/storage"
	"github.com/open-policy-agent/opa/v1/storage/inmem"
	"github.com/open-policy-agent/opa/v1/topdown"

	"github.com/openova-io/ova-lint/linter/config"
	"github.com/openova-io/ova-lint/linter/finding"
	"github.com/openova-io/ova-lint/linter/schema"
	"github.com/openova-io/ova-lint/policies"
)

// rulesPrefix is the data path under which every rule package lives.
const rulesPrefix = "data.ova.rules."

// Options configures an Engine.
type Options struct {
	// PolicyDirs are extra directories of Rego rules (same contract as the embedded ones).
	PolicyDirs []string
	// Config supplies data.ova.params and per-rule overrides; nil means the defaults.
	Config *config.Config
	// Lazy defers compiling the rules to the first evaluation: New reads only the rules'
	// METADATA (the catalogue), so a run whose results all come from a cache never compiles
	// them. A rule that does not compile is then an error of that evaluation, not of New.
	Lazy bool
}

// Engine evaluates the compiled rules. It is safe for concurrent use.
type Engine struct {
	byPackage map[string]*Rule
	rules     []*Rule

	// ready compiles the rules and prepares the queries on its first call: in New, or, with
	// Options.Lazy, on the first evaluation. prepared says it has returned.
	ready    func() (*compiled, error)
	prepared atomic.Bool
}

// compiled is what evaluation needs: the compiled rules and their prepared queries.
type compiled struct {
	// all evaluates every rule (repo pass, syntax errors, inputs without an object).
	all query
	// selected holds the query of each (kind, producer) class: the rules whose custom.kinds
	// and custom.producers admit it (absent: every kind or producer). kinds and producers
	// number the kinds and producers some rule names; any other is class 0. A rule that
	// declares an empty kinds list runs only in all.
	selected  [][]query
	kinds     map[string]int
	producers map[string]int
	byPackage map[string]*Rule
	// sets are the rule packages' compiled violation and fact sets (setsOf).
	sets ruleSets

	// compiler and store evaluate the queries and prepare those of EvalRules on first use;
	// subsets keeps them.
	compiler *ast.Compiler
	store    storage.Store
	subsets  subsetQueries

	// repo groups the rule packages by the facts they read, for EvalRepo.
	repo []repoGroup

	// data is the store's whole data as an evaluation reads it (dataCache).
	data dataCache

	// vcaches keep the evaluations' virtual-document caches from one evaluation to the next.
	vcaches vcachePool

	// keys are the input's keys queryFor reads, made once: OPA interns few strings, and
	// making each key per evaluation cost 8 allocations of 75 for a ConfigMap.
	keys inputKeys
	// vkeys are the fields of a violation object the results are read by.
	vkeys violationKeys
}

// inputKeys are the keys of the input that pick an evaluation's query.
type inputKeys struct {
	object, parse, renderError, origin, kind, producer *ast.Term
}

func newInputKeys() inputKeys {
	return inputKeys{
		object: ast.StringTerm("object"), parse: ast.StringTerm("parse"), renderError: ast.StringTerm("render_error"),
		origin: ast.StringTerm("origin"), kind: ast.StringTerm("kind"), producer: ast.StringTerm("producer"),
	}
}

// query is a compiled query and the bindings it produces, evaluated by OPA's topdown evaluator
// directly (see compiled.eval).
type query struct {
	body     ast.Body
	compiled ast.QueryCompiler
	outputs  []output
}

// output is one binding of the query: a rule package's violation or fact set.
type output struct {
	variable string
	rule     *Rule
	fact     bool
}

// buildQuery names every rule package's violation and fact sets directly, one query expression
// each, so evaluation goes straight to each rule (and its kind index) instead of enumerating
// the data tree.
//
// An object query (objects: an input with input.object and no input.repo) leaves out the
// violation sets whose every body starts by testing input.repo: they are the repo pass's, and
// each set asked for costs an evaluation even when no body applies.
func buildQuery(sets ruleSets, rules []*Rule, include func(*Rule) bool, objects bool) (string, []output) {
	var exprs []string
	var outs []output
	for _, r := range rules {
		if !include(r) {
			continue
		}
		for _, set := range []string{"violation", "fact"} {
			ref := rulesPrefix + r.Package + "." + set
			rs, ok := sets[ref]
			if !ok || (objects && rs.repoOnly) {
				continue
			}
			v := fmt.Sprintf("%s_%d", set, len(outs))
			exprs = append(exprs, v+" = "+ref)
			outs = append(outs, output{variable: v, rule: r, fact: set == "fact"})
		}
	}
	if len(exprs) == 0 {
		exprs = append(exprs, "true")
	}
	return strings.Join(exprs, "; "), outs
}

// ruleSets holds, by reference (data.ova.rules.<package>.violation or .fact), what buildQuery
// asks of each rule package's compiled sets: looked up once per engine, not once per query.
type ruleSets map[string]struct {
	repoOnly bool // repoPassOnly
}

// setsOf looks up the violation and fact sets of rules in compiler.
func setsOf(compiler *ast.Compiler, rules []*Rule) ruleSets {
	out := ruleSets{}
	for _, r := range rules {
		for _, set := range []string{"violation", "fact"} {
			ref := rulesPrefix + r.Package + "." + set
			if compiled := compiler.GetRulesExact(ast.MustParseRef(ref)); len(compiled) > 0 {
				out[ref] = struct{ repoOnly bool }{repoPassOnly(compiled)}
			}
		}
	}
	return out
}

// repoPassOnly reports whether every body of rules (else branches included) starts with an
// expression that reads input.repo, which only the repo pass's input has.
func repoPassOnly(rules []*ast.Rule) bool {
	for _, r := range rules {
		for ; r != nil; r = r.Else {
			if len(r.Body) == 0 || !readsRepo(r.Body[0]) {
				return false
			}
		}
	}
	return true
}

// repoRef is input.repo.
var repoRef = ast.MustParseRef("input.repo")

// readsRepo reports whether expr is input.repo or a path below it, tested for truth.
func readsRepo(expr *ast.Expr) bool {
	if expr.Negated || len(expr.With) > 0 {
		return false
	}
	t, ok := expr.Terms.(*ast.Term)
	if !ok {
		return false
	}
	ref, ok := t.Value.(ast.Ref)
	return ok && ref.HasPrefix(repoRef)
}

// prepare builds and prepares the query over the rules that include selects; objects says the
// query only ever sees object inputs (see buildQuery).
func (e *compiled) prepare(rules []*Rule, include func(*Rule) bool, objects bool) (query, error) {
	text, outputs := buildQuery(e.sets, rules, include, objects)
	q, err := e.compileQuery(text, outputs)
	if err != nil {
		return query{}, fmt.Errorf("prepare policy query: %w", err)
	}
	return q, nil
}

// compileQuery compiles text, a conjunction of "variable = data.ova.rules.<package>.<set>"
// expressions (buildQuery, buildViolationQuery), against e.compiler: what rego.PrepareForEval
// does for such a query (no package, imports, captured expressions or print statements).
func (e *compiled) compileQuery(text string, outputs []output) (query, error) {
	parsed, err := ast.ParseBody(text)
	if err != nil {
		return query{}, err
	}
	qc := e.compiler.QueryCompiler().WithEnablePrintStatements(false)
	body, err := qc.Compile(parsed)
	if err != nil {
		return query{}, err
	}
	return query{body: body, compiled: qc, outputs: outputs}, nil
}

// New reads the catalogue of the embedded rules plus opts.PolicyDirs, then compiles them and
// prepares the queries (on the first evaluation with opts.Lazy).
func New(ctx context.Context, opts Options) (*Engine, error) {
	cfg := opts.Config
	if cfg == nil {
		var err error
		if cfg, err = config.Default(); err != nil {
			return nil, err
		}
	}
	headers, set, err := headerAnnotations(opts.PolicyDirs)
	if err != nil {
		return nil, err
	}
	rules, err := catalog(set, headers, cfg)
	if err != nil {
		return nil, err
	}
	e := &Engine{byPackage: map[string]*Rule{}, rules: rules}
	for _, r := range rules {
		e.byPackage[r.Package] = r
	}
	e.ready = sync.OnceValues(func() (*compiled, error) {
		defer e.prepared.Store(true)
		return compile(opts.PolicyDirs, cfg, rules, e.byPackage)
	})
	if !opts.Lazy {
		if _, err := e.ready(); err != nil {
			return nil, err
		}
	}
	return e, nil
}

// Prepare compiles the rules now, if they are not yet (see Options.Lazy).
func (e *Engine) Prepare() error {
	_, err := e.ready()
	return err
}

// Prepared reports, without waiting, whether the rules are compiled (or failed to): an
// evaluation would not wait for them.
func (e *Engine) Prepared() bool { return e.prepared.Load() }

// compile compiles the embedded rules plus policyDirs and prepares the queries of rules.
func compile(policyDirs []string, cfg *config.Config, rules []*Rule, byPackage map[string]*Rule) (*compiled, error) {
	modules, err := LoadModules(false, policyDirs...)
	if err != nil {
		return nil, err
	}
	compiler := ast.NewCompiler().WithEnablePrintStatements(false)
	if compiler.Compile(modules); compiler.Failed() {
		return nil, fmt.Errorf("compile policies: %w", compiler.Errors)
	}
	apis, err := schema.APIs() // data.ova.apis: the catalogue's API deprecation data
	if err != nil {
		return nil, err
	}
	store := inmem.NewFromObjectWithOpts(map[string]any{"ova": map[string]any{"params": cfg.Params, "apis": apis}}, inmem.OptReturnASTValuesOnRead(true))
	c := &compiled{compiler: compiler, store: store, byPackage: byPackage, keys: newInputKeys(), vkeys: newViolationKeys()}
	if c.data, err = readData(store); err != nil {
		return nil, err
	}
	c.sets = setsOf(compiler, rules)
	if c.all, err = c.prepare(rules, func(*Rule) bool { return true }, false); err != nil {
		return nil, err
	}
	if err := c.prepareSelected(rules); err != nil {
		return nil, err
	}
	c.repo = repoGroups(compiler, rules)
	return c, nil
}

// readData reads the whole of the store's data, as an evaluation's reads see it.
func readData(store storage.Store) (dataCache, error) {
	ctx := context.Background()
	txn, err := store.NewTransaction(ctx)
	if err != nil {
		return dataCache{}, fmt.Errorf("read data: %w", err)
	}
	defer store.Abort(ctx, txn)
	raw, err := store.Read(ctx, txn, storage.Path{})
	if err != nil {
		return dataCache{}, fmt.Errorf("read data: %w", err)
	}
	v, ok := raw.(ast.Value)
	if !ok {
		if v, err = ast.InterfaceToValue(raw); err != nil {
			return dataCache{}, fmt.Errorf("read data: %w", err)
		}
	}
	return dataCache{data: v}, nil
}

// prepareSelected prepares one query per (kind, producer) class; classes that select the same
// rules share one prepared query.
func (e *compiled) prepareSelected(rules []*Rule) error {
	kindNames, prodNames := []string{""}, []string{""} // index 0: any other kind / producer
	e.kinds, e.producers = map[string]int{}, map[string]int{}
	for _, r := range rules {
		for _, k := range r.Kinds {
			if _, ok := e.kinds[k]; !ok {
				e.kinds[k] = len(kindNames)
				kindNames = append(kindNames, k)
			}
		}
		for _, p := range r.Producers {
			if _, ok := e.producers[p]; !ok {
				e.producers[p] = len(prodNames)
				prodNames = append(prodNames, p)
			}
		}
	}
	shared := map[string]query{}
	e.selected = make([][]query, len(kindNames))
	for ki := range kindNames {
		e.selected[ki] = make([]query, len(prodNames))
		for pi := range prodNames {
			include := func(r *Rule) bool {
				kindOK := r.Kinds == nil || (ki > 0 && slices.Contains(r.Kinds, kindNames[ki]))
				prodOK := r.Producers == nil || (pi > 0 && slices.Contains(r.Producers, prodNames[pi]))
				return kindOK && prodOK
			}
			var key strings.Builder
			for _, r := range rules {
				if include(r) {
					key.WriteString(r.Package + ",")
				}
			}
			q, ok := shared[key.String()]
			if !ok {
				var err error
				if q, err = e.prepare(rules, include, true); err != nil {
					return err
				}
				shared[key.String()] = q
			}
			e.selected[ki][pi] = q
		}
	}
	return nil
}

// Rules returns the catalogue, sorted by id, disabled rules included.
func (e *Engine) Rules() []*Rule { return e.rules }

// Rule returns the rule with the given id, or nil.
func (e *Engine) Rule(id string) *Rule {
	for _, r := range e.rules {
		if r.ID == id {
			return r
		}
	}
	return nil
}

// Violation is one rule's verdict on one input, before it is placed in a file.
type Violation struct {
	Rule *Rule
	// Path is the field path inside the object the violation is about (mapping keys and indexes).
	Path []any
	// Line and Column, when not zero, are an explicit position (syntax rules, or the location
	// of the fact a repo-scope violation is about).
	Line, Column int
	// At is the location of the fact a repo-scope violation is about.
	At map[string]any
	// Message says what is wrong; Fix what to do.
	Message, Fix string
	// File, when set, is the repository-relative file the violation is about, when that is not
	// the object's own (a rendered Secret's value traced to values.yaml).
	File string
	// Severity, when set, overrides the rule's for this violation (a render rule's info case).
	Severity string
	// Edits make the fix mechanical: the violation's "edit" (one object or a list), each
	// {"path": [...], "value": v} or {"path": [...], "remove": true}, paths from the document
	// root. Empty when the rule returned none or the edit is malformed.
	Edits []Edit
}

// Edit is one field change of a mechanical fix (see finding.Edit).
type Edit = finding.Edit

// Fact is a piece of information a repo-scope rule collected from one object: the rule
// package that collected it and the fact as the rule made it. Its "path" names the field it is
// about; the caller adds the location under "at" before the repo pass. It stays an OPA value:
// the linter encodes it for the repo pass without making Go maps of it (facts.EncodeLocated).
type Fact struct {
	Pkg   string
	Value ast.Object
}

// Map returns the fact as plain Go values, as rego converts results, with its "pkg".
func (f Fact) Map() (map[string]any, error) {
	v, err := ast.JSONWithOpt(f.Value, ast.JSONOpt{})
	if err != nil {
		return nil, fmt.Errorf("fact of %s: %w", f.Pkg, err)
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("fact of %s: not an object", f.Pkg)
	}
	m["pkg"] = f.Pkg
	return m, nil
}

// Result is the outcome of evaluating one input.
type Result struct {
	Violations []Violation
	Facts      []Fact
}

// Eval evaluates every rule against input (an object built with input.ObjectInput, or a repo
// pass input built with facts.Input: EvalRepo evaluates the repo pass with less memory).
func (e *Engine) Eval(ctx context.Context, input ast.Value) (Result, error) {
	c, err := e.ready()
	if err != nil {
		return Result{}, err
	}
	res, err := c.eval(ctx, c.queryFor(input), input)
	if err != nil {
		return Result{}, fmt.Errorf("evaluate policies: %w", err)
	}
	return res, nil
}

// eval evaluates q against input: the violations of its enabled rules and the facts it names.
//
// It runs OPA's topdown evaluator as rego.PreparedEvalQuery.Eval does, without what that adds
// per evaluation and nothing here reads: a goroutine to watch ctx (context.AfterFunc cancels
// instead), an evaluation context, a metrics registry (no metrics are recorded), and every
// binding converted to Go values (only the named outputs are, as rego converts them).
func (e *compiled) eval(ctx context.Context, q query, input ast.Value) (Result, error) {
	txn, err := e.store.NewTransaction(ctx)
	if err != nil {
		return Result{}, err
	}
	defer e.store.Abort(ctx, txn)
	cancel := topdown.NewCancel()
	stop := context.AfterFunc(ctx, cancel.Cancel)
	defer stop()
	vc := e.vcaches.get()
	defer e.vcaches.put(vc)
	var first topdown.QueryResult
	err = topdown.NewQuery(q.body).
		WithVirtualCache(vc).
		WithBaseCache(e.data).
		WithQueryCompiler(q.compiled).
		WithCompiler(e.compiler).
		WithStore(e.store).
		WithTransaction(txn).
		WithInput(ast.NewTerm(input)).
		WithMetrics(metrics.NoOp()).
		WithCancel(cancel).
		Iter(ctx, func(qr topdown.QueryResult) error {
			if first == nil {
				first = qr
			}
			return nil
		})
	if err != nil {
		return Result{}, err
	}
	var res Result
	if first == nil {
		return res, nil
	}
	for _, o := range q.outputs {
		t := first[ast.Var(o.variable)]
		if o.fact {
			if t != nil {
				res.Facts = appendFacts(res.Facts, o.rule.Package, t.Value)
			}
			continue
		}
		if t == nil || o.rule.Disabled || empty(t.Value) {
			continue
		}
		if res.Violations, err = appendViolations(res.Violations, &e.vkeys, o.rule, t.Value); err != nil {
			return Result{}, fmt.Errorf("read %s: %w", o.variable, err)
		}
	}
	return res, nil
}

// appendViolations appends the violations of rule in v, its violation set (or list), in the
// order ast.JSON lists them. Each violation object's fields are read from the OPA value
// directly; only "at" and "edit" are converted to Go values, as rego's results have them.
func appendViolations(vs []Violation, k *violationKeys, rule *Rule, v ast.Value) ([]Violation, error) {
	add := func(t *ast.Term) error {
		o, ok := t.Value.(ast.Object)
		if !ok {
			return nil
		}
		viol, err := toViolation(k, rule, o)
		if err != nil {
			return err
		}
		vs = append(vs, viol)
		return nil
	}
	err := eachElem(v, add)
	return vs, err
}

// eachElem calls f on each element of v, a set (in the order ast.JSON lists them) or an array,
// until f fails; any other value has none.
func eachElem(v ast.Value, f func(*ast.Term) error) error {
	switch c := v.(type) {
	case ast.Set:
		return c.Iter(f)
	case *ast.Array:
		for i := range c.Len() {
			if err := f(c.Elem(i)); err != nil {
				return err
			}
		}
	}
	return nil
}

// appendFacts appends the objects of a fact set (or list) as facts of pkg, in the order
// ast.JSON lists them.
func appendFacts(fs []Fact, pkg string, v ast.Value) []Fact {
	add := func(t *ast.Term) error {
		if o, ok := t.Value.(ast.Object); ok {
			fs = append(fs, Fact{Pkg: pkg, Value: o})
		}
		return nil
	}
	_ = eachElem(v, add) // add never fails
	return fs
}

// empty reports whether v is an empty set or array: nothing to convert.
func empty(v ast.Value) bool {
	switch c := v.(type) {
	case ast.Set:
		return c.Len() == 0
	case *ast.Array:
		return c.Len() == 0
	}
	return false
}

// queryFor picks the query for an input: by the kind of input.object ("" when it has none) and
// the producer of input.origin, or every rule when the input has no object (the repo pass, a
// file that did not parse) or carries loader diagnostics (input.parse: duplicate keys).
func (e *compiled) queryFor(input ast.Value) query {
	obj, ok := input.(ast.Object)
	if !ok {
		return e.all
	}
	k := &e.keys
	o := obj.Get(k.object)
	if o == nil || obj.Get(k.parse) != nil || obj.Get(k.renderError) != nil {
		return e.all
	}
	kind, _ := stringAt(o.Value, k.kind) // "" when absent (Chart.yaml): the rules that name ""
	ki := e.kinds[kind]
	pi := 0
	if origin := obj.Get(k.origin); origin != nil {
		if p, ok := stringAt(origin.Value, k.producer); ok {
			pi = e.producers[p]
		}
	}
	return e.selected[ki][pi]
}

// stringAt returns the string under key of an object value.
func stringAt(v ast.Value, key *ast.Term) (string, bool) {
	oo, ok := v.(ast.Object)
	if !ok {
		return "", false
	}
	t := oo.Get(key)
	if t == nil {
		return "", false
	}
	s, ok := t.Value.(ast.String)
	return string(s), ok
}

// violationKeys are the fields of a violation object toViolation reads, made once per engine.
type violationKeys struct {
	msg, fix, file, severity, path, at, line, column, edit *ast.Term
}

func newViolationKeys() violationKeys {
	return violationKeys{
		ast.StringTerm("msg"), ast.StringTerm("fix"), ast.StringTerm("file"), ast.StringTerm("severity"),
		ast.StringTerm("path"), ast.StringTerm("at"), ast.StringTerm("line"), ast.StringTerm("column"),
		ast.StringTerm("edit"),
	}
}

// toViolation reads one violation object of rule: what its fields are as Go values (ast.JSON)
// is what the Violation holds.
func toViolation(k *violationKeys, rule *Rule, v ast.Object) (Violation, error) {
	out := Violation{Rule: rule}
	out.Message, _ = stringAt(v, k.msg)
	out.Fix, _ = stringAt(v, k.fix)
	out.File, _ = stringAt(v, k.file)
	if s, ok := stringAt(v, k.severity); ok && rule.Severity != "" {
		out.Severity = s
	}
	if t := v.Get(k.path); t != nil {
		p, err := pathOf(t.Value)
		if err != nil {
			return Violation{}, err
		}
		out.Path = p
	}
	if t := v.Get(k.at); t != nil {
		if _, ok := t.Value.(ast.Object); ok {
			at, err := ast.JSON(t.Value)
			if err != nil {
				return Violation{}, err
			}
			out.At, _ = at.(map[string]any)
		}
	}
	out.Line = numberAt(v, k.line)
	out.Column = numberAt(v, k.column)
	if t := v.Get(k.edit); t != nil {
		edit, err := ast.JSON(t.Value)
		if err != nil {
			return Violation{}, err
		}
		out.Edits = toEdits(edit)
	}
	if out.Line == 0 && out.At != nil {
		// a repo-scope violation is placed where its fact was found
		out.Line, out.Column = toInt(out.At["line"]), toInt(out.At["column"])
	}
	return out, nil
}

// pathOf is a violation's path as ast.JSON makes it ([]any of strings and json.Numbers), read
// directly when it is an array of strings and numbers; nil when it is not a list.
func pathOf(v ast.Value) ([]any, error) {
	if a, ok := v.(*ast.Array); ok {
		out := make([]any, a.Len())
		direct := true
		for i := 0; i < a.Len() && direct; i++ {
			switch e := a.Elem(i).Value.(type) {
			case ast.String:
				out[i] = string(e)
			case ast.Number:
				out[i] = json.Number(e)
			default:
				direct = false
			}
		}
		if direct {
			return out, nil
		}
	}
	x, err := ast.JSON(v)
	if err != nil {
		return nil, err
	}
	p, _ := x.([]any)
	return p, nil
}

// numberAt is the integer at key of v, 0 when it is absent or not a number (toInt).
func numberAt(v ast.Object, key *ast.Term) int {
	if t := v.Get(key); t != nil {
		if n, ok := t.Value.(ast.Number); ok {
			return toInt(json.Number(n))
		}
	}
	return 0
}

// toEdits reads a violation's "edit": one edit object or a list of them. A malformed edit makes
// the whole fix non-mechanical (nil), rather than half of it applied.
func toEdits(x any) []Edit {
	var items []any
	switch e := x.(type) {
	case nil:
		return nil
	case map[string]any:
		items = []any{e}
	case []any:
		items = e
	default:
		return nil
	}
	out := make([]Edit, 0, len(items))
	for _, it := range items {
		m, ok := it.(map[string]any)
		if !ok {
			return nil
		}
		raw, ok := m["path"].([]any)
		if !ok || len(raw) == 0 {
			return nil
		}
		path := make([]any, len(raw))
		for i, p := range raw {
			switch k := p.(type) {
			case string:
				path[i] = k
			default:
				n, ok := toIndex(k)
				if !ok {
					return nil
				}
				path[i] = n
			}
		}
		ed := Edit{Path: path}
		if rm, _ := m["remove"].(bool); rm {
			ed.Remove = true
		} else if v, ok := m["value"]; ok {
			ed.Value = plain(v)
		} else {
			return nil
		}
		out = append(out, ed)
	}
	return out
}

// toIndex reads a sequence index of an edit path.
func toIndex(x any) (int, bool) {
	switch n := x.(type) {
	case int:
		return n, n >= 0
	case float64:
		return int(n), n >= 0 && n == float64(int(n))
	case interface{ Int64() (int64, error) }:
		i, err := n.Int64()
		return int(i), err == nil && i >= 0
	}
	return 0, false
}

// plain turns a value from Rego into plain Go values: json.Number into int64 or float64.
func plain(x any) any {
	switch v := x.(type) {
	case interface {
		Int64() (int64, error)
		Float64() (float64, error)
	}:
		if i, err := v.Int64(); err == nil {
			return i
		}
		f, _ := v.Float64()
		return f
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = plain(e)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, e := range v {
			out[k] = plain(e)
		}
		return out
	}
	return x
}

func toInt(x any) int {
	switch n := x.(type) {
	case float64:
		return int(n)
	case int:
		return n
	case int64:
		return int(n)
	case interface{ Int64() (int64, error) }:
		i, _ := n.Int64()
		return int(i)
	}
	return 0
}

// walkPolicies calls parse with the name and source of every .rego file: the embedded policies
// (named policies/<path>) and those under dirs.
func walkPolicies(dirs []string, parse func(name string, src []byte) error) error {
	err := fs.WalkDir(policies.FS, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".rego") {
			return err
		}
		src, err := policies.FS.ReadFile(p)
		if err != nil {
			return err
		}
		return parse("policies/"+p, src)
	})
	if err != nil {
		return fmt.Errorf("embedded policies: %w", err)
	}
	for _, dir := range dirs {
		err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(p, ".rego") {
				return err
			}
			src, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			return parse(p, src)
		})
		if err != nil {
			return fmt.Errorf("policy directory %s: %w", dir, err)
		}
	}
	return nil
}

// LoadModules parses the embedded policies and the .rego files under dirs. Test files
// (*_test.rego) are included only when withTests is set.
func LoadModules(withTests bool, dirs ...string) (map[string]*ast.Module, error) {
	modules := map[string]*ast.Module{}
	parse := func(name string, src []byte) error {
		if strings.HasSuffix(name, "_test.rego") && !withTests {
			return nil
		}
		m, err := ast.ParseModuleWithOpts(name, string(src), ast.ParserOptions{ProcessAnnotation: true, RegoVersion: ast.RegoV1})
		if err != nil {
			return fmt.Errorf("parse policy: %w", err)
		}
		modules[name] = m
		return nil
	}
	if err := walkPolicies(dirs, parse); err != nil {
		return nil, err
	}
	return modules, nil
}

// catalog reads every rule package's METADATA (set, of modules) into a Rule.
func catalog(set *ast.AnnotationSet, modules []*ast.Module, cfg *config.Config) ([]*Rule, error) {
	var rules []*Rule
	seen := map[string]string{}
	var errs []error
	for _, ref := range set.Flatten() {
		a := ref.Annotations
		if a == nil || a.Scope != "package" {
			continue
		}
		pkgPath := ref.Path.String()
		if !strings.HasPrefix(pkgPath, rulesPrefix) {
			continue
		}
		pkg := strings.TrimPrefix(pkgPath, rulesPrefix)
		if strings.Contains(pkg, ".") {
			continue // nested helper packages are not rules
		}
		r, err := ruleFromAnnotations(pkg, a, cfg.Params)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s (%s): %w", pkgPath, ref.Location, err))
			continue
		}
		if other, dup := seen[r.ID]; dup {
			errs = append(errs, fmt.Errorf("rule id %q is declared by both %s and %s", r.ID, other, pkgPath))
			continue
		}
		seen[r.ID] = pkgPath
		if o, ok := cfg.Rules[r.ID]; ok {
			if o.Severity != "" {
				r.Severity = o.Severity
			}
			r.Disabled = o.Disabled
		}
		rules = append(rules, r)
	}
	// every package under data.ova.rules must be a described rule
	for _, m := range modules {
		p := m.Package.Path.String()
		if strings.HasPrefix(p, rulesPrefix) && !strings.HasSuffix(p, "_test") && !strings.Contains(strings.TrimPrefix(p, rulesPrefix), ".") {
			if _, ok := seen[ruleIDOf(rules, strings.TrimPrefix(p, rulesPrefix))]; !ok {
				errs = append(errs, fmt.Errorf("%s: a rule package needs a package-scoped # METADATA block with custom.id", p))
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("rule catalogue: %w", err)
	}
	sort.Slice(rules, func(i, j int) bool { return rules[i].ID < rules[j].ID })
	return rules, nil
}

func ruleIDOf(rules []*Rule, pkg string) string {
	for _, r := range rules {
		if r.Package == pkg {
			return r.ID
		}
	}
	return ""
}

// maxSubsetQueries bounds the prepared queries EvalRules keeps: one per distinct set of rule
// packages asked for. The sets are the error rules one object broke, so few are ever seen; past
// the bound a new set is prepared for its call and not kept.
const maxSubsetQueries = 256

// subsetQueries holds the prepared queries of EvalRules, by the packages they evaluate.
type subsetQueries struct {
	mu sync.Mutex
	m  map[string]query
}

// EvalRules evaluates only the violation sets of the named rule packages (Rule.Package) against
// input: the violations Eval reports for input, restricted to those packages. A package that is
// not a rule, or that Eval would not evaluate for this input (its custom.kinds or
// custom.producers leave the input out), yields nothing. Facts are not collected.
//
// The query of each distinct set of packages is prepared on first use and kept by the Engine
// (at most maxSubsetQueries of them).
func (e *Engine) EvalRules(ctx context.Context, input ast.Value, packages []string) (Result, error) {
	c, err := e.ready()
	if err != nil {
		return Result{}, err
	}
	return c.evalRules(ctx, input, packages)
}

func (e *compiled) evalRules(ctx context.Context, input ast.Value, packages []string) (Result, error) {
	// The packages Eval would evaluate for this input, in catalogue order: the same violations
	// in the same order as Eval's.
	selected := e.queryFor(input)
	var pkgs []string
	for _, o := range selected.outputs {
		if !o.fact && slices.Contains(packages, o.rule.Package) {
			pkgs = append(pkgs, o.rule.Package)
		}
	}
	if len(pkgs) == 0 {
		return Result{}, nil
	}
	q, err := e.subsetQuery(pkgs)
	if err != nil {
		return Result{}, err
	}
	res, err := e.eval(ctx, q, input) // a subset query names violation sets only: no facts
	if err != nil {
		return Result{}, fmt.Errorf("evaluate policies %s: %w", strings.Join(pkgs, ", "), err)
	}
	return res, nil
}

// subsetQuery returns the prepared query of the violation sets of pkgs (rule packages, in
// catalogue order), preparing it on first use.
func (e *compiled) subsetQuery(pkgs []string) (query, error) {
	key := strings.Join(pkgs, ",")
	e.subsets.mu.Lock()
	q, ok := e.subsets.m[key]
	e.subsets.mu.Unlock()
	if ok {
		return q, nil
	}
	// Prepared outside the lock: two first uses of one set may both prepare it; either query
	// is the same.
	text, outputs := buildViolationQuery(e.sets, pkgs, e.byPackage)
	q, err := e.compileQuery(text, outputs)
	if err != nil {
		return query{}, fmt.Errorf("prepare policy query for %s: %w", key, err)
	}
	e.subsets.mu.Lock()
	defer e.subsets.mu.Unlock()
	if e.subsets.m == nil {
		e.subsets.m = map[string]query{}
	}
	if len(e.subsets.m) < maxSubsetQueries {
		e.subsets.m[key] = q
	}
	return q, nil
}

// buildViolationQuery names the violation set of each package of pkgs, as buildQuery does.
func buildViolationQuery(sets ruleSets, pkgs []string, byPackage map[string]*Rule) (string, []output) {
	var exprs []string
	var outs []output
	for _, pkg := range pkgs {
		r := byPackage[pkg]
		ref := rulesPrefix + pkg + ".violation"
		if _, ok := sets[ref]; r == nil || !ok {
			continue
		}
		v := fmt.Sprintf("violation_%d", len(outs))
		exprs = append(exprs, v+" = "+ref)
		outs = append(outs, output{variable: v, rule: r})
	}
	if len(exprs) == 0 {
		exprs = append(exprs, "true")
	}
	return strings.Join(exprs, "; "), outs
}
