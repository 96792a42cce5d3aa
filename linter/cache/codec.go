package cache

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sort"
)

// Writer encodes a value compactly and exactly: plain Go values (nil, bool, int, int64,
// float64, string, json.Number, []any, map[string]any) keep their Go types when read back, so
// a cached result is the same value the run computed, not an approximation of it (JSON would
// turn an int into a float64).
type Writer struct {
	buf []byte
	err error
}

// Bytes is what was written, or the first error (a value of a type the codec does not know).
func (w *Writer) Bytes() ([]byte, error) { return w.buf, w.err }

// Int writes n.
func (w *Writer) Int(n int) { w.buf = binary.AppendVarint(w.buf, int64(n)) }

// Bool writes b.
func (w *Writer) Bool(b bool) {
	if b {
		w.buf = append(w.buf, 1)
	} else {
		w.buf = append(w.buf, 0)
	}
}

// String writes s.
func (w *Writer) String(s string) {
	w.buf = binary.AppendUvarint(w.buf, uint64(len(s)))
	w.buf = append(w.buf, s...)
}

// Strings writes a list of strings.
func (w *Writer) Strings(ss []string) {
	w.Int(len(ss))
	for _, s := range ss {
		w.String(s)
	}
}

// type tags of Value
const (
	tagNil byte = iota
	tagFalse
	tagTrue
	tagInt
	tagInt64
	tagFloat
	tagString
	tagNumber
	tagList
	tagMap
)

// Value writes v, a plain Go value; maps are written in key order.
func (w *Writer) Value(v any) {
	switch x := v.(type) {
	case nil:
		w.buf = append(w.buf, tagNil)
	case bool:
		if x {
			w.buf = append(w.buf, tagTrue)
		} else {
			w.buf = append(w.buf, tagFalse)
		}
	case int:
		w.buf = append(w.buf, tagInt)
		w.Int(x)
	case int64:
		w.buf = append(w.buf, tagInt64)
		w.buf = binary.AppendVarint(w.buf, x)
	case float64:
		w.buf = append(w.buf, tagFloat)
		w.buf = binary.LittleEndian.AppendUint64(w.buf, math.Float64bits(x))
	case string:
		w.buf = append(w.buf, tagString)
		w.String(x)
	case json.Number:
		w.buf = append(w.buf, tagNumber)
		w.String(string(x))
	case []any:
		w.buf = append(w.buf, tagList)
		w.Int(len(x))
		for _, e := range x {
			w.Value(e)
		}
	case map[string]any:
		w.buf = append(w.buf, tagMap)
		w.Int(len(x))
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			w.String(k)
			w.Value(x[k])
		}
	default:
		if w.err == nil {
			w.err = fmt.Errorf("cache: cannot encode a %T", v)
		}
	}
}

// Reader decodes what a Writer wrote. A malformed input sets Err and yields zero values.
type Reader struct {
	buf []byte
	err error
}

// NewReader reads b.
func NewReader(b []byte) *Reader { return &Reader{buf: b} }

var errShort = errors.New("cache: entry ends early")

// Err is the first decoding error; Done also reports bytes left over.
func (r *Reader) Err() error { return r.err }

// Done is nil when everything was read and nothing is left.
func (r *Reader) Done() error {
	if r.err == nil && len(r.buf) > 0 {
		r.err = errors.New("cache: trailing bytes in entry")
	}
	return r.err
}

func (r *Reader) fail(err error) {
	if r.err == nil {
		r.err = err
	}
	r.buf = nil
}

// Int reads an int.
func (r *Reader) Int() int {
	n, k := binary.Varint(r.buf)
	if k <= 0 {
		r.fail(errShort)
		return 0
	}
	r.buf = r.buf[k:]
	return int(n)
}

// Len reads a length: an int that cannot exceed the bytes left (each element takes one at
// least), so a corrupt length cannot allocate much.
func (r *Reader) Len() int {
	n := r.Int()
	if n < 0 || n > len(r.buf) {
		r.fail(errors.New("cache: bad length in entry"))
		return 0
	}
	return n
}

// Bool reads a bool.
func (r *Reader) Bool() bool {
	if len(r.buf) == 0 {
		r.fail(errShort)
		return false
	}
	b := r.buf[0]
	r.buf = r.buf[1:]
	return b == 1
}

// String reads a string.
func (r *Reader) String() string {
	n, k := binary.Uvarint(r.buf)
	if k <= 0 || n > uint64(len(r.buf)-k) {
		r.fail(errShort)
		return ""
	}
	s := string(r.buf[k : k+int(n)])
	r.buf = r.buf[k+int(n):]
	return s
}

// Strings reads a list of strings (nil when empty).
func (r *Reader) Strings() []string {
	n := r.Len()
	if n == 0 {
		return nil
	}
	out := make([]string, n)
	for i := range out {
		out[i] = r.String()
	}
	return out
}

// Value reads a value written by Writer.Value.
func (r *Reader) Value() any {
	if len(r.buf) == 0 {
		r.fail(errShort)
		return nil
	}
	tag := r.buf[0]
	r.buf = r.buf[1:]
	switch tag {
	case tagNil:
		return nil
	case tagFalse:
		return false
	case tagTrue:
		return true
	case tagInt:
		return r.Int()
	case tagInt64:
		n, k := binary.Varint(r.buf)
		if k <= 0 {
			r.fail(errShort)
			return nil
		}
		r.buf = r.buf[k:]
		return n
	case tagFloat:
		if len(r.buf) < 8 {
			r.fail(errShort)
			return nil
		}
		f := math.Float64frombits(binary.LittleEndian.Uint64(r.buf))
		r.buf = r.buf[8:]
		return f
	case tagString:
		return r.String()
	case tagNumber:
		return json.Number(r.String())
	case tagList:
		n := r.Len()
		out := make([]any, n)
		for i := range out {
			out[i] = r.Value()
		}
		return out
	case tagMap:
		n := r.Len()
		out := make(map[string]any, n)
		for i := 0; i < n && r.err == nil; i++ {
			k := r.String()
			out[k] = r.Value()
		}
		return out
	}
	r.fail(fmt.Errorf("cache: unknown value tag %d", tag))
	return nil
}
