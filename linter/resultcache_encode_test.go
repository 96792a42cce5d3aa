package linter

import (
	"reflect"
	"testing"
	"unsafe"

	"github.com/openova-io/ova-lint/linter/facts"
	"github.com/openova-io/ova-lint/linter/finding"
)

// TestEncodeResultSharesFacts: a file's encoded result decodes to the result, and afterwards the
// result's facts are slices of the payload (what the run keeps until the pack is written), with
// their bytes unchanged.
func TestEncodeResultSharesFacts(t *testing.T) {
	fact := func(pkg string, m map[string]any) facts.Fact {
		m["pkg"] = pkg
		f, err := facts.Encode(m)
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
	res := fileResult{
		documents: 2,
		findings:  []finding.Finding{{Rule: "yaml-syntax", Severity: "error", Message: "m", File: "a.yaml", Line: 1, Column: 1}},
		docs: []docResult{
			{index: 0, facts: []facts.Fact{fact("ova.rules.single_gitea", map[string]any{"host": "gitea.a"}), fact("ova.rules.flux_source_ref", map[string]any{"name": "x", "n": 3})}},
			{index: 1, findings: []finding.Finding{{Rule: "sync-interval", Severity: "warning", Message: "w", File: "a.yaml", Line: 9, Column: 3}}},
			{index: 2, facts: []facts.Fact{fact("ova.rules.single_gitea", map[string]any{"host": "gitea.b"})}},
		},
	}
	before := make([][]byte, 0, 3)
	for _, d := range res.docs {
		for _, f := range d.facts {
			before = append(before, append([]byte(nil), f.Enc...))
		}
	}
	raw, err := encodeResult(&res)
	if err != nil {
		t.Fatal(err)
	}
	lo, hi := uintptr(unsafe.Pointer(unsafe.SliceData(raw))), uintptr(unsafe.Pointer(unsafe.SliceData(raw)))+uintptr(len(raw))
	i := 0
	for _, d := range res.docs {
		for _, f := range d.facts {
			if p := uintptr(unsafe.Pointer(unsafe.SliceData(f.Enc))); p < lo || p+uintptr(len(f.Enc)) > hi {
				t.Errorf("fact %d is not a slice of the payload", i)
			}
			if string(f.Enc) != string(before[i]) {
				t.Errorf("fact %d changed: %q, want %q", i, f.Enc, before[i])
			}
			if cap(f.Enc) != len(f.Enc) {
				t.Errorf("fact %d: cap %d beyond its len %d: an append would write into the payload", i, cap(f.Enc), len(f.Enc))
			}
			i++
		}
	}
	got, _, err := decodeResult(raw)
	if err != nil {
		t.Fatal(err)
	}
	// a decoded result keeps its facts encoded until they are asked for
	for j := range got.docs {
		d := &got.docs[j]
		if d.facts != nil || d.factCount() != len(res.docs[j].facts) {
			t.Errorf("document %d: %d facts decoded, %d counted; want none decoded, %d counted", j, len(d.facts), d.factCount(), len(res.docs[j].facts))
		}
		fs, err := d.decodeFacts()
		if err != nil {
			t.Fatal(err)
		}
		d.facts, d.factsRaw, d.nFacts = fs, nil, 0
	}
	if !reflect.DeepEqual(got.docs, res.docs) || !reflect.DeepEqual(got.findings, res.findings) || got.documents != res.documents {
		t.Errorf("decoded\n%+v\nwant\n%+v", got, res)
	}
}
