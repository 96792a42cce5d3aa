package linter

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"

	"github.com/openova-io/ova-lint/linter/engine"
	"github.com/openova-io/ova-lint/linter/graph"
)

// sourceHolds says why the edits of a violation on a produced object cannot be made in its
// source document, "" when they can: the object was built by kustomize from one of the file's
// documents (not rendered by Helm, not generated), the violation is about that object (not a
// traced value), and along every edit path the source document holds what the built object
// holds (no patch, substitution or transformer changed it).
func sourceHolds(p graph.Produced, v engine.Violation) string {
	switch {
	case len(v.Edits) == 0:
		return ""
	case p.Origin.Producer == "helm":
		return "the object is rendered by Helm: fix the chart's template or values"
	case p.Origin.Producer != "kustomize" || p.Node == nil || p.Index < 0 || v.File != "":
		return "the object has no source document of its own to edit"
	}
	var src any
	if err := p.Node.Decode(&src); err != nil {
		return "its source document does not decode"
	}
	built, source := normal(p.Object), normal(src)
	for _, e := range v.Edits {
		if !samePath(built, source, e.Path) {
			return fmt.Sprintf("the built object's %s is not its source document's (a patch, a substitution or a transformer changes it): fix it where it is set", showPath(e.Path))
		}
	}
	return ""
}

// showPath writes a field path as spec.ref.branch or items[0].name.
func showPath(path []any) string {
	var b strings.Builder
	for _, p := range path {
		if i, ok := p.(int); ok {
			fmt.Fprintf(&b, "[%d]", i)
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		fmt.Fprint(&b, p)
	}
	return b.String()
}

// samePath reports whether a and b hold the same value along path: the same value where both
// have the field, and the same deepest existing parent where the field is missing.
func samePath(a, b any, path []any) bool {
	for _, elem := range path {
		if !reflect.DeepEqual(scalarOrKind(a), scalarOrKind(b)) {
			return false
		}
		na, oka := step(a, elem)
		nb, okb := step(b, elem)
		if oka != okb {
			return false
		}
		if !oka {
			return true
		}
		a, b = na, nb
	}
	return reflect.DeepEqual(a, b)
}

// scalarOrKind compares containers by kind only (their fields are compared along the path).
func scalarOrKind(x any) any {
	switch x.(type) {
	case map[string]any:
		return "<mapping>"
	case []any:
		return "<sequence>"
	}
	return x
}

func step(x any, elem any) (any, bool) {
	switch c := x.(type) {
	case map[string]any:
		k, ok := elem.(string)
		if !ok {
			return nil, false
		}
		v, ok := c[k]
		return v, ok
	case []any:
		i, ok := elem.(int)
		if !ok || i < 0 || i >= len(c) {
			return nil, false
		}
		return c[i], true
	}
	return nil, false
}

// normal gives decoded YAML and built objects one representation (JSON's).
func normal(x any) any {
	raw, err := json.Marshal(x)
	if err != nil {
		return x
	}
	var out any
	if json.Unmarshal(raw, &out) != nil {
		return x
	}
	return out
}
