package report

import (
	"bytes"
	"encoding/json"
	"testing"
)

// indentCases are compact JSON texts whose indentation must match json.Indent's.
var indentCases = []string{
	`{}`, `[]`, `{"a":{}}`, `{"a":[]}`, `[[],{},[{}]]`, `"s"`, `1`, `null`, `true`,
	`{"a":1,"b":[1,2,{"c":"d"}],"e":{"f":null,"g":false}}`,
	`{"q":"a \"quoted\" word","b":"back\\slash\\","u":"\u003chtml\u003e \u0026 é 🚀","e":"\\\""}`,
	`{"k:{[,]}":"v:{[,]}","":""}`,
	`[{"findings":[],"summary":{"files":3}}]`,
}

func TestIndentJSON(t *testing.T) {
	for _, c := range indentCases {
		var want bytes.Buffer
		if err := json.Indent(&want, []byte(c), "", "  "); err != nil {
			t.Fatalf("%s: %v", c, err)
		}
		if got := indentJSON(nil, []byte(c)); string(got) != want.String() {
			t.Errorf("%s:\ngot  %s\nwant %s", c, got, want.String())
		}
	}
}

// FuzzIndentJSON: on any compact JSON text, indentJSON writes what json.Indent writes.
func FuzzIndentJSON(f *testing.F) {
	for _, c := range indentCases {
		f.Add([]byte(c))
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		var compact bytes.Buffer
		if json.Compact(&compact, src) != nil || !bytes.Equal(compact.Bytes(), src) {
			return // not compact JSON, as json.Marshal writes it
		}
		var want bytes.Buffer
		if err := json.Indent(&want, src, "", "  "); err != nil {
			t.Fatal(err)
		}
		if got := indentJSON(nil, src); !bytes.Equal(got, want.Bytes()) {
			t.Errorf("%q:\ngot  %q\nwant %q", src, got, want.Bytes())
		}
	})
}
