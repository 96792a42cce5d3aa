package cache

import (
	"encoding/json"
	"reflect"
	"testing"
)

func TestCodecExact(t *testing.T) {
	values := []any{
		nil, true, false, 0, -7, int64(1) << 40, 1.5, "", "naïve", json.Number("12"),
		[]any{}, []any{1, int64(2), "x", []any{nil}},
		map[string]any{}, map[string]any{"path": []any{"spec", 0, "name"}, "at": map[string]any{"line": 3, "file": "a.yaml"}},
	}
	for _, v := range values {
		var w Writer
		w.Value(v)
		w.Strings([]string{"a", "b"})
		w.Bool(true)
		b, err := w.Bytes()
		if err != nil {
			t.Fatal(err)
		}
		r := NewReader(b)
		got := r.Value()
		ss := r.Strings()
		ok := r.Bool()
		if err := r.Done(); err != nil {
			t.Fatalf("%#v: %v", v, err)
		}
		if !reflect.DeepEqual(got, v) || !reflect.DeepEqual(ss, []string{"a", "b"}) || !ok {
			t.Errorf("round trip of %#v gave %#v", v, got)
		}
		// every cut of the encoding is an error, never a value
		for i := 0; i < len(b); i++ {
			r := NewReader(b[:i])
			r.Value()
			r.Strings()
			r.Bool()
			if r.Done() == nil {
				t.Errorf("%#v cut at %d decoded without error", v, i)
			}
		}
	}
	var w Writer
	w.Value(struct{}{})
	if _, err := w.Bytes(); err == nil {
		t.Error("an unknown type was encoded")
	}
}
