package webhook

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/open-policy-agent/opa/v1/ast"
)

// decodeObject decodes an AdmissionReview object as the engine expects it. Server-side
// bookkeeping that no Git file carries (metadata.managedFields) is dropped.
//
// Only what Go code reads is decoded into Go values (the decoder's OPA values through ast.JSON,
// not encoding/json): the top-level scalars (kind, type) and metadata (identity, labels,
// annotations, owner references), whose managedFields are skipped. Every other top-level value
// (spec, data, ...) is decoded straight into an OPA value, which input.ObjectInput keeps as
// it is: a 1 MiB ConfigMap is read once, not into Go maps and then copied into OPA's.
func decodeObject(raw []byte) (map[string]any, error) {
	if len(raw) == 0 {
		return nil, errors.New("the request carries no object")
	}
	obj, err := decodeDirect(raw)
	if err != nil {
		// Not valid JSON, or not an object: encoding/json's verdict (its error, or what it
		// accepts: null, or an object followed by anything).
		return decodeGo(raw)
	}
	if md, ok := obj["metadata"].(map[string]any); ok {
		delete(md, "managedFields")
	}
	return obj, nil
}

// errInvalid stops the direct decoding: encoding/json decides instead.
var errInvalid = errors.New("not a JSON object")

// decodeDirect decodes a JSON object as decodeObject describes, or fails with errInvalid. What
// follows the object is not read, as encoding/json's Decoder does not.
func decodeDirect(raw []byte) (map[string]any, error) {
	d := reviewDecoder{astDecoder: astDecoder{data: raw}}
	if d.space() != '{' {
		return nil, errInvalid
	}
	obj := map[string]any{}
	err := d.object(func(key string) error {
		var v any
		var err error
		switch c := d.space(); {
		case key != "metadata" && (c == '{' || c == '['):
			v, err = d.value()
		case key == "metadata" && c == '{':
			v, err = d.metadata()
		default: // strings, numbers, true, false, null: Go values as encoding/json makes them
			v, err = d.goValue()
		}
		obj[key] = v
		return err
	})
	if err != nil {
		return nil, errInvalid
	}
	return obj, nil
}

// decodeGo decodes a JSON object into Go values (numbers as json.Number), as encoding/json does.
func decodeGo(raw []byte) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var obj map[string]any
	if err := dec.Decode(&obj); err != nil {
		// The decoder's message may quote object bytes: report only where it failed.
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return nil, fmt.Errorf("object is not valid JSON (byte %d)", se.Offset)
		}
		return nil, errors.New("object is not a JSON object")
	}
	if md, ok := obj["metadata"].(map[string]any); ok {
		delete(md, "managedFields")
	}
	return obj, nil
}

// astDecoder turns JSON text into OPA values: the values ast.InterfaceToValue makes of
// encoding/json's (UseNumber) for the same text, duplicate keys included (the last one wins).
// Any text encoding/json would refuse fails with errInvalid.
type astDecoder struct {
	data []byte
	pos  int
}

// space moves pos past white space and returns the byte there (0 at the end).
func (d *astDecoder) space() byte {
	for d.pos < len(d.data) {
		switch c := d.data[d.pos]; c {
		case ' ', '\t', '\n', '\r':
			d.pos++
		default:
			return c
		}
	}
	return 0
}

// value decodes the value at pos.
func (d *astDecoder) value() (ast.Value, error) {
	switch c := d.space(); c {
	case '{':
		d.pos++
		obj := ast.NewObjectWithCapacity(0)
		for first := true; ; first = false {
			c := d.space()
			if c == '}' && first {
				d.pos++
				return obj, nil
			}
			if c != '"' {
				return nil, errInvalid
			}
			key, err := d.str()
			if err != nil {
				return nil, err
			}
			if d.space() != ':' {
				return nil, errInvalid
			}
			d.pos++
			v, err := d.value()
			if err != nil {
				return nil, err
			}
			obj.Insert(ast.InternedTerm(key), ast.NewTerm(v))
			switch d.space() {
			case ',':
				d.pos++
			case '}':
				d.pos++
				return obj, nil
			default:
				return nil, errInvalid
			}
		}
	case '[':
		d.pos++
		var elems []*ast.Term
		for first := true; ; first = false {
			if d.space() == ']' && first {
				d.pos++
				return ast.NewArray(elems...), nil
			}
			v, err := d.value()
			if err != nil {
				return nil, err
			}
			elems = append(elems, ast.NewTerm(v))
			switch d.space() {
			case ',':
				d.pos++
			case ']':
				d.pos++
				return ast.NewArray(elems...), nil
			default:
				return nil, errInvalid
			}
		}
	case '"':
		s, err := d.str()
		if err != nil {
			return nil, err
		}
		return ast.String(s), nil
	case 't':
		return ast.Boolean(true), d.literal("true")
	case 'f':
		return ast.Boolean(false), d.literal("false")
	case 'n':
		return ast.NullValue, d.literal("null")
	}
	start := d.pos
	if !d.number() {
		return nil, errInvalid
	}
	return ast.InterfaceToValue(json.Number(d.data[start:d.pos]))
}

// metadata decodes the object metadata at pos into Go values, as goValue does, without
// metadata.managedFields: the server's field bookkeeping (often most of the metadata), only
// checked to be JSON.
func (d *reviewDecoder) metadata() (map[string]any, error) {
	md := map[string]any{}
	err := d.object(func(key string) error {
		if key == "managedFields" {
			return d.skip()
		}
		v, err := d.goValue()
		md[key] = v
		return err
	})
	return md, err
}

// goValue decodes the value at pos into Go values, as encoding/json does into an any with
// UseNumber (map[string]any, []any, string, json.Number, bool, nil): ast.JSON of the value
// decodes to.
func (d *astDecoder) goValue() (any, error) {
	v, err := d.value()
	if err != nil {
		return nil, err
	}
	return ast.JSON(v)
}

func (d *astDecoder) literal(word string) error {
	if !bytes.HasPrefix(d.data[d.pos:], []byte(word)) {
		return errInvalid
	}
	d.pos += len(word)
	return nil
}

// str decodes the string at pos: a copy of the text when it has no escape and is valid UTF-8
// (encoding/json turns invalid bytes into U+FFFD).
func (d *astDecoder) str() (string, error) {
	start := d.pos
	escaped, ok := d.skipStr()
	if !ok {
		return "", errInvalid
	}
	text := d.data[start+1 : d.pos-1]
	if !escaped && utf8.Valid(text) {
		return string(text), nil
	}
	return unquote(text), nil
}

// skipStr moves pos past the string at pos, says whether it has escapes and whether it is a
// valid JSON string.
func (d *astDecoder) skipStr() (escaped, ok bool) {
	d.pos++ // '"'
	for d.pos < len(d.data) {
		switch c := d.data[d.pos]; {
		case c == '"':
			d.pos++
			return escaped, true
		case c == '\\':
			escaped = true
			if d.pos+1 >= len(d.data) {
				return escaped, false
			}
			switch d.data[d.pos+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				d.pos += 2
			case 'u':
				if d.pos+6 > len(d.data) || !isHex(d.data[d.pos+2:d.pos+6]) {
					return escaped, false
				}
				d.pos += 6
			default:
				return escaped, false
			}
		case c < ' ':
			return escaped, false
		default:
			d.pos++
		}
	}
	return escaped, false
}

func isHex(s []byte) bool {
	for _, c := range s {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

// number moves pos past the number at pos: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?
func (d *astDecoder) number() bool {
	digits := func() int {
		n := 0
		for d.pos < len(d.data) && '0' <= d.data[d.pos] && d.data[d.pos] <= '9' {
			d.pos++
			n++
		}
		return n
	}
	if d.pos < len(d.data) && d.data[d.pos] == '-' {
		d.pos++
	}
	if d.pos < len(d.data) && d.data[d.pos] == '0' {
		d.pos++
	} else if digits() == 0 {
		return false
	}
	if d.pos < len(d.data) && d.data[d.pos] == '.' {
		d.pos++
		if digits() == 0 {
			return false
		}
	}
	if d.pos < len(d.data) && (d.data[d.pos] == 'e' || d.data[d.pos] == 'E') {
		d.pos++
		if d.pos < len(d.data) && (d.data[d.pos] == '+' || d.data[d.pos] == '-') {
			d.pos++
		}
		if digits() == 0 {
			return false
		}
	}
	return true
}

// unquote decodes the inside of a JSON string as encoding/json does: escapes, surrogate pairs,
// and U+FFFD for invalid UTF-8 and lone surrogates.
func unquote(s []byte) string {
	b := make([]byte, 0, len(s)+utf8.UTFMax)
	for r := 0; r < len(s); {
		c := s[r]
		switch {
		case c == '\\':
			r++
			switch s[r] {
			case 'b':
				b = append(b, '\b')
			case 'f':
				b = append(b, '\f')
			case 'n':
				b = append(b, '\n')
			case 'r':
				b = append(b, '\r')
			case 't':
				b = append(b, '\t')
			case 'u':
				rr := hex4(s[r+1:])
				r += 5
				if utf16.IsSurrogate(rr) {
					if r+6 <= len(s) && s[r] == '\\' && s[r+1] == 'u' {
						if dec := utf16.DecodeRune(rr, hex4(s[r+2:])); dec != unicode.ReplacementChar {
							b = utf8.AppendRune(b, dec)
							r += 6
							continue
						}
					}
					rr = unicode.ReplacementChar
				}
				b = utf8.AppendRune(b, rr)
				continue
			default: // '"', '\\', '/'
				b = append(b, s[r])
			}
			r++
		case c < utf8.RuneSelf:
			b = append(b, c)
			r++
		default:
			rr, size := utf8.DecodeRune(s[r:])
			b = utf8.AppendRune(b, rr)
			r += size
		}
	}
	return string(b)
}

// hex4 is the code point of the four hex digits json.Valid checked.
func hex4(s []byte) rune {
	var r rune
	for _, c := range s[:4] {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c = c - 'a' + 10
		default:
			c = c - 'A' + 10
		}
		r = r<<4 | rune(c)
	}
	return r
}
