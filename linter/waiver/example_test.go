package waiver_test

import (
	"context"
	"fmt"
	"time"

	"github.com/openova-io/ova-lint/linter/engine"
	"github.com/openova-io/ova-lint/linter/waiver"
)

// The admission webhook evaluates one object with the engine, then lets the object's waiver
// annotation decide which violations stand.
func ExampleAdmission() {
	eng, err := engine.New(context.Background(), engine.Options{})
	if err != nil {
		panic(err)
	}
	obj := map[string]any{
		"apiVersion": "source.toolkit.fluxcd.io/v1",
		"kind":       "GitRepository",
		"metadata": map[string]any{
			"name": "app", "namespace": "flux-system",
			"annotations": map[string]any{
				waiver.Annotation: "gitrepository-ref; reason=release train (OPS-42); until=2026-06-30",
			},
		},
	}
	found := []engine.Violation{{Rule: eng.Rule("gitrepository-ref"), Path: []any{"spec", "ref", "branch"}, Message: "tracks develop"}}

	for _, day := range []string{"2026-06-30", "2026-07-01"} {
		now, _ := time.Parse(waiver.DateLayout, day)
		fmt.Println(day + ":")
		for _, v := range waiver.Admission(eng, obj, found, now) {
			fmt.Printf("  %s %s\n", v.Rule.Severity, v.Rule.ID)
		}
	}
	// Output:
	// 2026-06-30:
	// 2026-07-01:
	//   error gitrepository-ref
	//   warning waiver-expired
}
