# METADATA
# title: A custom rule that takes long to evaluate
# description: Counts the pairs of a large range, so an evaluation lasts long enough for its context to end first.
# related_resources:
#   - ref: linter/engine/cancel_test.go
#     description: TestEvalStopsWhenTheContextEnds (a test policy)
# custom:
#   id: custom-slow
#   severity: error
#   scope: object
#   runs: [cli, admission]
#   kinds: [ConfigMap]
package ova.rules.custom_slow

violation contains v if {
	input.object.kind == "ConfigMap"
	n := count([x | some x in numbers.range(1, 3000); some y in numbers.range(1, 3000); x < y])
	n < 0
	v := {"path": [], "msg": "never", "fix": "none"}
}
