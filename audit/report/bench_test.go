package report

import (
	"fmt"
	"runtime"
	"testing"

	"k8s.io/apimachinery/pkg/types"

	"github.com/openova-io/ova-lint/audit"
	"github.com/openova-io/ova-lint/linter/engine"
	"github.com/openova-io/ova-lint/linter/finding"
)

// BenchmarkBuild10k builds the reports of 10,000 objects (one failure and eight rules each) and
// makes each report once, as Sync does. held-MiB is what the Set keeps between the two: the
// reports are made one at a time, never all at once (as maps, 10,000 reports held ~120 MiB).
func BenchmarkBuild10k(b *testing.B) {
	var rules []*engine.Rule
	for i := range 8 {
		rules = append(rules, &engine.Rule{ID: fmt.Sprintf("rule-%d", i), Title: "A rule title of some length here", Severity: "error"})
	}
	res := &audit.Result{}
	for i := range 10000 {
		name := fmt.Sprintf("obj-%d", i)
		res.Objects = append(res.Objects, audit.Object{APIVersion: "v1", Kind: "ConfigMap", Namespace: "ns", Name: name,
			UID: types.UID(fmt.Sprintf("0b7c1a52-7f0e-4d5e-9a57-%012d", i))})
		res.Findings = append(res.Findings, finding.Finding{Rule: "rule-0", Severity: "error", Kind: "ConfigMap", Namespace: "ns", Name: name,
			Path: "data.x", Message: "ConfigMap " + name + " carries something wrong in data.x; fix: do the right thing [source: platform Flux README]"})
	}
	b.ReportAllocs()
	for b.Loop() {
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		set, err := Build(res, Options{Rules: rules})
		if err != nil {
			b.Fatal(err)
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/(1<<20), "held-MiB")
		for i := range set.Len() {
			if _, err := set.Report(i); err != nil {
				b.Fatal(err)
			}
		}
	}
}
