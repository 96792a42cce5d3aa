package schema

import (
	"encoding/json"
	"fmt"
	"reflect"
	"time"
)

// normalize returns v in the data model the JSON Schema validator accepts
// (map[string]any, []any, string, bool, numbers, nil), copying only the
// parts that need a change, so the common case allocates nothing:
//
//   - a null value of an object field is dropped: the API server treats
//     `field: null` (or an empty `field:` in YAML) as an absent field;
//   - time.Time (yaml.v3 decodes unquoted timestamps to it) becomes its
//     RFC 3339 text;
//   - maps with non-string keys and typed maps and slices are converted.
//
// Values of other types are left for the validator to reject by type.
func normalize(v any) (any, bool) {
	switch x := v.(type) {
	case nil, string, bool, int, int64, float64, json.Number,
		int8, int16, int32, uint, uint8, uint16, uint32, uint64, float32:
		return v, false
	case map[string]any:
		return normalizeMap(x)
	case []any:
		return normalizeSlice(x)
	case time.Time:
		return x.Format(time.RFC3339Nano), true
	case map[any]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			if e == nil {
				continue
			}
			n, _ := normalize(e)
			m[fmt.Sprint(k)] = n
		}
		return m, true
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Map:
		m := make(map[string]any, rv.Len())
		it := rv.MapRange()
		for it.Next() {
			e := it.Value().Interface()
			if e == nil {
				continue
			}
			n, _ := normalize(e)
			m[fmt.Sprint(it.Key().Interface())] = n
		}
		return m, true
	case reflect.Slice, reflect.Array:
		if rv.Kind() == reflect.Slice && rv.IsNil() {
			return nil, true
		}
		l := make([]any, rv.Len())
		for i := range l {
			l[i], _ = normalize(rv.Index(i).Interface())
		}
		return l, true
	case reflect.Pointer:
		if rv.IsNil() {
			return nil, true
		}
		n, _ := normalize(rv.Elem().Interface())
		return n, true
	}
	return v, false
}

func normalizeMap(m map[string]any) (any, bool) {
	var out map[string]any // allocated on the first change
	for k, e := range m {
		n, changed := e, false
		if e == nil {
			changed = true
		} else {
			n, changed = normalize(e)
		}
		if !changed {
			if out != nil {
				out[k] = e
			}
			continue
		}
		if out == nil {
			out = make(map[string]any, len(m))
			for k2, e2 := range m {
				if e2 != nil {
					out[k2] = e2 // overwritten below if it needs a change
				}
			}
		}
		if e == nil {
			delete(out, k)
		} else {
			out[k] = n
		}
	}
	if out == nil {
		return m, false
	}
	return out, true
}

func normalizeSlice(l []any) (any, bool) {
	var out []any
	for i, e := range l {
		n, changed := normalize(e)
		if !changed {
			if out != nil {
				out[i] = e
			}
			continue
		}
		if out == nil {
			out = make([]any, len(l))
			copy(out, l[:i])
		}
		out[i] = n
	}
	if out == nil {
		return l, false
	}
	return out, true
}
