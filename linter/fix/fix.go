// Package fix applies the edits of mechanical fixes (finding.Edit) to a file's bytes. Edits
// become byte-range changes at the positions of yaml.v3 nodes: a scalar is replaced in its own
// quoting style, a missing key is inserted after the last key of its mapping at that mapping's
// indentation (or into a flow mapping), a key is removed with its line(s). Nothing is ever
// re-serialised, so comments, key order, quoting and indentation stay as they are, and a file
// with no edit stays byte-identical.
//
// Every result is checked: the edited file is parsed again and each document must decode to
// the original document with the edits applied, else the file is left unchanged.
package fix

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"reflect"
	"slices"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/openova-io/ova-lint/linter/finding"
)

// Request is the edits of one finding, on one document of the file.
type Request struct {
	// Line is a line inside the document the edits are on (the finding's line): the document
	// is the last one that starts at or before it.
	Line int
	// Kind and Name, when set, must be the document's kind and metadata.name.
	Kind, Name string
	// Edits are applied together, or not at all.
	Edits []finding.Edit
}

// Options tune Apply and Plan.
type Options struct {
	// AcceptAPIVersion decides whether a document may take an edit of its apiVersion (path
	// ["apiVersion"]): it gets the document as it would be after the request's edits and
	// returns why not (schema errors). nil rejects every apiVersion edit.
	AcceptAPIVersion func(obj map[string]any) error
}

// Result says what became of one request.
type Result struct {
	// Applied is true when every edit of the request is in the output (or was already there).
	Applied bool
	// Reason says why a request was not applied.
	Reason string
}

// ErrUnverified is returned when the edited file would not decode to the expected documents:
// the file is left unchanged.
var ErrUnverified = errors.New("the edited file does not decode to the expected documents")

// change is one byte-range replacement: data[start:end] becomes text.
type change struct {
	start, end int
	text       string
	// depth orders insertions at one offset: the deeper mapping's keys come first.
	depth int
	// reqs are the requests the change comes from.
	reqs []int
}

// Apply returns data with the edits of reqs applied; results[i] says what became of reqs[i].
// Requests that cannot be applied (a path through an alias, a block scalar, a conflicting
// request, an apiVersion the schema refuses) are skipped with a reason; the others are applied
// from the end of the file backwards. An error means data could not be edited at all (it does
// not parse, or the result would not decode as expected) and is returned unchanged.
func Apply(data []byte, reqs []Request, opts Options) ([]byte, []Result, error) {
	results := make([]Result, len(reqs))
	if len(reqs) == 0 {
		return data, results, nil
	}
	f, err := parse(data)
	if err != nil {
		for i := range results {
			results[i].Reason = err.Error()
		}
		return data, results, err
	}
	ops := make([][]op, len(reqs))
	for i, r := range reqs {
		ops[i], err = f.resolve(r, opts)
		if err != nil {
			results[i].Reason = err.Error()
			ops[i] = nil
			continue
		}
		for j := range ops[i] {
			ops[i][j].req = i
		}
		results[i].Applied = true
	}
	conflicts(ops, results)
	var accepted []op
	var changes []change
	for {
		accepted = accepted[:0]
		for i := range reqs {
			if results[i].Applied {
				accepted = append(accepted, ops[i]...)
			}
		}
		changes, err = f.changes(dedupe(accepted))
		var overlap *overlapError
		if errors.As(err, &overlap) {
			// the requests whose changes overlap are skipped; the others are tried again
			for _, i := range overlap.reqs {
				results[i] = Result{Reason: overlap.Error()}
			}
			continue
		}
		if err != nil {
			return data, fail(results, err), err
		}
		break
	}
	out, err := f.apply(changes)
	if err != nil {
		return data, fail(results, err), err
	}
	if err := f.verify(out, accepted); err != nil {
		return data, fail(results, err), err
	}
	return out, results, nil
}

// Plan returns the replacements that req alone makes in data, at positions of data.
func Plan(data []byte, req Request, opts Options) ([]finding.Replacement, error) {
	f, err := parse(data)
	if err != nil {
		return nil, err
	}
	ops, err := f.resolve(req, opts)
	if err != nil {
		return nil, err
	}
	changes, err := f.changes(dedupe(ops))
	if err != nil {
		return nil, err
	}
	out, err := f.apply(changes)
	if err != nil {
		return nil, err
	}
	if err := f.verify(out, ops); err != nil {
		return nil, err
	}
	reps := make([]finding.Replacement, 0, len(changes))
	for _, c := range changes {
		sl, sc := f.position(c.start)
		el, ec := f.position(c.end)
		reps = append(reps, finding.Replacement{StartLine: sl, StartColumn: sc, EndLine: el, EndColumn: ec, Text: c.text})
	}
	return reps, nil
}

func fail(results []Result, err error) []Result {
	for i := range results {
		if results[i].Applied {
			results[i] = Result{Reason: err.Error()}
		}
	}
	return results
}

// file is a parsed YAML stream and the text it came from.
type file struct {
	data       []byte
	lineStarts []int // byte offset of each line (index 0 is line 1)
	bom        int   // length of a UTF-8 byte order mark (yaml.v3 does not count it)
	nl         string
	docs       []*doc
}

type doc struct {
	index int
	root  *yaml.Node // the document's content (nil for an empty document)
	obj   any        // the decoded document (nil when it does not decode)
	step  int        // the document's indentation step
}

func parse(data []byte) (*file, error) {
	f := &file{data: data, nl: "\n"}
	if bytes.HasPrefix(data, []byte("\ufeff")) {
		f.bom = 3
	}
	if bytes.Contains(data, []byte("\r\n")) {
		f.nl = "\r\n"
	}
	f.lineStarts = append(f.lineStarts, 0)
	for i, b := range data {
		if b == '\n' {
			f.lineStarts = append(f.lineStarts, i+1)
		}
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for i := 0; ; i++ {
		var n yaml.Node
		err := dec.Decode(&n)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("does not parse: %w", err)
		}
		d := &doc{index: i, step: 2}
		if len(n.Content) > 0 {
			d.root = n.Content[0]
			var obj any
			if n.Decode(&obj) == nil {
				d.obj = canon(obj)
			}
			if s := indentStep(d.root); s > 0 {
				d.step = s
			}
		}
		f.docs = append(f.docs, d)
	}
	return f, nil
}

// indentStep is the indentation of the first block mapping nested in another one.
func indentStep(n *yaml.Node) int {
	if n.Kind != yaml.MappingNode || n.Style&yaml.FlowStyle != 0 {
		for _, c := range n.Content {
			if s := indentStep(c); s > 0 {
				return s
			}
		}
		return 0
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		v := n.Content[i+1]
		if v.Kind == yaml.MappingNode && v.Style&yaml.FlowStyle == 0 && len(v.Content) > 0 && v.Line > n.Content[i].Line {
			if s := v.Content[0].Column - n.Content[i].Column; s > 0 {
				return s
			}
		}
		if s := indentStep(v); s > 0 {
			return s
		}
	}
	return 0
}

// offset is the byte offset of a yaml.v3 position (1-based line, column in characters).
func (f *file) offset(line, col int) int {
	if line < 1 || line > len(f.lineStarts) {
		return len(f.data)
	}
	o := f.lineStarts[line-1]
	if line == 1 {
		o += f.bom
	}
	for c := 1; c < col && o < len(f.data) && f.data[o] != '\n'; c++ {
		_, size := decodeRune(f.data[o:])
		o += size
	}
	return o
}

// position is the 1-based line and column (in Unicode code points) of a byte offset.
func (f *file) position(off int) (int, int) {
	line := sort.Search(len(f.lineStarts), func(i int) bool { return f.lineStarts[i] > off })
	start := f.lineStarts[line-1]
	col := 1
	for o := start; o < off; {
		_, size := decodeRune(f.data[o:])
		o += size
		col++
	}
	return line, col
}

func decodeRune(b []byte) (rune, int) {
	r := []rune(string(b[:min(len(b), 4)]))
	if len(r) == 0 {
		return 0, 1
	}
	return r[0], len(string(r[0]))
}

// lineEnd is the offset just past the end of line (its newline included).
func (f *file) lineEnd(line int) int {
	if line < len(f.lineStarts) {
		return f.lineStarts[line]
	}
	return len(f.data)
}

// lineText is the text of a line without its line break.
func (f *file) lineText(line int) string {
	if line < 1 || line > len(f.lineStarts) {
		return ""
	}
	s := string(f.data[f.lineStarts[line-1]:f.lineEnd(line)])
	return strings.TrimRight(s, "\r\n")
}

// pick finds the document of a request.
func (f *file) pick(r Request) (*doc, error) {
	var d *doc
	for _, x := range f.docs {
		if x.root == nil {
			continue
		}
		if d == nil || x.root.Line <= r.Line {
			d = x
		}
	}
	if d == nil {
		return nil, errors.New("the file holds no document")
	}
	if d.obj == nil {
		return nil, errors.New("the document does not decode (duplicate keys?)")
	}
	m, _ := d.obj.(map[string]any)
	if r.Kind != "" {
		if k, _ := m["kind"].(string); k != r.Kind {
			return nil, fmt.Errorf("the document at line %d is not a %s", r.Line, r.Kind)
		}
	}
	if r.Name != "" {
		md, _ := m["metadata"].(map[string]any)
		if n, _ := md["name"].(string); n != r.Name {
			return nil, fmt.Errorf("the document at line %d is not %s", r.Line, r.Name)
		}
	}
	return d, nil
}

// sameValue compares two values as JSON does.
func sameValue(a, b any) bool { return reflect.DeepEqual(canon(a), canon(b)) }

// hasPrefix reports whether path starts with prefix.
func hasPrefix(path, prefix []any) bool {
	return len(prefix) <= len(path) && slices.EqualFunc(prefix, path[:len(prefix)], func(a, b any) bool { return a == b })
}

// RequestOf is the fix request of a finding. A finding on a built object names the object as
// built (kustomize may prefix the name), so only its kind identifies the source document.
func RequestOf(f finding.Finding) Request {
	r := Request{Line: f.Line, Kind: f.Kind, Name: f.Name, Edits: f.Edits}
	if len(f.Chain) > 0 {
		r.Name = ""
	}
	return r
}

// PlanFindings gives every finding with edits the replacements that its fix alone makes in its
// file (read returns a file's bytes by the finding's File, false for a file that is not to be
// fixed), for the formats that carry fixes (SARIF). A finding whose fix cannot be made gets none.
func PlanFindings(fs []finding.Finding, read func(file string) ([]byte, bool), opts Options) {
	texts := map[string][]byte{}
	for i, f := range fs {
		if len(f.Edits) == 0 {
			continue
		}
		data, seen := texts[f.File]
		if !seen {
			data, _ = read(f.File)
			texts[f.File] = data
		}
		if data == nil {
			continue
		}
		if reps, err := Plan(data, RequestOf(f), opts); err == nil && len(reps) > 0 {
			fs[i].Replacements = reps
		}
	}
}
