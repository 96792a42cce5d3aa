package schema

import (
	"encoding/json"
	"fmt"
	"math/big"
	"sort"
	"strconv"
	"strings"

	jsonschema "github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
)

// flatten turns jsonschema's error tree into leaf violations with value-free
// messages. jsonschema's own messages are not used: some quote the value
// (pattern, format, minimum, ...), and values may be secrets.
func flatten(ve *jsonschema.ValidationError) []Error {
	var out []Error
	walk(ve, &out)
	sortErrors(out)
	return dedupe(out)
}

func walk(e *jsonschema.ValidationError, out *[]Error) {
	loc := e.InstanceLocation
	add := func(path []string, keyword, msg string) {
		*out = append(*out, Error{Path: clonePath(path), Message: msg, Keyword: keyword})
	}
	switch k := e.ErrorKind.(type) {
	case *kind.Schema, *kind.Reference, *kind.Group, *kind.AllOf:
		for _, c := range e.Causes {
			walk(c, out)
		}
		if len(e.Causes) == 0 {
			add(loc, "", "is invalid")
		}
	case *kind.AnyOf:
		alternatives(e, "anyOf", out)
	case *kind.OneOf:
		if len(k.Subschemas) >= 2 {
			add(loc, "oneOf", fmt.Sprintf("matches more than one of the allowed alternatives (%d and %d)", k.Subschemas[0], k.Subschemas[1]))
			return
		}
		alternatives(e, "oneOf", out)
	case *kind.AdditionalProperties:
		for _, p := range k.Properties {
			add(append(clonePath(loc), p), "additionalProperties", fmt.Sprintf("unknown field %q", p))
		}
	case *kind.Required:
		for _, p := range k.Missing {
			add(loc, "required", fmt.Sprintf("missing required field %q", p))
		}
	case *kind.Type:
		add(loc, "type", fmt.Sprintf("invalid type: got %s, want %s", k.Got, strings.Join(k.Want, " or ")))
	case *kind.Enum:
		add(loc, "enum", "unsupported value; must be "+oneOf(k.Want))
	case *kind.Const:
		add(loc, "const", "unsupported value; must be "+oneOf([]any{k.Want}))
	case *kind.Pattern:
		add(loc, "pattern", fmt.Sprintf("does not match the pattern %s", k.Want))
	case *kind.Format:
		add(loc, "format", fmt.Sprintf("is not a valid %s", k.Want))
	case *kind.MinLength:
		add(loc, "minLength", fmt.Sprintf("must be at least %d characters long", k.Want))
	case *kind.MaxLength:
		add(loc, "maxLength", fmt.Sprintf("must be at most %d characters long", k.Want))
	case *kind.MinItems:
		add(loc, "minItems", fmt.Sprintf("must have at least %d items", k.Want))
	case *kind.MaxItems:
		add(loc, "maxItems", fmt.Sprintf("must have at most %d items", k.Want))
	case *kind.MinProperties:
		add(loc, "minProperties", fmt.Sprintf("must have at least %d fields", k.Want))
	case *kind.MaxProperties:
		add(loc, "maxProperties", fmt.Sprintf("must have at most %d fields", k.Want))
	case *kind.Minimum:
		add(loc, "minimum", "must be greater than or equal to "+ratString(k.Want))
	case *kind.ExclusiveMinimum:
		add(loc, "exclusiveMinimum", "must be greater than "+ratString(k.Want))
	case *kind.Maximum:
		add(loc, "maximum", "must be less than or equal to "+ratString(k.Want))
	case *kind.ExclusiveMaximum:
		add(loc, "exclusiveMaximum", "must be less than "+ratString(k.Want))
	case *kind.MultipleOf:
		add(loc, "multipleOf", "must be a multiple of "+ratString(k.Want))
	case *kind.UniqueItems:
		add(loc, "uniqueItems", fmt.Sprintf("items at index %d and %d are equal", k.Duplicates[0], k.Duplicates[1]))
	case *kind.AdditionalItems:
		add(loc, "additionalItems", "has too many items")
	case *kind.PropertyNames:
		add(append(clonePath(loc), k.Property), "propertyNames", fmt.Sprintf("invalid field name %q", k.Property))
	case *kind.Dependency:
		add(loc, "dependencies", fmt.Sprintf("field %q requires %s", k.Prop, quoteAll(k.Missing)))
	case *kind.DependentRequired:
		add(loc, "dependentRequired", fmt.Sprintf("field %q requires %s", k.Prop, quoteAll(k.Missing)))
	case *kind.Not:
		add(loc, "not", "matches a disallowed schema")
	case *kind.FalseSchema:
		add(loc, "false", "is not allowed")
	case *kind.InvalidJsonValue:
		add(loc, "", fmt.Sprintf("unsupported value of Go type %T", k.Value))
	default:
		if len(e.Causes) > 0 {
			for _, c := range e.Causes {
				walk(c, out)
			}
			return
		}
		kw := ""
		if p := e.ErrorKind.KeywordPath(); len(p) > 0 {
			kw = p[0]
		}
		add(loc, kw, "is invalid")
	}
}

// alternatives reports a failed anyOf / oneOf. Each cause is one
// alternative's failure.
func alternatives(e *jsonschema.ValidationError, keyword string, out *[]Error) {
	loc := e.InstanceLocation
	branches := make([][]Error, len(e.Causes))
	for i, c := range e.Causes {
		walk(c, &branches[i])
	}
	// Every alternative failed on the type of the value itself: merge them
	// ("got object, want string or integer").
	var got string
	var want []string
	allType := len(branches) > 0
	for _, b := range branches {
		if len(b) != 1 || b[0].Keyword != "type" || !samePath(b[0].Path, loc) {
			allType = false
			break
		}
		g, w, ok := splitTypeMessage(b[0].Message)
		if !ok {
			allType = false
			break
		}
		got = g
		want = append(want, w...)
	}
	if allType {
		*out = append(*out, Error{Path: clonePath(loc), Keyword: "type",
			Message: fmt.Sprintf("invalid type: got %s, want %s", got, strings.Join(uniq(want), " or "))})
		return
	}
	// Exactly one alternative accepts the value's type: that is the one
	// the author meant, report its errors.
	var candidates [][]Error
	for _, b := range branches {
		typeMismatch := false
		for _, x := range b {
			if x.Keyword == "type" && samePath(x.Path, loc) {
				typeMismatch = true
				break
			}
		}
		if !typeMismatch {
			candidates = append(candidates, b)
		}
	}
	if len(candidates) == 1 && len(candidates[0]) > 0 {
		*out = append(*out, candidates[0]...)
		return
	}
	// Alternatives that each require a different field: name them.
	var fields []string
	allRequired := len(branches) > 0
	for _, b := range branches {
		if len(b) != 1 || b[0].Keyword != "required" || !samePath(b[0].Path, loc) {
			allRequired = false
			break
		}
		fields = append(fields, strings.TrimPrefix(b[0].Message, "missing required field "))
	}
	if allRequired {
		what := "one of"
		if keyword == "oneOf" {
			what = "exactly one of"
		}
		*out = append(*out, Error{Path: clonePath(loc), Keyword: keyword,
			Message: fmt.Sprintf("must set %s the fields %s", what, strings.Join(uniq(fields), ", "))})
		return
	}
	msg := "does not match any of the allowed alternatives"
	if keyword == "oneOf" {
		msg = "must match exactly one of the allowed alternatives; it matches none"
	}
	*out = append(*out, Error{Path: clonePath(loc), Keyword: keyword, Message: msg})
}

func splitTypeMessage(msg string) (got string, want []string, ok bool) {
	rest, ok := strings.CutPrefix(msg, "invalid type: got ")
	if !ok {
		return "", nil, false
	}
	got, w, ok := strings.Cut(rest, ", want ")
	if !ok {
		return "", nil, false
	}
	return got, strings.Split(w, " or "), true
}

// oneOf renders allowed values taken from the schema (never from the
// document).
func oneOf(values []any) string {
	const max = 12
	parts := make([]string, 0, len(values))
	for i, v := range values {
		if i == max {
			parts = append(parts, fmt.Sprintf("… (%d more)", len(values)-max))
			break
		}
		raw, err := json.Marshal(v)
		if err != nil {
			raw = []byte("?")
		}
		parts = append(parts, string(raw))
	}
	if len(parts) == 1 {
		return parts[0]
	}
	return "one of " + strings.Join(parts, ", ")
}

func ratString(r *big.Rat) string {
	if r == nil {
		return "?"
	}
	if r.IsInt() {
		return r.Num().String()
	}
	f, _ := r.Float64()
	return strconv.FormatFloat(f, 'g', -1, 64)
}

func quoteAll(l []string) string {
	q := make([]string, len(l))
	for i, s := range l {
		q[i] = strconv.Quote(s)
	}
	return strings.Join(q, ", ")
}

func uniq(l []string) []string {
	seen := map[string]bool{}
	out := l[:0:0]
	for _, s := range l {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

func clonePath(p []string) []string {
	if len(p) == 0 {
		return []string{}
	}
	return append([]string(nil), p...)
}

func samePath(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// comparePath orders paths element by element, sequence indices numerically.
func comparePath(a, b []string) int {
	for i := 0; i < len(a) && i < len(b); i++ {
		if a[i] == b[i] {
			continue
		}
		ai, aerr := strconv.Atoi(a[i])
		bi, berr := strconv.Atoi(b[i])
		if aerr == nil && berr == nil {
			if ai < bi {
				return -1
			}
			return 1
		}
		if a[i] < b[i] {
			return -1
		}
		return 1
	}
	return len(a) - len(b)
}

func sortErrors(errs []Error) {
	sort.SliceStable(errs, func(i, j int) bool {
		if c := comparePath(errs[i].Path, errs[j].Path); c != 0 {
			return c < 0
		}
		return errs[i].Message < errs[j].Message
	})
}

func dedupe(errs []Error) []Error {
	var out []Error
	for _, e := range errs {
		if n := len(out); n > 0 && samePath(e.Path, out[n-1].Path) && e.Message == out[n-1].Message {
			continue
		}
		out = append(out, e)
	}
	return out
}
