// Package waiver exempts objects and files from named rules, for a reason and until an optional
// date, in both doors.
//
// A waiver is written in one of two places:
//
//   - on the object, as the annotation
//     ova-lint.openova.io/waive: "<rule-id>[,<rule-id>]; reason=<text>; until=YYYY-MM-DD"
//   - in .ova-lint.yaml, as a waivers entry: a path glob, rules, a reason and an optional until.
//
// A waiver without a reason, naming an unknown rule or with a malformed date is itself a finding
// (waiver-invalid) and exempts nothing. A waiver is valid through its until date (UTC); after it,
// it exempts nothing and is reported (waiver-expired). A waiver that exempts nothing is reported
// (waiver-unused) when asked for. The three rules are catalogue entries carried by
// policies/waiver; the findings are made here, in Go, because they are about the findings of the
// other rules.
//
// The CLI applies waivers with a Judge over a whole run (Linter does this); the admission webhook
// calls Admission on one object and the violations the engine found for it.
package waiver

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/openova-io/ova-lint/linter/engine"
)

// Annotation is the object annotation that carries a waiver.
const Annotation = "ova-lint.openova.io/waive"

// Rule ids of the findings this package makes.
const (
	RuleInvalid = "waiver-invalid"
	RuleExpired = "waiver-expired"
	RuleUnused  = "waiver-unused"
)

// DateLayout is the layout of an until date.
const DateLayout = "2006-01-02"

// Syntax is the annotation's grammar, quoted in messages.
const Syntax = `"<rule-id>[,<rule-id>]; reason=<text>; until=YYYY-MM-DD"`

// AnnotationPath is the field path of the annotation inside an object.
func AnnotationPath() []any { return []any{"metadata", "annotations", Annotation} }

// Catalogue is what a waiver needs from the engine: the rules by id. *engine.Engine is one.
type Catalogue interface {
	Rule(id string) *engine.Rule
}

// Waiver exempts something from Rules for Reason, through Until when set.
type Waiver struct {
	Rules  []string
	Reason string
	// Until is the last day (UTC) the waiver is valid, "" for no expiry.
	Until string
	until time.Time
}

var (
	idRe  = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)
	keyRe = regexp.MustCompile(`^[a-z][a-z0-9_-]*$`)
)

// Parse reads an annotation value. It checks the grammar only; Check validates the rule ids.
func Parse(value string) (*Waiver, error) {
	parts := strings.Split(value, ";")
	w := &Waiver{}
	for _, id := range strings.Split(parts[0], ",") {
		id = strings.TrimSpace(id)
		if id == "" {
			continue
		}
		if !idRe.MatchString(id) {
			return nil, fmt.Errorf("%q is not a rule id (kebab-case, as `ova-lint rules` lists them)", id)
		}
		w.Rules = append(w.Rules, id)
	}
	if len(w.Rules) == 0 {
		return nil, fmt.Errorf("no rule id before the first ';'")
	}
	// key=value fields; a ';' inside a reason that is not followed by a known key stays in it.
	fields := map[string]string{}
	var order []string
	cur := ""
	for _, p := range parts[1:] {
		key, val, ok := strings.Cut(p, "=")
		key = strings.ToLower(strings.TrimSpace(key))
		if ok && (key == "reason" || key == "until") {
			if _, dup := fields[key]; dup {
				return nil, fmt.Errorf("%s= is given twice", key)
			}
			fields[key], cur = val, key
			order = append(order, key)
			continue
		}
		if ok && keyRe.MatchString(key) {
			return nil, fmt.Errorf("unknown field %q (reason=, until=)", key)
		}
		if cur == "reason" {
			fields[cur] += ";" + p
			continue
		}
		if strings.TrimSpace(p) == "" {
			continue
		}
		return nil, fmt.Errorf("%q is not a key=value field (reason=, until=)", strings.TrimSpace(p))
	}
	w.Reason = strings.TrimSpace(fields["reason"])
	if w.Reason == "" {
		return nil, fmt.Errorf("a waiver needs a reason (reason=<why this object is exempt>)")
	}
	if err := w.setUntil(strings.TrimSpace(fields["until"])); err != nil {
		return nil, err
	}
	return w, nil
}

func (w *Waiver) setUntil(s string) error {
	w.Until = s
	if s == "" {
		return nil
	}
	t, err := time.Parse(DateLayout, s)
	if err != nil {
		return fmt.Errorf("until=%s is not a date (YYYY-MM-DD)", s)
	}
	w.until = t
	return nil
}

// Check validates the rule ids against the catalogue: each must be a known rule, and the waiver
// rules themselves cannot be waived.
func (w *Waiver) Check(cat Catalogue) error {
	var unknown []string
	for _, id := range w.Rules {
		switch {
		case strings.HasPrefix(id, "waiver-"):
			return fmt.Errorf("rule %s cannot be waived", id)
		case cat != nil && cat.Rule(id) == nil:
			unknown = append(unknown, id)
		}
	}
	if len(unknown) > 0 {
		return fmt.Errorf("unknown rule %s (see `ova-lint rules`)", strings.Join(unknown, ", "))
	}
	return nil
}

// Expired reports whether the waiver's last day is before now's day in UTC.
func (w *Waiver) Expired(now time.Time) bool {
	return w.Until != "" && !now.UTC().Before(w.until.AddDate(0, 0, 1))
}

// Waives reports whether the waiver names the rule.
func (w *Waiver) Waives(rule string) bool {
	for _, id := range w.Rules {
		if id == rule {
			return true
		}
	}
	return false
}

// AnnotationValue returns the waiver annotation of an object (as the engine sees it: decoded
// YAML or JSON). ok is false when there is none; a value that is not a string is returned as
// its printed form with isString false.
func AnnotationValue(obj any) (value string, ok, isString bool) {
	m, _ := obj.(map[string]any)
	md, _ := m["metadata"].(map[string]any)
	ann, _ := md["annotations"].(map[string]any)
	raw, ok := ann[Annotation]
	if !ok {
		return "", false, false
	}
	if s, isStr := raw.(string); isStr {
		return s, true, true
	}
	return fmt.Sprint(raw), true, false
}

// FromObject reads and checks the waiver annotation of obj. It returns nil, nil when obj has no
// annotation, and an error that explains a malformed one.
func FromObject(cat Catalogue, obj any) (*Waiver, error) {
	value, ok, isString := AnnotationValue(obj)
	if !ok {
		return nil, nil
	}
	if !isString {
		return nil, fmt.Errorf("the annotation value must be a string %s", Syntax)
	}
	w, err := Parse(value)
	if err != nil {
		return nil, err
	}
	if err := w.Check(cat); err != nil {
		return nil, err
	}
	return w, nil
}

// problem is a waiver finding before it is placed.
type problem struct {
	rule, msg, fix string
}

func invalidProblem(where string, err error) problem {
	return problem{
		rule: RuleInvalid,
		msg:  fmt.Sprintf("invalid waiver (%s): %v; it exempts nothing", where, err),
		fix:  "write the waiver as " + Syntax + " with a reason, or remove it",
	}
}

func expiredProblem(where string, w *Waiver) problem {
	return problem{
		rule: RuleExpired,
		msg: fmt.Sprintf("waiver of %s (%s) expired on %s (reason was: %s); the findings it waived are reported again",
			strings.Join(w.Rules, ", "), where, w.Until, w.Reason),
		fix: "fix the findings and remove the waiver, or renew it with a new until date and reason",
	}
}

func unusedProblem(where string, ids []string) problem {
	sort.Strings(ids)
	return problem{
		rule: RuleUnused,
		msg:  fmt.Sprintf("waiver of %s (%s) exempts nothing: the rule does not fire here", strings.Join(ids, ", "), where),
		fix:  "remove the rule from the waiver (or the whole waiver)",
	}
}

// Admission applies the waiver annotation of one object to the violations the engine found for
// it, for the admission webhook. It returns the violations that stand: without the waived ones,
// plus a waiver-invalid or waiver-expired violation (at the annotation's field path) when the
// annotation is malformed or expired, in which case nothing is waived. Violations of disabled
// waiver rules are left out. now decides expiry.
func Admission(cat Catalogue, obj any, vs []engine.Violation, now time.Time) []engine.Violation {
	if _, ok, _ := AnnotationValue(obj); !ok {
		return vs
	}
	w, err := FromObject(cat, obj)
	where := "annotation on " + objectName(identity(obj))
	var p *problem
	switch {
	case err != nil:
		x := invalidProblem(where, err)
		p = &x
	case w.Expired(now):
		x := expiredProblem(where, w)
		p = &x
	}
	if p != nil {
		out := append([]engine.Violation(nil), vs...)
		if r := cat.Rule(p.rule); r != nil && !r.Disabled {
			out = append(out, engine.Violation{Rule: r, Path: AnnotationPath(), Message: p.msg, Fix: p.fix})
		}
		return out
	}
	out := make([]engine.Violation, 0, len(vs))
	for _, v := range vs {
		if v.Rule != nil && !strings.HasPrefix(v.Rule.ID, "waiver-") && w.Waives(v.Rule.ID) {
			continue
		}
		out = append(out, v)
	}
	return out
}

// identity returns kind, namespace and name of an object, as the CLI shows them.
func identity(obj any) (kind, namespace, name string) {
	m, _ := obj.(map[string]any)
	kind, _ = m["kind"].(string)
	md, _ := m["metadata"].(map[string]any)
	namespace, _ = md["namespace"].(string)
	name, _ = md["name"].(string)
	return kind, namespace, name
}
