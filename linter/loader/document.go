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

// Limits bound what one file may cost, so hostile input yields a finding instead of a crash.
type Limits struct {
	// MaxFileBytes is the largest file read; larger files are reported, not parsed.
	MaxFileBytes int64
	// MaxDocuments is the most documents read from one file.
	MaxDocuments int
	// MaxDepth is the deepest nesting of mappings and sequences.
	MaxDepth int
	// MaxNodes bounds the nodes of one document after alias expansion ("billion laughs").
	MaxNodes int
}

// DefaultLimits are generous for real GitOps trees and small enough to stop abuse.
func DefaultLimits() Limits {
	return Limits{MaxFileBytes: 16 << 20, MaxDocuments: 10000, MaxDepth: 200, MaxNodes: 1_000_000}
}

// Document is one YAML document of a file.
type Document struct {
	// Index is the 0-based position of the document in its file.
	Index int
	// Node is the document's root content node (a mapping for Kubernetes objects).
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
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("line %d column %d: %s", e.Line, e.Column, e.Message)
}

var yamlLineRe = regexp.MustCompile(`^yaml: (?:line (\d+): )?`)

// Parse decodes every document of data. Documents decoded before a syntax error are returned
// together with the error, so one broken document loses nothing before it.
func Parse(data []byte, limits Limits) ([]Document, *SyntaxError) {
	if limits.MaxFileBytes > 0 && int64(len(data)) > limits.MaxFileBytes {
		return nil, &SyntaxError{Message: fmt.Sprintf("file is %d bytes, over the limit of %d", len(data), limits.MaxFileBytes), Line: 1, Column: 1}
	}
	if bytes.IndexByte(data, 0) >= 0 {
		return nil, &SyntaxError{Message: "binary content (NUL byte)", Line: 1, Column: 1}
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var docs []Document
	for index := 0; ; index++ {
		if limits.MaxDocuments > 0 && index >= limits.MaxDocuments {
			return docs, &SyntaxError{Message: fmt.Sprintf("more than %d documents in one file", limits.MaxDocuments), Line: 1, Column: 1}
		}
		var root yaml.Node
		err := decode(dec, &root)
		if errors.Is(err, io.EOF) {
			return docs, nil
		}
		if err != nil {
			return docs, toSyntaxError(err)
		}
		if root.Kind != yaml.DocumentNode || len(root.Content) == 0 {
			continue
		}
		content := root.Content[0]
		if content.Kind == yaml.ScalarNode && content.ShortTag() == "!!null" {
			continue // an empty document ("---" alone, or comments only)
		}
		c := converter{limits: limits}
		obj, err := c.value(content, 0)
		if err != nil {
			return docs, &SyntaxError{Message: err.Error(), Line: content.Line, Column: content.Column}
		}
		docs = append(docs, Document{Index: index, Node: content, Object: obj, DuplicateKeys: c.duplicates})
	}
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

func toSyntaxError(err error) *SyntaxError {
	msg := err.Error()
	line := 1
	if m := yamlLineRe.FindStringSubmatch(msg); m != nil {
		if m[1] != "" {
			line, _ = strconv.Atoi(m[1])
		}
		msg = msg[len(m[0]):]
	}
	var te *yaml.TypeError
	if errors.As(err, &te) && len(te.Errors) > 0 {
		msg = strings.Join(te.Errors, "; ")
	}
	return &SyntaxError{Message: msg, Line: line, Column: 1}
}

type converter struct {
	limits     Limits
	nodes      int
	duplicates []DuplicateKey
}

func (c *converter) value(n *yaml.Node, depth int) (any, error) {
	c.nodes++
	if c.limits.MaxNodes > 0 && c.nodes > c.limits.MaxNodes {
		return nil, fmt.Errorf("document expands to more than %d nodes (alias expansion or size limit)", c.limits.MaxNodes)
	}
	if c.limits.MaxDepth > 0 && depth > c.limits.MaxDepth {
		return nil, fmt.Errorf("nesting deeper than %d levels", c.limits.MaxDepth)
	}
	switch n.Kind {
	case yaml.AliasNode:
		if n.Alias == nil {
			return nil, nil
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
			key := keyString(k)
			if _, dup := m[key]; dup {
				first := 0
				if firstLine != nil {
					first = firstLine[key]
				}
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
			case int64, uint64, float64:
				return x
			}
		}
		if f, err := strconv.ParseFloat(n.Value, 64); err == nil {
			return f
		}
		return n.Value
	case "!!float":
		var f float64
		if err := n.Decode(&f); err == nil && !math.IsInf(f, 0) && !math.IsNaN(f) {
			return f
		}
		return n.Value // .inf and .nan have no JSON form: keep the text
	default:
		return n.Value // !!str, !!timestamp, !!binary and custom tags keep their text
	}
}
