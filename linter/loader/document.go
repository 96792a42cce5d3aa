// Package loader finds YAML files in a tree and parses each document once into a yaml.v3 node
// tree (for positions) and a plain value (for the engine), detecting duplicate keys on the way.
package loader

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"regexp"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Limits bound what one file may cost, so hostile input yields a finding instead of a crash or
// an out-of-memory kill. Each limit is checked before the work it bounds: the size before the
// file is read past it, the node estimate before yaml.v3 builds its node tree (its memory is
// about 200 bytes per node), the document count before the next document is kept, the node
// count during alias expansion. yaml.v3 itself stops at a nesting depth of 10000 in its scanner,
// so a 100k-deep "[[[[" never reaches a recursive parser; MaxDepth is checked while converting.
// A zero field means no limit.
type Limits struct {
	// MaxFileBytes is the largest file read; larger files are reported, not parsed.
	MaxFileBytes int64
	// MaxDocuments is the most documents read from one file.
	MaxDocuments int
	// MaxDepth is the deepest nesting of mappings and sequences.
	MaxDepth int
	// MaxNodes bounds the nodes (mapping keys included) of one file, all documents together,
	// after alias expansion ("billion laughs"). The text is checked against it before parsing
	// too, with an estimate that counts one node per line and per indicator (- ? : , [ {).
	MaxNodes int
}

// DefaultLimits are generous for real GitOps trees and small enough to stop abuse. A file at
// MaxNodes costs about 500 MB while it is linted; a 10 MB list of 100k ConfigMaps (kubeconform's
// valid_large.yaml) holds 1.3M nodes, a 300 kB CRD about 5k.
func DefaultLimits() Limits {
	return Limits{MaxFileBytes: 16 << 20, MaxDocuments: 10000, MaxDepth: 200, MaxNodes: 2_000_000}
}

// Document is one YAML document of a file, or one item of a List document (see Parse).
type Document struct {
	// Index is the 0-based position of the document in its file; the items of a List share the
	// index of their List.
	Index int
	// Node is the document's root content node (a mapping for Kubernetes objects); for a List
	// item, the item's node, so positions point into the file.
	Node *yaml.Node
	// Object is the document as plain Go values (map[string]any, []any, string, int64, float64,
	// bool, nil), as JSON would decode it.
	Object any
	// DuplicateKeys lists repeated mapping keys.
	DuplicateKeys []DuplicateKey
}

// DuplicateKey is a mapping key that appears again in the same mapping.
type DuplicateKey struct {
	Key       string `json:"key"`
	Line      int    `json:"line"`
	Column    int    `json:"column"`
	FirstLine int    `json:"first_line"`
}

// SyntaxError is a file that could not be parsed, with the position of the problem.
type SyntaxError struct {
	Message string
	Line    int
	Column  int
	// Fix says what to do when it is not a plain syntax fix (a limit was exceeded).
	Fix string
}

// limitFix is the advice for a file that exceeds a loader limit.
const limitFix = "split the file, or remove what inflates it (anchors expanded many times, generated bulk); the loader limits guard the linter and the cluster alike"

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("line %d column %d: %s", e.Line, e.Column, e.Message)
}

var yamlLineRe = regexp.MustCompile(`^yaml: (?:line (\d+): )?`)

// Parse decodes every document of data. Documents decoded before a syntax error are returned
// together with the error, so one broken document loses nothing before it. A limit that is
// exceeded is a SyntaxError at the position where it was exceeded.
//
// A List document (kind List or any kind ending in List, such as what `kubectl get -o yaml`
// writes) whose items are all mappings is returned as one Document per item, as kubectl and
// kustomize apply it: each item is an object of its own. The items keep their List's Index and
// count as one document against MaxDocuments (their nodes are counted against MaxNodes like any
// other). A duplicate key goes to the item it is written in; one outside every item (in the
// List's own fields) goes to the first item.
func Parse(data []byte, limits Limits) ([]Document, *SyntaxError) {
	if limits.MaxFileBytes > 0 && int64(len(data)) > limits.MaxFileBytes {
		return nil, &SyntaxError{Message: fmt.Sprintf("not parsed: the file is larger than the limit of %d bytes", limits.MaxFileBytes), Line: 1, Column: 1, Fix: limitFix}
	}
	data = UTF8(data)
	if i := bytes.IndexByte(data, 0); i >= 0 {
		line, col := offsetPosition(data, i)
		return nil, &SyntaxError{Message: "binary content (NUL byte)", Line: line, Column: col}
	}
	// The estimate counts at most one node per byte: a file shorter than MaxNodes needs no scan.
	if limits.MaxNodes > 0 && len(data) >= limits.MaxNodes {
		if line := nodeEstimateExceeded(data, limits.MaxNodes); line > 0 {
			return nil, &SyntaxError{Message: fmt.Sprintf("not parsed: the file holds more than %d YAML nodes by this line (estimated before parsing)", limits.MaxNodes), Line: line, Column: 1, Fix: limitFix}
		}
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	c := converter{limits: limits}
	var docs []Document
	for index := 0; ; index++ {
		var root yaml.Node
		err := decode(dec, &root)
		if errors.Is(err, io.EOF) {
			return docs, nil
		}
		if err != nil {
			return docs, toSyntaxError(err)
		}
		if limits.MaxDocuments > 0 && index >= limits.MaxDocuments {
			line, col := root.Line, root.Column
			if len(root.Content) > 0 {
				line, col = root.Content[0].Line, root.Content[0].Column
			}
			return docs, &SyntaxError{Message: fmt.Sprintf("not parsed past this point: the file holds more than %d documents", limits.MaxDocuments), Line: max(line, 1), Column: max(col, 1), Fix: limitFix}
		}
		if root.Kind != yaml.DocumentNode || len(root.Content) == 0 {
			continue
		}
		content := root.Content[0]
		if content.Kind == yaml.ScalarNode && content.ShortTag() == "!!null" {
			continue // an empty document ("---" alone, or comments only)
		}
		c.duplicates = nil
		obj, err := c.value(content, 0)
		if err != nil {
			var le *limitError
			if errors.As(err, &le) {
				return docs, &SyntaxError{Message: le.msg, Line: max(le.line, 1), Column: max(le.column, 1), Fix: limitFix}
			}
			return docs, &SyntaxError{Message: err.Error(), Line: max(content.Line, 1), Column: max(content.Column, 1)}
		}
		doc := Document{Index: index, Node: content, Object: obj, DuplicateKeys: c.duplicates}
		if items := listItems(doc); items != nil {
			docs = append(docs, items...)
			continue
		}
		docs = append(docs, doc)
	}
}

// listItems returns the items of a List document as Documents, or nil when doc is not a List
// with at least one item and only mappings for items.
func listItems(doc Document) []Document {
	m, ok := doc.Object.(map[string]any)
	if !ok {
		return nil
	}
	kind, _ := m["kind"].(string)
	items, _ := m["items"].([]any)
	if !strings.HasSuffix(kind, "List") || len(items) == 0 {
		return nil
	}
	// The node of the items: the last items key written in the List's mapping (the value the
	// decoded object holds; a merge key never overrides a written key).
	root := resolveAlias(doc.Node)
	if root.Kind != yaml.MappingNode {
		return nil
	}
	var seq *yaml.Node
	for i := 0; i+1 < len(root.Content); i += 2 {
		if k := root.Content[i]; keyString(k) == "items" && !(k.Value == "<<" && k.ShortTag() == "!!merge") {
			seq = root.Content[i+1]
		}
	}
	if seq == nil {
		return nil
	}
	seq = resolveAlias(seq)
	if seq.Kind != yaml.SequenceNode || len(seq.Content) != len(items) {
		return nil
	}
	out := make([]Document, len(items))
	for i, item := range items {
		if _, ok := item.(map[string]any); !ok {
			return nil
		}
		out[i] = Document{Index: doc.Index, Node: seq.Content[i], Object: item}
	}
	for _, dk := range doc.DuplicateKeys {
		at := 0
		for i := range out {
			if spans(out[i].Node, dk.Line, dk.Column) {
				at = i
				break
			}
		}
		out[at].DuplicateKeys = append(out[at].DuplicateKeys, dk)
	}
	return out
}

func resolveAlias(n *yaml.Node) *yaml.Node {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	return n
}

// spans reports whether line:column lies in the text of n: from its start to the start of its
// last descendant (aliases not followed; a key is never the last descendant of a mapping).
func spans(n *yaml.Node, line, column int) bool {
	if before(line, column, n.Line, n.Column) {
		return false
	}
	last := n
	for len(last.Content) > 0 {
		last = last.Content[len(last.Content)-1]
	}
	return !before(last.Line, last.Column, line, column)
}

// before reports whether position a comes before position b.
func before(aLine, aCol, bLine, bCol int) bool {
	return aLine < bLine || aLine == bLine && aCol < bCol
}

// decode shields the caller from panics inside the YAML library on hostile input.
func decode(dec *yaml.Decoder, n *yaml.Node) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("yaml: %v", r)
		}
	}()
	return dec.Decode(n)
}

// parserProblems are the errors of yaml.v3's parser (as opposed to its scanner). For them the
// library reports the 0-based line where the enclosing collection starts, so the 1-based line
// is one more, and the message says which collection the position is about.
var parserProblems = map[string]string{
	"did not find expected key":              "in the block mapping that starts here",
	"did not find expected '-' indicator":    "in the block sequence that starts here",
	"did not find expected ',' or ']'":       "in the flow sequence that starts here",
	"did not find expected ',' or '}'":       "in the flow mapping that starts here",
	"did not find expected node content":     "in the node that starts here",
	"did not find expected <document start>": "",
	"found undefined tag handle":             "in the node that starts here",
}

func toSyntaxError(err error) *SyntaxError {
	msg := err.Error()
	line := 1
	if m := yamlLineRe.FindStringSubmatch(msg); m != nil {
		msg = msg[len(m[0]):]
		if m[1] != "" {
			line, _ = strconv.Atoi(m[1])
			if where, ok := parserProblems[msg]; ok {
				line++
				if where != "" {
					msg += " (" + where + ")"
				}
			}
		}
	}
	var te *yaml.TypeError
	if errors.As(err, &te) && len(te.Errors) > 0 {
		msg = strings.Join(te.Errors, "; ")
	}
	return &SyntaxError{Message: msg, Line: max(line, 1), Column: 1}
}

type converter struct {
	limits     Limits
	nodes      int // across the documents of one file
	duplicates []DuplicateKey
	// alias is the outermost alias being expanded: a limit exceeded inside an expansion is
	// reported where the alias is used.
	alias *yaml.Node
	// expanding holds the anchored nodes being expanded, to catch an alias inside the node it
	// names ("a: &a [*a]"), which yaml.v3 accepts into a node tree: a cycle.
	expanding map[*yaml.Node]bool
}

// limitError is a limit exceeded at a node.
type limitError struct {
	msg          string
	line, column int
}

func (e *limitError) Error() string { return e.msg }

func (c *converter) exceeded(n *yaml.Node, format string, args ...any) error {
	at := n
	if c.alias != nil {
		at = c.alias
	}
	return &limitError{msg: fmt.Sprintf(format, args...), line: at.Line, column: at.Column}
}

// count counts one node (a value or a mapping key) against MaxNodes.
func (c *converter) count(n *yaml.Node) error {
	c.nodes++
	if c.limits.MaxNodes > 0 && c.nodes > c.limits.MaxNodes {
		if c.alias != nil {
			return c.exceeded(n, "not parsed: alias expansion makes the file larger than the limit of %d YAML nodes", c.limits.MaxNodes)
		}
		return c.exceeded(n, "not parsed: the file holds more than %d YAML nodes", c.limits.MaxNodes)
	}
	return nil
}

func (c *converter) value(n *yaml.Node, depth int) (any, error) {
	if err := c.count(n); err != nil {
		return nil, err
	}
	if c.limits.MaxDepth > 0 && depth > c.limits.MaxDepth {
		return nil, c.exceeded(n, "not parsed: nesting deeper than %d levels", c.limits.MaxDepth)
	}
	switch n.Kind {
	case yaml.AliasNode:
		if n.Alias == nil {
			return nil, nil
		}
		if c.expanding[n.Alias] {
			return nil, &limitError{msg: fmt.Sprintf("alias *%s is used inside the node it names (a cycle)", n.Value), line: n.Line, column: n.Column}
		}
		if c.expanding == nil {
			c.expanding = map[*yaml.Node]bool{}
		}
		c.expanding[n.Alias] = true
		defer delete(c.expanding, n.Alias)
		if c.alias == nil {
			c.alias = n
			defer func() { c.alias = nil }()
		}
		return c.value(n.Alias, depth+1)
	case yaml.MappingNode:
		m := make(map[string]any, len(n.Content)/2)
		var firstLine map[string]int
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if k.Kind == yaml.ScalarNode && k.Value == "<<" && k.ShortTag() == "!!merge" {
				if err := c.merge(m, v, depth); err != nil {
					return nil, err
				}
				continue
			}
			if err := c.count(k); err != nil {
				return nil, err
			}
			key := keyString(k)
			// A key that a merge brought in is overridden, not repeated: only written keys count.
			if first, dup := firstLine[key]; dup {
				c.duplicates = append(c.duplicates, DuplicateKey{Key: key, Line: k.Line, Column: k.Column, FirstLine: first})
			} else {
				if firstLine == nil {
					firstLine = make(map[string]int, len(n.Content)/2)
				}
				firstLine[key] = k.Line
			}
			val, err := c.value(v, depth+1)
			if err != nil {
				return nil, err
			}
			m[key] = val
		}
		return m, nil
	case yaml.SequenceNode:
		s := make([]any, len(n.Content))
		for i, item := range n.Content {
			val, err := c.value(item, depth+1)
			if err != nil {
				return nil, err
			}
			s[i] = val
		}
		return s, nil
	case yaml.ScalarNode:
		return scalar(n), nil
	case yaml.DocumentNode:
		if len(n.Content) == 0 {
			return nil, nil
		}
		return c.value(n.Content[0], depth)
	}
	return nil, nil
}

// merge applies a YAML merge key ("<<: *base"): keys already present win.
func (c *converter) merge(into map[string]any, v *yaml.Node, depth int) error {
	sources := []*yaml.Node{v}
	if v.Kind == yaml.SequenceNode {
		sources = v.Content
	}
	for _, src := range sources {
		val, err := c.value(src, depth+1)
		if err != nil {
			return err
		}
		if m, ok := val.(map[string]any); ok {
			for k, x := range m {
				if _, exists := into[k]; !exists {
					into[k] = x
				}
			}
		}
	}
	return nil
}

func keyString(k *yaml.Node) string {
	for k.Kind == yaml.AliasNode && k.Alias != nil {
		k = k.Alias
	}
	return k.Value
}

// scalar resolves a scalar node the way the YAML 1.2 core schema (and Kubernetes) does.
func scalar(n *yaml.Node) any {
	switch n.ShortTag() {
	case "!!null":
		return nil
	case "!!bool":
		switch strings.ToLower(n.Value) {
		case "true", "yes", "on", "y":
			return true
		}
		return false
	case "!!int":
		if i, err := strconv.ParseInt(n.Value, 0, 64); err == nil {
			return i
		}
		var v any
		if err := n.Decode(&v); err == nil {
			switch x := v.(type) {
			case int:
				return int64(x)
			case int64, uint64:
				return x
			case float64:
				if finite(x) {
					return x
				}
			}
		}
		if f, err := strconv.ParseFloat(n.Value, 64); err == nil && finite(f) {
			return f
		}
		return n.Value // "!!int NaN" and "!!int inf" have no JSON form either
	case "!!float":
		var f float64
		if err := n.Decode(&f); err == nil && finite(f) {
			return f
		}
		return n.Value // .inf and .nan have no JSON form: keep the text
	default:
		return n.Value // !!str, !!timestamp, !!binary and custom tags keep their text
	}
}

func finite(f float64) bool { return !math.IsInf(f, 0) && !math.IsNaN(f) }
