# METADATA
# title: A custom rule whose body does not compile
# description: Calls a function that does not exist; its METADATA is valid, so the catalogue reads it.
# related_resources:
#   - ref: linter/engine/engine_lazy_test.go
#     description: TestLazy (a test policy)
# custom:
#   id: custom-broken
#   severity: error
#   scope: object
#   runs: [cli]
package ova.rules.custom_broken

violation contains v if {
	no_such_function(input.object)
	v := {"path": [], "msg": "never", "fix": "none"}
}
