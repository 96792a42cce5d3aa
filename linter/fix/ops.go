package fix

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// opKind is what an op does to the text.
type opKind int

const (
	opReplace opKind = iota // replace a scalar (or an alias) with a new scalar
	opFill                  // give an empty value (key:) a scalar
	opInsert                // insert missing keys into a mapping
	opRemove                // remove a key and its value
	opNone                  // nothing to do (removing a key that is not there)
)

// op is one edit resolved against a document.
type op struct {
	kind opKind
	doc  *doc
	// path is the edit's full path; value its new value.
	path  []any
	value any
	// node is the scalar (replace, fill: the key), or the mapping (insert, remove).
	node *yaml.Node
	// flow says node sits in a flow collection.
	flow bool
	// rest are the missing keys under node (insert); key the index of the key (remove).
	rest []string
	key  int
	// req is the index of the request the op belongs to.
	req int
}

// resolve turns the edits of a request into ops on its document, and checks the apiVersion
// guard.
func (f *file) resolve(r Request, opts Options) ([]op, error) {
	if len(r.Edits) == 0 {
		return nil, errors.New("no edit")
	}
	d, err := f.pick(r)
	if err != nil {
		return nil, err
	}
	var ops []op
	after := canon(d.obj)
	apiVersion := false
	for _, e := range r.Edits {
		o, err := resolvePath(d, e.Path, e.Value, e.Remove)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", showPath(e.Path), err)
		}
		if _, err := f.changes([]op{o}); err != nil {
			return nil, fmt.Errorf("%s: %w", showPath(e.Path), err)
		}
		ops = append(ops, o)
		after = applyValue(after, o)
		if len(e.Path) == 1 && e.Path[0] == "apiVersion" {
			apiVersion = true
		}
	}
	if apiVersion {
		m, ok := after.(map[string]any)
		if !ok || opts.AcceptAPIVersion == nil {
			return nil, errors.New("apiVersion: no schema validator to accept the new apiVersion")
		}
		if err := opts.AcceptAPIVersion(m); err != nil {
			return nil, fmt.Errorf("apiVersion: the schema of the new apiVersion does not accept the object: %w", err)
		}
	}
	return ops, nil
}

func resolvePath(d *doc, path []any, value any, remove bool) (op, error) {
	o := op{doc: d, path: path, value: value}
	n := d.root
	flow := false
	for i, elem := range path {
		last := i == len(path)-1
		if n.Kind == yaml.AliasNode {
			return o, errors.New("the path goes through an alias: editing it would change every use of its anchor")
		}
		if n.Style&yaml.FlowStyle != 0 {
			flow = true
		}
		switch n.Kind {
		case yaml.MappingNode:
			key, ok := elem.(string)
			if !ok {
				return o, fmt.Errorf("%v is not a mapping key", elem)
			}
			at := -1
			for j := 0; j+1 < len(n.Content); j += 2 {
				if k := n.Content[j]; k.Kind == yaml.ScalarNode && k.Value == key {
					at = j
				}
			}
			if at < 0 {
				if remove {
					o.kind = opNone
					return o, nil
				}
				rest := make([]string, 0, len(path)-i)
				for _, p := range path[i:] {
					s, ok := p.(string)
					if !ok {
						return o, errors.New("cannot create a sequence item")
					}
					rest = append(rest, s)
				}
				if n.Anchor != "" {
					return o, errors.New("the mapping is an anchor: a new key would reach every alias of it")
				}
				o.kind, o.node, o.flow, o.rest = opInsert, n, flow, rest
				return o, nil
			}
			if last {
				if remove {
					if n.Anchor != "" {
						return o, errors.New("the mapping is an anchor: removing a key would change every alias of it")
					}
					if len(n.Content) == 2 {
						return o, errors.New("removing the only key would leave an empty mapping")
					}
					o.kind, o.node, o.flow, o.key = opRemove, n, flow, at
					return o, nil
				}
				return replaceOp(o, n.Content[at], n.Content[at+1], flow || n.Content[at+1].Style&yaml.FlowStyle != 0)
			}
			n = n.Content[at+1]
		case yaml.SequenceNode:
			idx, ok := elem.(int)
			if !ok || idx < 0 || idx >= len(n.Content) {
				return o, fmt.Errorf("no item %v", elem)
			}
			if last {
				return o, errors.New("replacing or removing a sequence item is not supported")
			}
			n = n.Content[idx]
		case yaml.ScalarNode:
			if n.Tag == "!!null" {
				return o, errors.New("a parent field is null: set it in the file first")
			}
			return o, errors.New("a parent field is a scalar, not a mapping")
		default:
			return o, errors.New("unsupported node")
		}
	}
	return o, errors.New("empty path")
}

// replaceOp replaces the value node v of key k.
func replaceOp(o op, k, v *yaml.Node, flow bool) (op, error) {
	if isContainer(o.value) {
		return o, errors.New("replacing a field with a mapping or a list is not supported")
	}
	switch v.Kind {
	case yaml.AliasNode:
		o.kind, o.node, o.flow = opReplace, v, flow
		return o, nil
	case yaml.ScalarNode:
	default:
		return o, errors.New("the field holds a mapping or a list, not a scalar")
	}
	if v.Style&(yaml.LiteralStyle|yaml.FoldedStyle) != 0 {
		return o, errors.New("the field is a block scalar (| or >)")
	}
	if v.Anchor != "" && aliased(o.doc.root, v.Anchor) {
		return o, fmt.Errorf("the value is anchor &%s: changing it would change its aliases", v.Anchor)
	}
	if v.Value == "" && v.Style == 0 && v.Tag == "!!null" && v.Anchor == "" {
		if flow || k.Style&(yaml.LiteralStyle|yaml.FoldedStyle) != 0 {
			return o, errors.New("the field is empty in a flow collection")
		}
		o.kind, o.node, o.flow = opFill, v, flow
		return o, nil
	}
	o.kind, o.node, o.flow = opReplace, v, flow
	return o, nil
}

func isContainer(v any) bool {
	switch v.(type) {
	case map[string]any, []any:
		return true
	}
	return false
}

// aliased reports whether an alias of anchor occurs under n.
func aliased(n *yaml.Node, anchor string) bool {
	if n.Kind == yaml.AliasNode && n.Value == anchor {
		return true
	}
	for _, c := range n.Content {
		if aliased(c, anchor) {
			return true
		}
	}
	return false
}

// conflicts rejects requests whose ops touch the same field differently, or one field and a
// field under it: both are skipped, whichever came first.
func conflicts(ops [][]op, results []Result) {
	for i := range ops {
		for j := i + 1; j < len(ops); j++ {
			if !results[i].Applied && !results[j].Applied {
				continue
			}
			if results[i].Reason != "" || results[j].Reason != "" {
				continue // a request that did not resolve conflicts with nothing
			}
			for _, a := range ops[i] {
				for _, b := range ops[j] {
					if clash(a, b) {
						msg := fmt.Sprintf("%s: conflicting edits of the same field", showPath(a.path))
						results[i] = Result{Reason: msg}
						results[j] = Result{Reason: msg}
					}
				}
			}
		}
	}
}

func clash(a, b op) bool {
	if a.doc != b.doc || a.kind == opNone || b.kind == opNone {
		return false
	}
	if len(a.path) == len(b.path) && hasPrefix(a.path, b.path) {
		return (a.kind == opRemove) != (b.kind == opRemove) || !sameValue(a.value, b.value)
	}
	return hasPrefix(a.path, b.path) || hasPrefix(b.path, a.path)
}

// dedupe drops ops that repeat another (the same field set to the same value twice).
func dedupe(ops []op) []op {
	var out []op
	for _, o := range ops {
		dup := o.kind == opNone
		for _, p := range out {
			if p.doc == o.doc && len(p.path) == len(o.path) && hasPrefix(p.path, o.path) {
				dup = true
			}
		}
		if !dup {
			out = append(out, o)
		}
	}
	return out
}

// overlapError names the requests whose changes overlap.
type overlapError struct {
	line int
	reqs []int
}

func (e *overlapError) Error() string { return fmt.Sprintf("overlapping edits at line %d", e.line) }

// changes turns ops into byte changes: replacements and removals one by one, insertions into
// one mapping together.
func (f *file) changes(ops []op) ([]change, error) {
	var out []change
	type group struct {
		node *yaml.Node
		flow bool
		tree *omap
		reqs []int
	}
	var groups []*group
	for _, o := range ops {
		switch o.kind {
		case opReplace:
			c, err := f.replace(o)
			if err != nil {
				return nil, err
			}
			c.reqs = []int{o.req}
			out = append(out, c)
		case opFill:
			text, err := scalar(o.value, 0, false)
			if err != nil {
				return nil, err
			}
			at := f.offset(o.node.Line, o.node.Column)
			out = append(out, change{start: at, end: at, text: " " + text, reqs: []int{o.req}})
		case opRemove:
			c, err := f.remove(o)
			if err != nil {
				return nil, err
			}
			c.reqs = []int{o.req}
			out = append(out, c)
		case opInsert:
			var g *group
			for _, x := range groups {
				if x.node == o.node {
					g = x
				}
			}
			if g == nil {
				g = &group{node: o.node, flow: o.flow || o.node.Style&yaml.FlowStyle != 0, tree: &omap{}}
				groups = append(groups, g)
			}
			g.tree.set(o.rest, o.value)
			g.reqs = append(g.reqs, o.req)
		}
	}
	for _, g := range groups {
		var c change
		var err error
		if g.flow {
			c, err = f.insertFlow(g.node, g.tree)
		} else {
			c, err = f.insertBlock(g.node, g.tree)
		}
		if err != nil {
			return nil, err
		}
		c.reqs = g.reqs
		out = append(out, c)
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].start != out[j].start {
			return out[i].start < out[j].start
		}
		return out[i].depth > out[j].depth
	})
	for i := 1; i < len(out); i++ {
		if out[i].start < out[i-1].end {
			return nil, &overlapError{line: lineOf(f, out[i].start), reqs: append(append([]int{}, out[i-1].reqs...), out[i].reqs...)}
		}
	}
	return out, nil
}

func lineOf(f *file, off int) int {
	l, _ := f.position(off)
	return l
}

// apply makes the changes, from the end of the file backwards.
func (f *file) apply(changes []change) ([]byte, error) {
	out := append([]byte{}, f.data...)
	for i := len(changes) - 1; i >= 0; i-- {
		c := changes[i]
		if c.start < 0 || c.end > len(out) || c.start > c.end {
			return nil, errors.New("edit out of range")
		}
		out = append(out[:c.start], append([]byte(c.text), out[c.end:]...)...)
	}
	return out, nil
}

// verify parses the edited text again: every document must decode to what it was with the
// ops applied.
func (f *file) verify(out []byte, ops []op) error {
	g, err := parse(out)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrUnverified, err)
	}
	if len(g.docs) != len(f.docs) {
		return fmt.Errorf("%w: %d documents instead of %d", ErrUnverified, len(g.docs), len(f.docs))
	}
	for i, d := range f.docs {
		want := canon(d.obj)
		for _, o := range ops {
			if o.doc == d {
				want = applyValue(want, o)
			}
		}
		if !sameValue(want, g.docs[i].obj) {
			return fmt.Errorf("%w (document %d)", ErrUnverified, i+1)
		}
	}
	return nil
}

// replace is the change that replaces a scalar (or an alias) in its own style.
func (f *file) replace(o op) (change, error) {
	n := o.node
	start := f.offset(n.Line, n.Column)
	if n.Kind == yaml.AliasNode {
		end := start + 1 + len(n.Value)
		if end > len(f.data) || string(f.data[start:end]) != "*"+n.Value {
			return change{}, errors.New("alias not found at its position")
		}
		text, err := scalar(o.value, 0, o.flow)
		return change{start: start, end: end, text: text}, err
	}
	start = f.skipProperties(start)
	end, err := f.scalarEnd(n, start, o.flow)
	if err != nil {
		return change{}, err
	}
	text, err := scalar(o.value, n.Style&^yaml.TaggedStyle, o.flow)
	return change{start: start, end: end, text: text}, err
}

// skipProperties skips an anchor (&a) and a tag (!!str) before a scalar.
func (f *file) skipProperties(at int) int {
	for at < len(f.data) && (f.data[at] == '&' || f.data[at] == '!') {
		for at < len(f.data) && !isSpace(f.data[at]) {
			at++
		}
		for at < len(f.data) && (f.data[at] == ' ' || f.data[at] == '\t') {
			at++
		}
	}
	return at
}

func isSpace(b byte) bool { return b == ' ' || b == '\t' || b == '\n' || b == '\r' }

// scalarEnd finds where the scalar n that starts at start ends.
func (f *file) scalarEnd(n *yaml.Node, start int, flow bool) (int, error) {
	d := f.data
	if start >= len(d) {
		return 0, errors.New("scalar not found at its position")
	}
	switch {
	case n.Style&yaml.DoubleQuotedStyle != 0:
		if d[start] != '"' {
			return 0, errors.New("double-quoted scalar not found at its position")
		}
		for i := start + 1; i < len(d); i++ {
			switch d[i] {
			case '\\':
				i++
			case '"':
				return i + 1, nil
			}
		}
	case n.Style&yaml.SingleQuotedStyle != 0:
		if d[start] != '\'' {
			return 0, errors.New("single-quoted scalar not found at its position")
		}
		for i := start + 1; i < len(d); i++ {
			if d[i] == '\'' {
				if i+1 < len(d) && d[i+1] == '\'' {
					i++
					continue
				}
				return i + 1, nil
			}
		}
	default:
		end := start
		for end < len(d) && d[end] != '\n' && d[end] != '\r' {
			if flow && strings.IndexByte(",]}", d[end]) >= 0 {
				break
			}
			if d[end] == '#' && end > start && (d[end-1] == ' ' || d[end-1] == '\t') {
				break
			}
			end++
		}
		for end > start && (d[end-1] == ' ' || d[end-1] == '\t') {
			end--
		}
		if string(d[start:end]) != n.Value {
			return 0, errors.New("a plain scalar over several lines is not supported")
		}
		return end, nil
	}
	return 0, errors.New("unterminated quoted scalar")
}

// entryEnd is the last line of a block mapping entry (key k, value v): the value's last node,
// then the lines indented deeper than the key (block scalars, comments of the value).
func (f *file) entryEnd(k, v *yaml.Node) int {
	end := max(k.Line, lastLine(v))
	for l := end + 1; l <= len(f.lineStarts); l++ {
		text := f.lineText(l)
		trimmed := strings.TrimLeft(text, " ")
		if trimmed == "" || strings.HasPrefix(trimmed, "#") {
			continue
		}
		if len(text)-len(trimmed)+1 > k.Column {
			end = l
			continue
		}
		break
	}
	return end
}

// lastLine is the last line any node of n starts on.
func lastLine(n *yaml.Node) int {
	l := n.Line
	for _, c := range n.Content {
		l = max(l, lastLine(c))
	}
	return l
}

// remove is the change that removes key i of mapping m with its value.
func (f *file) remove(o op) (change, error) {
	m := o.node
	k, v := m.Content[o.key], m.Content[o.key+1]
	if o.flow {
		return f.removeFlow(m, o.key)
	}
	prefix := f.lineText(k.Line)
	if strings.TrimSpace(prefix[:min(len(prefix), f.offset(k.Line, k.Column)-f.lineStarts[k.Line-1])]) != "" {
		return change{}, errors.New("the key does not start its line (first key of a list item)")
	}
	end := f.entryEnd(k, v)
	if next := o.key + 2; next < len(m.Content) && m.Content[next].Line <= end {
		return change{}, errors.New("the next key is on the same line")
	}
	return change{start: f.lineStarts[k.Line-1], end: f.lineEnd(end)}, nil
}

// removeFlow removes key i of a flow mapping with the comma that separates it.
func (f *file) removeFlow(m *yaml.Node, i int) (change, error) {
	k, v := m.Content[i], m.Content[i+1]
	start := f.offset(k.Line, k.Column)
	end, err := f.flowNodeEnd(v)
	if err != nil {
		return change{}, err
	}
	d := f.data
	j := end
	for j < len(d) && (d[j] == ' ' || d[j] == '\t') {
		j++
	}
	if j < len(d) && d[j] == ',' {
		j++
		for j < len(d) && (d[j] == ' ' || d[j] == '\t') {
			j++
		}
		return change{start: start, end: j}, nil
	}
	// the last entry: take the comma before it
	s := start
	for s > 0 && (d[s-1] == ' ' || d[s-1] == '\t') {
		s--
	}
	if s > 0 && d[s-1] == ',' {
		return change{start: s - 1, end: end}, nil
	}
	return change{}, errors.New("cannot find the separator of a flow mapping entry")
}

// flowNodeEnd is the end of a node inside a flow collection.
func (f *file) flowNodeEnd(n *yaml.Node) (int, error) {
	start := f.offset(n.Line, n.Column)
	switch n.Kind {
	case yaml.ScalarNode:
		return f.scalarEnd(n, f.skipProperties(start), true)
	case yaml.AliasNode:
		return start + 1 + len(n.Value), nil
	case yaml.MappingNode, yaml.SequenceNode:
		return f.closing(f.skipProperties(start))
	}
	return 0, errors.New("unsupported node")
}

// closing finds the end (past the bracket) of the flow collection that opens at start.
func (f *file) closing(start int) (int, error) {
	d := f.data
	depth := 0
	for i := start; i < len(d); i++ {
		switch d[i] {
		case '{', '[':
			depth++
		case '}', ']':
			depth--
			if depth == 0 {
				return i + 1, nil
			}
		case '"':
			for i++; i < len(d) && d[i] != '"'; i++ {
				if d[i] == '\\' {
					i++
				}
			}
		case '\'':
			for i++; i < len(d); i++ {
				if d[i] == '\'' {
					if i+1 < len(d) && d[i+1] == '\'' {
						i++
						continue
					}
					break
				}
			}
		case '#':
			if i > start && isSpace(d[i-1]) {
				for i < len(d) && d[i] != '\n' {
					i++
				}
			}
		}
	}
	return 0, errors.New("unterminated flow collection")
}

// insertBlock inserts the keys of t after the last entry of the block mapping m, at m's
// indentation.
func (f *file) insertBlock(m *yaml.Node, t *omap) (change, error) {
	if len(m.Content) < 2 {
		return change{}, errors.New("empty block mapping")
	}
	k, v := m.Content[len(m.Content)-2], m.Content[len(m.Content)-1]
	step := 2
	for _, d := range f.docs {
		if d.root != nil && d.root.Line <= m.Line {
			step = d.step
		}
	}
	var b strings.Builder
	t.block(&b, strings.Repeat(" ", k.Column-1), strings.Repeat(" ", step), f.nl)
	end := f.entryEnd(k, v)
	at := f.lineEnd(end)
	text := b.String()
	if at == len(f.data) && (len(f.data) == 0 || f.data[len(f.data)-1] != '\n') {
		text = f.nl + strings.TrimSuffix(text, f.nl)
	}
	return change{start: at, end: at, text: text, depth: k.Column}, nil
}

// insertFlow inserts the keys of t before the closing brace of the flow mapping m.
func (f *file) insertFlow(m *yaml.Node, t *omap) (change, error) {
	end, err := f.closing(f.skipProperties(f.offset(m.Line, m.Column)))
	if err != nil {
		return change{}, err
	}
	at := end - 1 // the closing brace
	for at > 0 && isSpace(f.data[at-1]) {
		at--
	}
	text := t.flow()
	if len(m.Content) > 0 {
		text = ", " + text
	}
	return change{start: at, end: at, text: text, depth: m.Column}, nil
}
