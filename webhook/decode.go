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
// Only what Go code reads is decoded into Go values: the top-level scalars (kind, type) and
// metadata (identity, labels, annotations, owner references). Every other top-level value
// (spec, data, ...) is decoded straight into an OPA value, which linter.ObjectInput keeps as
// it is: a 1 MiB ConfigMap is read once, not into Go maps and then copied into OPA's.
func decodeObject(raw []byte) (map[string]any, error) {
	if len(raw) == 0 {
		return nil, errors.New("the request carries no object")
	}
	if !json.Valid(raw) {
		return decodeGo(raw) // its error, or what encoding/json accepts (a value then trailing data)
	}
	d := astDecoder{data: raw}
	d.space()
	if raw[d.pos] != '{' {
		return decodeGo(raw) // null, or not an object: encoding/json's verdict
	}
	d.pos++
	obj := map[string]any{}
	for {
		d.space()
		if raw[d.pos] == '}' {
			break
		}
		key, err := d.str()
		if err != nil {
			return nil, err
		}
		d.space()
		d.pos++ // ':'
		d.space()
		switch c := raw[d.pos]; {
		case key != "metadata" && (c == '{' || c == '['):
			v, err := d.value()
			if err != nil {
				return nil, err
			}
			obj[key] = v
		default: // metadata, and the scalars (kind, apiVersion, type): Go values
			start := d.pos
			d.skip()
			var v any
			dec := json.NewDecoder(bytes.NewReader(raw[start:d.pos]))
			dec.UseNumber()
			if err := dec.Decode(&v); err != nil {
				return nil, errors.New("object is not valid JSON")
			}
			obj[key] = v
		}
		d.space()
		if raw[d.pos] == ',' {
			d.pos++
		}
	}
	if md, ok := obj["metadata"].(map[string]any); ok {
		delete(md, "managedFields")
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

// astDecoder turns JSON text that json.Valid accepted into OPA values: the values
// ast.InterfaceToValue makes of encoding/json's (UseNumber) for the same text, duplicate keys
// included (the last one wins).
type astDecoder struct {
	data []byte
	pos  int
}

func (d *astDecoder) space() {
	for d.pos < len(d.data) {
		switch d.data[d.pos] {
		case ' ', '\t', '\n', '\r':
			d.pos++
		default:
			return
		}
	}
}

// value decodes the value at pos.
func (d *astDecoder) value() (ast.Value, error) {
	switch c := d.data[d.pos]; c {
	case '{':
		d.pos++
		obj := ast.NewObjectWithCapacity(0)
		for {
			d.space()
			if d.data[d.pos] == '}' {
				d.pos++
				return obj, nil
			}
			key, err := d.str()
			if err != nil {
				return nil, err
			}
			d.space()
			d.pos++ // ':'
			d.space()
			v, err := d.value()
			if err != nil {
				return nil, err
			}
			obj.Insert(ast.InternedTerm(key), ast.NewTerm(v))
			d.space()
			if d.data[d.pos] == ',' {
				d.pos++
			}
		}
	case '[':
		d.pos++
		var elems []*ast.Term
		for {
			d.space()
			if d.data[d.pos] == ']' {
				d.pos++
				return ast.NewArray(elems...), nil
			}
			v, err := d.value()
			if err != nil {
				return nil, err
			}
			elems = append(elems, ast.NewTerm(v))
			d.space()
			if d.data[d.pos] == ',' {
				d.pos++
			}
		}
	case '"':
		s, err := d.str()
		if err != nil {
			return nil, err
		}
		return ast.String(s), nil
	case 't':
		d.pos += len("true")
		return ast.Boolean(true), nil
	case 'f':
		d.pos += len("false")
		return ast.Boolean(false), nil
	case 'n':
		d.pos += len("null")
		return ast.NullValue, nil
	}
	start := d.pos
	d.number()
	return ast.InterfaceToValue(json.Number(d.data[start:d.pos]))
}

// str decodes the string at pos: a copy of the text when it has no escape and is valid UTF-8
// (encoding/json turns invalid bytes into U+FFFD).
func (d *astDecoder) str() (string, error) {
	start := d.pos
	escaped := d.skipStr()
	text := d.data[start+1 : d.pos-1]
	if !escaped && utf8.Valid(text) {
		return string(text), nil
	}
	return unquote(text), nil
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

// skipStr moves pos past the string at pos and says whether it has escapes.
func (d *astDecoder) skipStr() (escaped bool) {
	d.pos++ // '"'
	for {
		switch d.data[d.pos] {
		case '\\':
			escaped = true
			d.pos += 2
			continue
		case '"':
			d.pos++
			return escaped
		}
		d.pos++
	}
}

func (d *astDecoder) number() {
	for d.pos < len(d.data) {
		switch c := d.data[d.pos]; {
		case c >= '0' && c <= '9', c == '-', c == '+', c == '.', c == 'e', c == 'E':
			d.pos++
		default:
			return
		}
	}
}

// skip moves pos past the value at pos.
func (d *astDecoder) skip() {
	switch d.data[d.pos] {
	case '{', '[':
		depth := 0
		for {
			switch d.data[d.pos] {
			case '{', '[':
				depth++
			case '}', ']':
				depth--
			case '"':
				d.skipStr()
				continue
			}
			d.pos++
			if depth == 0 {
				return
			}
		}
	case '"':
		d.skipStr()
	case 't', 'n':
		d.pos += 4
	case 'f':
		d.pos += 5
	default:
		d.number()
	}
}
