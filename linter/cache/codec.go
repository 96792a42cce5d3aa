package cache

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
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

// Len is the number of bytes written so far.
func (w *Writer) Len() int { return len(w.buf) }

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

// Blob writes a byte string.
func (w *Writer) Blob(b []byte) {
	w.buf = binary.AppendUvarint(w.buf, uint64(len(b)))
	w.buf = append(w.buf, b...)
}

// Grow makes room for n more bytes.
func (w *Writer) Grow(n int) { w.buf = slices.Grow(w.buf, n) }

// Raw appends what another Writer wrote (its Bytes), as it is.
func (w *Writer) Raw(b []byte) { w.buf = append(w.buf, b...) }

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
func (r *Reader) String() string { return string(r.bytes()) }

// Blob reads a byte string written by Blob. It is not a copy: it shares the reader's buffer,
// which the caller must not change while the result is in use.
func (r *Reader) Blob() []byte { return r.bytes() }

// Rest is what is left to read. It is not a copy.
func (r *Reader) Rest() []byte { return r.buf }

// Skip reads past a value written by Writer.Value without building it: a check that the
// value is whole.
func (r *Reader) Skip() {
	if len(r.buf) == 0 {
		r.fail(errShort)
		return
	}
	tag := r.buf[0]
	r.buf = r.buf[1:]
	switch tag {
	case tagNil, tagFalse, tagTrue:
	case tagInt, tagInt64:
		r.Int()
	case tagFloat:
		if len(r.buf) < 8 {
			r.fail(errShort)
			return
		}
		r.buf = r.buf[8:]
	case tagString, tagNumber:
		r.bytes()
	case tagList:
		for n := r.Len(); n > 0 && r.err == nil; n-- {
			r.Skip()
		}
	case tagMap:
		for n := r.Len(); n > 0 && r.err == nil; n-- {
			r.bytes()
			r.Skip()
		}
	default:
		r.fail(fmt.Errorf("cache: unknown value tag %d", tag))
	}
}

// bytes reads a string's bytes, without copying them.
func (r *Reader) bytes() []byte {
	n, k := binary.Uvarint(r.buf)
	if k <= 0 || n > uint64(len(r.buf)-k) {
		r.fail(errShort)
		return nil
	}
	b := r.buf[k : k+int(n) : k+int(n)]
	r.buf = r.buf[k+int(n):]
	return b
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
func (r *Reader) Value() any { return Build(r, plain) }

// Builder makes the values that Build reads, for a caller that keeps its own representation
// (the repo pass builds OPA terms straight from the cached bytes). String receives the bytes in
// the entry: a builder that keeps them must copy them (string(b) does).
type Builder[T any] struct {
	Nil    func() T
	Bool   func(bool) T
	Int    func(int) T
	Int64  func(int64) T
	Float  func(float64) T
	String func(b []byte) T
	Number func(string) T
	List   func([]T) T
	// Map receives the keys (in key order) and their values.
	Map func(keys [][]byte, values []T) T
}

// plain builds the plain Go values Writer.Value takes.
var plain = &Builder[any]{
	Nil:    func() any { return nil },
	Bool:   func(b bool) any { return b },
	Int:    func(n int) any { return n },
	Int64:  func(n int64) any { return n },
	Float:  func(f float64) any { return f },
	String: func(b []byte) any { return string(b) },
	Number: func(s string) any { return json.Number(s) },
	List:   func(xs []any) any { return xs },
	Map: func(keys [][]byte, values []any) any {
		out := make(map[string]any, len(keys))
		for i, k := range keys {
			out[string(k)] = values[i]
		}
		return out
	},
}

// Build reads a value written by Writer.Value with b's constructors. A malformed input sets
// the reader's error and yields b.Nil().
func Build[T any](r *Reader, b *Builder[T]) T {
	if len(r.buf) == 0 {
		r.fail(errShort)
		return b.Nil()
	}
	tag := r.buf[0]
	r.buf = r.buf[1:]
	switch tag {
	case tagNil:
		return b.Nil()
	case tagFalse:
		return b.Bool(false)
	case tagTrue:
		return b.Bool(true)
	case tagInt:
		return b.Int(r.Int())
	case tagInt64:
		n, k := binary.Varint(r.buf)
		if k <= 0 {
			r.fail(errShort)
			return b.Nil()
		}
		r.buf = r.buf[k:]
		return b.Int64(n)
	case tagFloat:
		if len(r.buf) < 8 {
			r.fail(errShort)
			return b.Nil()
		}
		f := math.Float64frombits(binary.LittleEndian.Uint64(r.buf))
		r.buf = r.buf[8:]
		return b.Float(f)
	case tagString:
		return b.String(r.bytes())
	case tagNumber:
		return b.Number(r.String())
	case tagList:
		n := r.Len()
		out := make([]T, n)
		for i := range out {
			out[i] = Build(r, b)
		}
		return b.List(out)
	case tagMap:
		n := r.Len()
		keys, values := make([][]byte, 0, n), make([]T, 0, n)
		for i := 0; i < n && r.err == nil; i++ {
			keys = append(keys, r.bytes())
			values = append(values, Build(r, b))
		}
		return b.Map(keys, values)
	}
	r.fail(fmt.Errorf("cache: unknown value tag %d", tag))
	return b.Nil()
}

// IsMap says whether b starts a map written by Writer.Value.
func IsMap(b []byte) bool { return len(b) > 0 && b[0] == tagMap }
