package webhook

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/open-policy-agent/opa/v1/ast"
)

// decodeCases are object texts whose decoding must match encoding/json's (decodeGo) exactly.
var decodeCases = map[string]string{
	"kustomization":     `{"apiVersion":"kustomize.toolkit.fluxcd.io/v1","kind":"Kustomization","metadata":{"name":"apps","namespace":"flux-system","labels":{"a":"b"}},"spec":{"interval":"10m","prune":true,"wait":false,"timeout":null,"sourceRef":{"kind":"GitRepository","name":"platform"}}}`,
	"whitespace":        " \n\t{ \"kind\" : \"ConfigMap\" ,\r\n \"data\" : { \"a\" : \"1\" , \"b\" : [ ] , \"c\" : { } } } \n",
	"numbers":           `{"kind":"X","spec":{"replicas":3,"ratio":0.25,"big":12345678901234567890,"exp":1e3,"neg":-0,"frac":1.50,"E":2E-2},"n":7}`,
	"escapes":           `{"kind":"Secret","data":{"quote\"key":"a\\b\/c\u00e9\ud83d\ude00\n\t","plain":"é😀"},"metadata":{"name":"x\u0041"}}`,
	"surrogates":        "{\"kind\":\"X\",\"data\":{\"lone\":\"\\ud800x\",\"pair\":\"\\ud83d\\ude00\",\"bad pair\":\"\\ud800\\u0041\",\"bytes\":\"\\n\xe3\xff\"}}",
	"duplicates":        `{"kind":"A","kind":"B","spec":{"a":1,"a":2,"b":[1,{"c":3,"c":4}]},"metadata":{"name":"n","name":"m"}}`,
	"nested arrays":     `{"kind":"X","spec":[[[]],[{"a":[true,false,null]}],"s",1]}`,
	"managedFields":     `{"kind":"X","metadata":{"name":"n","managedFields":[{"manager":"kubectl"}]},"spec":{}}`,
	"scalar metadata":   `{"kind":"X","metadata":"weird","spec":{}}`,
	"metadata values":   `{"kind":"X","metadata":{"name":"n","generation":3,"labels":{},"finalizers":[],"ownerReferences":[{"controller":true,"uid":null}],"managedFields":[],"managedFields":{"a":[{}]}},"n":-1.5e3,"b":false,"z":null}`,
	"bad managedFields": `{"kind":"X","metadata":{"managedFields":[1,],"name":"n"}}`,
	"metadata twice":    `{"kind":"X","metadata":{"name":"a","managedFields":[{"manager":"m"}]},"metadata":{"namespace":"b"}}`,
	"empty":             `{}`,
	"null":              `null`,
	"array":             `[1,2]`,
	"string":            `"s"`,
	"trailing":          `{"kind":"X"} {"more":1}`,
	"truncated":         `{"kind":"X","spec":{"a":`,
	"trailing comma":    `{"kind":"X","spec":{"a":1,},"n":1}`,
	"array comma":       `{"kind":"X","spec":[1,]}`,
	"missing comma":     `{"kind":"X" "spec":{}}`,
	"missing colon":     `{"kind" "X"}`,
	"leading zero":      `{"kind":"X","spec":{"n":01}}`,
	"bare dot":          `{"kind":"X","spec":{"n":1.}}`,
	"bare minus":        `{"kind":"X","spec":{"n":-}}`,
	"short literal":     `{"kind":"X","spec":{"b":tru}}`,
	"control char":      "{\"kind\":\"X\",\"spec\":{\"s\":\"a\tb\"}}",
	"bad escape":        `{"kind":"X","spec":{"s":"\x41"}}`,
	"short unicode":     `{"kind":"X","spec":{"s":"\u12"}}`,
	"unclosed":          `{"kind":"X","spec":{"s":"abc`,
	"invalid":           `{"kind":X}`,
}

// TestDecodeObjectMatchesEncodingJSON: the direct decoding gives the engine the same value, and
// the same error, as encoding/json's decoding followed by ast.InterfaceToValue.
func TestDecodeObjectMatchesEncodingJSON(t *testing.T) {
	cases := map[string][]byte{}
	for name, text := range decodeCases {
		cases[name] = []byte(text)
	}
	files, err := filepath.Glob(filepath.Join("testdata", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		cases[filepath.Base(f)] = raw
	}
	for name, raw := range cases {
		t.Run(name, func(t *testing.T) { checkDecode(t, raw) })
	}
}

func checkDecode(t *testing.T, raw []byte) {
	t.Helper()
	got, gotErr := decodeObject(raw)
	if len(raw) == 0 {
		if gotErr == nil {
			t.Fatal("no error on an empty object")
		}
		return
	}
	want, wantErr := decodeGo(raw)
	if (wantErr == nil) != (gotErr == nil) || (wantErr != nil && wantErr.Error() != gotErr.Error()) {
		t.Fatalf("error %v, encoding/json's %v", gotErr, wantErr)
	}
	if wantErr != nil {
		return
	}
	wv, err := ast.InterfaceToValue(want)
	if err != nil {
		t.Fatal(err)
	}
	gv, err := ast.InterfaceToValue(got)
	if err != nil {
		t.Fatal(err)
	}
	if ast.Compare(gv, wv) != 0 {
		t.Fatalf("decoded\n%v\nencoding/json's\n%v", gv, wv)
	}
	// What Go code reads (identity, labels, annotations, type) stays Go values.
	for _, k := range []string{"kind", "metadata", "type"} {
		if _, isAST := got[k].(ast.Value); isAST {
			t.Errorf("%s decoded as an OPA value", k)
		}
	}
}

// FuzzDecodeObject: on any text, the direct decoding agrees with encoding/json's.
func FuzzDecodeObject(f *testing.F) {
	for _, text := range decodeCases {
		f.Add([]byte(text))
	}
	f.Fuzz(checkDecode)
}

// BenchmarkDecodeObject is the object's way into an OPA value: encoding/json then
// ast.InterfaceToValue (before), or decoded directly (decodeObject), on a small Kustomization
// and on 20,000 small keys.
func BenchmarkDecodeObject(b *testing.B) {
	keys := map[string]any{}
	for i := range 20000 {
		keys[fmt.Sprintf("key-%05d", i)] = fmt.Sprintf("value %05d of a small setting", i)
	}
	big, err := json.Marshal(map[string]any{"apiVersion": "v1", "kind": "ConfigMap", "metadata": map[string]any{"name": "settings"}, "data": keys})
	if err != nil {
		b.Fatal(err)
	}
	for name, raw := range map[string][]byte{"Kustomization": []byte(decodeCases["kustomization"]), "ConfigMap-20000-keys": big} {
		for _, way := range []struct {
			name   string
			decode func([]byte) (map[string]any, error)
		}{{"encoding-json", decodeGo}, {"direct", decodeObject}} {
			b.Run(name+"/"+way.name, func(b *testing.B) {
				b.ReportAllocs()
				b.SetBytes(int64(len(raw)))
				for b.Loop() {
					obj, err := way.decode(raw)
					if err != nil {
						b.Fatal(err)
					}
					if _, err := ast.InterfaceToValue(obj); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
