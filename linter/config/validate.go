package config

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/Masterminds/semver/v3"
	jsonschema "github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
	yamlv3 "gopkg.in/yaml.v3"
	"sigs.k8s.io/yaml"
)

// Problem is one fault of a configuration file: the key's path, where the key is, what is
// wrong with it and, when one is near, the key or rule id probably meant.
type Problem struct {
	// Path is the key's path in the configuration ("params.gitea.url_pattern", "waivers[0].reason").
	Path string `json:"path"`
	// File, Line and Column place the key (Line is 0 when the key is not in the file).
	File   string `json:"file,omitempty"`
	Line   int    `json:"line,omitempty"`
	Column int    `json:"column,omitempty"`
	// Message says what is wrong.
	Message string `json:"message"`
	// Suggestion is the nearest known key or rule id, or a hint ("quote it").
	Suggestion string `json:"suggestion,omitempty"`
}

// String renders the problem as file:line:column: path: message; suggestion.
func (p Problem) String() string {
	var b strings.Builder
	if p.File != "" {
		b.WriteString(p.File)
		if p.Line > 0 {
			fmt.Fprintf(&b, ":%d:%d", p.Line, p.Column)
		}
		b.WriteString(": ")
	}
	if p.Path != "" {
		b.WriteString(p.Path + ": ")
	}
	b.WriteString(p.Message)
	if p.Suggestion != "" {
		b.WriteString("; " + p.Suggestion)
	}
	return b.String()
}

// Error is an invalid configuration: every problem found, in file order.
type Error struct {
	File     string
	Problems []Problem
}

func (e *Error) Error() string {
	var b strings.Builder
	where := e.File
	if where == "" {
		where = "document"
	}
	n := "1 problem"
	if len(e.Problems) != 1 {
		n = fmt.Sprintf("%d problems", len(e.Problems))
	}
	fmt.Fprintf(&b, "invalid configuration %s (%s):", where, n)
	for _, p := range e.Problems {
		b.WriteString("\n  " + p.String())
	}
	return b.String()
}

// Check validates the configuration document raw (the user's file, before it is merged over the
// defaults) against the structure of a configuration and, when cat is not nil, against the rule
// catalogue: every id under rules: names a rule, every key under params: is a declared parameter
// whose value fits its schema. file names the document in problems. It returns an *Error
// listing every problem, or nil.
func Check(raw []byte, file string, cat *Catalogue) error {
	var root yamlv3.Node
	if err := yamlv3.Unmarshal(raw, &root); err != nil {
		return &Error{File: file, Problems: []Problem{yamlProblem(file, err)}}
	}
	js, err := yaml.YAMLToJSON(raw)
	if err != nil {
		return &Error{File: file, Problems: []Problem{yamlProblem(file, err)}}
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(js))
	if err != nil {
		return &Error{File: file, Problems: []Problem{{File: file, Message: err.Error()}}}
	}
	s, err := structural()
	if cat != nil {
		s, err = newSchema(cat)
	}
	if err != nil {
		return fmt.Errorf("configuration schema: %w", err)
	}
	c := checker{schema: s, cat: cat, doc: doc, root: &root, file: file}
	c.duplicates(&root, nil)
	if doc != nil { // nil: an empty file, the defaults
		if verr := s.compiled.Validate(doc); verr != nil {
			var ve *jsonschema.ValidationError
			if !errors.As(verr, &ve) {
				return fmt.Errorf("validate configuration: %w", verr)
			}
			c.walk(ve)
		}
	}
	if len(c.problems) == 0 {
		return nil
	}
	probs := dedupe(c.problems)
	sort.SliceStable(probs, func(i, j int) bool {
		if probs[i].Line != probs[j].Line {
			return probs[i].Line < probs[j].Line
		}
		return probs[i].Path < probs[j].Path
	})
	return &Error{File: file, Problems: probs}
}

// schema is the compiled schema of a configuration and the schema document it was built from.
type schema struct {
	doc      map[string]any
	compiled *jsonschema.Schema
}

// fluxDuration is the pattern of a Flux interval or timeout (the CRDs' own).
var fluxDuration = regexp.MustCompile(`^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$`)

// formats are the string formats parameters may declare.
var formats = []*jsonschema.Format{
	{Name: "regex", Validate: func(v any) error {
		s, ok := v.(string)
		if !ok {
			return nil
		}
		_, err := regexp.Compile(s) // RE2, as Rego's regex built-ins
		return err
	}},
	{Name: "duration", Validate: func(v any) error {
		s, ok := v.(string)
		if !ok {
			return nil
		}
		if !fluxDuration.MatchString(s) {
			return errors.New("want a Go duration such as 30s, 10m or 1h30m")
		}
		_, err := time.ParseDuration(s)
		return err
	}},
	{Name: "glob", Validate: func(v any) error {
		s, ok := v.(string)
		if !ok {
			return nil
		}
		return ValidateGlob(s)
	}},
	{Name: "semver", Validate: func(v any) error {
		s, ok := v.(string)
		if !ok {
			return nil
		}
		_, err := semver.NewVersion(s)
		return err
	}},
	{Name: "semver-range", Validate: func(v any) error {
		s, ok := v.(string)
		if !ok {
			return nil
		}
		_, err := semver.NewConstraint(s)
		return err
	}},
}

// structural is the schema without a catalogue (any rule id, any parameter), compiled once: a
// compiled schema is immutable and safe for concurrent use.
var structural = sync.OnceValues(func() (*schema, error) { return newSchema(nil) })

// newSchema builds and compiles the schema of a configuration for cat (nil: structure only).
func newSchema(cat *Catalogue) (*schema, error) {
	doc := schemaDoc(cat)
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.AssertFormat()
	for _, f := range formats {
		c.RegisterFormat(f)
	}
	c.UseLoader(noLoader{})
	const url = "urn:ova-lint:config.json"
	if err := c.AddResource(url, doc); err != nil {
		return nil, err
	}
	compiled, err := c.Compile(url)
	if err != nil {
		return nil, err
	}
	return &schema{doc: doc, compiled: compiled}, nil
}

// noLoader refuses every URL: the configuration schema refers to nothing outside itself.
type noLoader struct{}

func (noLoader) Load(url string) (any, error) {
	return nil, fmt.Errorf("refusing to load %s", url)
}

// SchemaDoc returns the JSON schema of a configuration file for cat (nil: structure only, any
// rule id and any parameter).
func SchemaDoc(cat *Catalogue) map[string]any { return schemaDoc(cat) }

func schemaDoc(cat *Catalogue) map[string]any {
	str := func() map[string]any { return map[string]any{"type": "string"} }
	glob := map[string]any{"type": "string", "format": "glob"}
	globs := map[string]any{"type": "array", "items": glob}
	nonBlank := map[string]any{"type": "string", "pattern": `\S`}
	object := func(props map[string]any, required ...string) map[string]any {
		o := map[string]any{"type": "object", "properties": props, "additionalProperties": false}
		if len(required) > 0 {
			req := make([]any, len(required))
			for i, r := range required {
				req[i] = r
			}
			o["required"] = req
		}
		return o
	}
	nullable := func(s map[string]any) map[string]any {
		out := map[string]any{}
		for k, v := range s {
			out[k] = v
		}
		out["type"] = []any{s["type"], "null"}
		return out
	}
	ruleConfig := object(map[string]any{
		"severity": map[string]any{"enum": []any{SeverityError, SeverityWarning, SeverityInfo}},
		"disabled": map[string]any{"type": "boolean"},
	})
	rules := map[string]any{"type": "object", "additionalProperties": ruleConfig}
	params := map[string]any{"type": "object"}
	if cat != nil {
		props := map[string]any{}
		for _, id := range cat.RuleIDs {
			props[id] = ruleConfig
		}
		rules = map[string]any{"type": "object", "properties": props, "additionalProperties": false}
		params = paramsSchema(cat)
	}
	environment := object(map[string]any{
		"name":       nonBlank,
		"paths":      globs,
		"labels":     map[string]any{"type": "object", "additionalProperties": str()},
		"namespaces": globs,
	}, "name")
	waiver := object(map[string]any{
		"path":   glob,
		"rules":  map[string]any{"type": "array", "items": str()},
		"reason": nonBlank,
		"until":  str(),
	}, "reason")
	return map[string]any{
		"$schema": "https://json-schema.org/draft/2020-12/schema",
		"type":    "object",
		"properties": map[string]any{
			"kubernetesVersion": nullable(str()),
			"fluxVersion":       nullable(str()),
			"exclude":           nullable(globs),
			"rules":             nullable(rules),
			"environments":      nullable(map[string]any{"type": "array", "items": environment}),
			"params":            nullable(params),
			"waivers":           nullable(map[string]any{"type": "array", "items": waiver}),
		},
		"additionalProperties": false,
	}
}

// paramsSchema nests the declared parameters into objects: every level is closed, so an unknown
// key is an error. A parameter that the default profile sets but no rule declares yet is
// accepted as it is (TestDefaultParamsDeclared fails on it instead).
func paramsSchema(cat *Catalogue) map[string]any {
	root := map[string]any{"type": "object", "properties": map[string]any{}, "additionalProperties": false}
	place := func(path string, s any) {
		node := root
		segs := strings.Split(path, ".")
		for _, seg := range segs[:len(segs)-1] {
			props := node["properties"].(map[string]any)
			next, ok := props[seg].(map[string]any)
			if !ok {
				next = map[string]any{"type": "object", "properties": map[string]any{}, "additionalProperties": false}
				props[seg] = next
			}
			node = next
		}
		node["properties"].(map[string]any)[segs[len(segs)-1]] = s
	}
	for p, s := range cat.Params {
		place(p, s)
	}
	if def, err := Default(); err == nil {
		for _, p := range cat.Undeclared(def.Params) {
			place(p, true)
		}
	}
	return root
}

// checker turns jsonschema's error tree into problems placed in the file.
type checker struct {
	schema   *schema
	cat      *Catalogue
	doc      any
	root     *yamlv3.Node
	file     string
	problems []Problem
}

var printer = message.NewPrinter(language.English)

func (c *checker) walk(e *jsonschema.ValidationError) {
	loc := e.InstanceLocation
	switch k := e.ErrorKind.(type) {
	case *kind.Schema, *kind.Reference, *kind.Group, *kind.AllOf:
		for _, cause := range e.Causes {
			c.walk(cause)
		}
	case *kind.AnyOf, *kind.OneOf:
		c.alternatives(e)
	case *kind.AdditionalProperties:
		for _, p := range k.Properties {
			c.unknown(loc, p)
		}
	case *kind.Required:
		for _, m := range k.Missing {
			c.add(loc, fmt.Sprintf("%q is required", m), "")
		}
	case *kind.Type:
		hint := ""
		if slices.Contains(k.Want, "string") && (k.Got == "number" || k.Got == "boolean") {
			hint = "quote the value: YAML reads it as a " + k.Got
		}
		c.add(loc, fmt.Sprintf("got %s, want %s", k.Got, strings.Join(k.Want, " or ")), hint)
	case *kind.Format:
		msg := fmt.Sprintf("%s is not a valid %s", quote(k.Got), k.Want)
		if k.Err != nil {
			msg += ": " + k.Err.Error()
		}
		c.add(loc, msg, "")
	case *kind.Enum:
		want := make([]string, len(k.Want))
		for i, w := range k.Want {
			want[i] = quote(w)
		}
		c.add(loc, fmt.Sprintf("%s is not one of %s", quote(k.Got), strings.Join(want, ", ")), nearestHint(fmt.Sprint(k.Got), stringsOf(k.Want)))
	case *kind.Pattern:
		if k.Want == `\S` {
			c.add(loc, "must not be empty", "")
		} else {
			c.add(loc, fmt.Sprintf("%s does not match %s", quote(k.Got), k.Want), "")
		}
	case *kind.FalseSchema:
		c.add(loc, "is not allowed here", "")
	default:
		if len(e.Causes) > 0 {
			for _, cause := range e.Causes {
				c.walk(cause)
			}
			return
		}
		c.add(loc, e.ErrorKind.LocalizedString(printer), "")
	}
}

// alternatives reports a failed anyOf / oneOf: when some alternatives fail on more than the
// value's type, those failures (the value was meant for them); otherwise the types wanted.
func (c *checker) alternatives(e *jsonschema.ValidationError) {
	var deep []*jsonschema.ValidationError
	var types []string
	for _, alt := range e.Causes {
		if t, ok := onlyType(alt); ok {
			types = append(types, t...)
			continue
		}
		deep = append(deep, alt)
	}
	if len(deep) > 0 {
		for _, alt := range deep {
			c.walk(alt)
		}
		return
	}
	got := ""
	if t := leafType(e); t != nil {
		got = "got " + t.Got + ", "
	}
	c.add(e.InstanceLocation, got+"want "+strings.Join(uniq(types), " or "), "")
}

// onlyType reports whether an alternative failed on the value's type or a constant alone.
func onlyType(e *jsonschema.ValidationError) ([]string, bool) {
	switch k := e.ErrorKind.(type) {
	case *kind.Type:
		return k.Want, true
	case *kind.Const:
		return []string{quote(k.Want)}, true
	case *kind.Enum:
		return stringsOfQuoted(k.Want), true
	case *kind.Schema, *kind.Reference, *kind.Group, *kind.AllOf:
		var all []string
		for _, cause := range e.Causes {
			t, ok := onlyType(cause)
			if !ok {
				return nil, false
			}
			all = append(all, t...)
		}
		return all, len(e.Causes) > 0
	}
	return nil, false
}

func leafType(e *jsonschema.ValidationError) *kind.Type {
	if t, ok := e.ErrorKind.(*kind.Type); ok {
		return t
	}
	for _, cause := range e.Causes {
		if t := leafType(cause); t != nil {
			return t
		}
	}
	return nil
}

// unknown reports a key that the configuration does not know at loc, with the nearest known one.
func (c *checker) unknown(loc []string, key string) {
	path := append(append([]string{}, loc...), key)
	switch {
	case len(loc) == 1 && loc[0] == "rules" && c.cat != nil:
		c.add(path, "no rule has this id", nearestHint(key, c.cat.RuleIDs))
	case len(loc) >= 1 && loc[0] == "params" && c.cat != nil:
		siblings := propertyNames(c.schema.doc, loc)
		hint := ""
		if best := nearest(key, siblings); best != "" {
			hint = "did you mean `" + dotted(append(append([]string{}, loc...), best), c.doc) + "`?"
		} else if best := c.nearestParam(key); best != "" {
			hint = "did you mean `params." + best + "`?"
		}
		c.add(path, "no rule declares this parameter", hint)
	default:
		c.add(path, "unknown key", nearestHint(key, propertyNames(c.schema.doc, loc)))
	}
}

// nearestParam finds a declared parameter whose last segment is near key (a parameter put under
// the wrong section).
func (c *checker) nearestParam(key string) string {
	byLast := map[string][]string{}
	var lasts []string
	for p := range c.cat.Params {
		last := p[strings.LastIndexByte(p, '.')+1:]
		if _, ok := byLast[last]; !ok {
			lasts = append(lasts, last)
		}
		byLast[last] = append(byLast[last], p)
	}
	best := nearest(key, lasts)
	if best == "" || len(byLast[best]) != 1 {
		return ""
	}
	return byLast[best][0]
}

func (c *checker) add(loc []string, msg, suggestion string) {
	line, col := position(c.root, loc)
	c.problems = append(c.problems, Problem{
		Path: dotted(loc, c.doc), File: c.file, Line: line, Column: col,
		Message: msg, Suggestion: suggestion,
	})
}

// duplicates reports a key set twice in one mapping: YAML forbids it and only one value would
// count.
func (c *checker) duplicates(node *yamlv3.Node, loc []string) {
	switch node.Kind {
	case yamlv3.DocumentNode, yamlv3.SequenceNode:
		for i, n := range node.Content {
			sub := loc
			if node.Kind == yamlv3.SequenceNode {
				sub = append(append([]string{}, loc...), strconv.Itoa(i))
			}
			c.duplicates(n, sub)
		}
	case yamlv3.MappingNode:
		first := map[string]*yamlv3.Node{}
		for i := 0; i+1 < len(node.Content); i += 2 {
			k := node.Content[i]
			path := append(append([]string{}, loc...), k.Value)
			if f, dup := first[k.Value]; dup {
				c.problems = append(c.problems, Problem{
					Path: dotted(path, c.doc), File: c.file, Line: k.Line, Column: k.Column,
					Message: fmt.Sprintf("duplicate key (first set at line %d); only one value would count", f.Line),
				})
				continue
			}
			first[k.Value] = k
			c.duplicates(node.Content[i+1], path)
		}
	}
}

// propertyNames lists the keys the schema document names at an instance location.
func propertyNames(doc map[string]any, loc []string) []string {
	node := doc
	for _, seg := range loc {
		if props, ok := node["properties"].(map[string]any); ok {
			if next, ok := props[seg].(map[string]any); ok {
				node = next
				continue
			}
		}
		if items, ok := node["items"].(map[string]any); ok {
			if _, err := strconv.Atoi(seg); err == nil {
				node = items
				continue
			}
		}
		if add, ok := node["additionalProperties"].(map[string]any); ok {
			node = add
			continue
		}
		return nil
	}
	props, _ := node["properties"].(map[string]any)
	names := make([]string, 0, len(props))
	for k := range props {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}

// dotted renders an instance location as params.gitea.url_pattern or waivers[0].reason.
func dotted(loc []string, doc any) string {
	var b strings.Builder
	cur := doc
	for _, seg := range loc {
		switch v := cur.(type) {
		case []any:
			b.WriteString("[" + seg + "]")
			if i, err := strconv.Atoi(seg); err == nil && i >= 0 && i < len(v) {
				cur = v[i]
			} else {
				cur = nil
			}
			continue
		case map[string]any:
			cur = v[seg]
		default:
			cur = nil
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(seg)
	}
	return b.String()
}

// position finds the line and column of the key at loc in the YAML document (of the item, for
// a sequence index); when the key is not there, of its deepest ancestor that is.
func position(root *yamlv3.Node, loc []string) (int, int) {
	node := root
	if node.Kind == yamlv3.DocumentNode && len(node.Content) > 0 {
		node = node.Content[0]
	}
	line, col := 0, 0
	for _, seg := range loc {
		for node.Kind == yamlv3.AliasNode && node.Alias != nil {
			node = node.Alias
		}
		var next *yamlv3.Node
		switch node.Kind {
		case yamlv3.MappingNode:
			for i := 0; i+1 < len(node.Content); i += 2 {
				if node.Content[i].Value == seg {
					line, col = node.Content[i].Line, node.Content[i].Column
					next = node.Content[i+1]
				}
			}
		case yamlv3.SequenceNode:
			if i, err := strconv.Atoi(seg); err == nil && i >= 0 && i < len(node.Content) {
				next = node.Content[i]
				line, col = next.Line, next.Column
			}
		}
		if next == nil {
			break
		}
		node = next
	}
	return line, col
}

// yamlProblem places a YAML syntax error by the line its message names.
func yamlProblem(file string, err error) Problem {
	p := Problem{File: file, Message: err.Error()}
	if m := yamlLine.FindStringSubmatch(err.Error()); m != nil {
		p.Line, _ = strconv.Atoi(m[1])
		p.Column = 1
	}
	return p
}

var yamlLine = regexp.MustCompile(`line (\d+)`)

// nearestHint says "did you mean `x`?" for the candidate nearest to word, or "".
func nearestHint(word string, candidates []string) string {
	if best := nearest(word, candidates); best != "" {
		return "did you mean `" + best + "`?"
	}
	return ""
}

// nearest returns the candidate with the smallest edit distance to word, when that distance is
// small for the candidate's length (a typo, not another word), or "".
func nearest(word string, candidates []string) string {
	best, bestD := "", -1
	for _, c := range candidates {
		d := levenshtein(strings.ToLower(word), strings.ToLower(c))
		if len(word) >= 3 && (strings.HasPrefix(c, word) || strings.HasPrefix(word, c)) {
			d = min(d, 1) // a shortened or extended name: warn for warning, gitrepo for gitrepository
		}
		if bestD < 0 || d < bestD || (d == bestD && c < best) {
			best, bestD = c, d
		}
	}
	if best == "" || bestD > max(2, len(best)/4) || bestD >= len(word) {
		return ""
	}
	return best
}

func levenshtein(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}

func quote(v any) string {
	if s, ok := v.(string); ok {
		return strconv.Quote(s)
	}
	return fmt.Sprint(v)
}

func stringsOf(xs []any) []string {
	out := make([]string, 0, len(xs))
	for _, x := range xs {
		if s, ok := x.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

func stringsOfQuoted(xs []any) []string {
	out := make([]string, len(xs))
	for i, x := range xs {
		out[i] = quote(x)
	}
	return out
}

func uniq(xs []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, x := range xs {
		if !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	return out
}

func dedupe(ps []Problem) []Problem {
	seen := map[Problem]bool{}
	var out []Problem
	for _, p := range ps {
		if !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	return out
}
