# METADATA
# title: No duplicate mapping keys
# description: >-
#   A mapping that repeats a key is ambiguous: kubectl, Flux and Helm silently keep one of the
#   values. Each key appears once per mapping.
# related_resources:
#   - ref: https://yaml.org/spec/1.2.2/#mapping
#     description: YAML 1.2 specification, mapping keys are unique
# custom:
#   id: duplicate-key
#   severity: error
#   scope: object
#   runs: [cli]
#   kinds: []
package ova.rules.duplicate_key

violation contains v if {
	some d in input.parse.duplicate_keys
	v := {
		"line": d.line,
		"column": d.column,
		"msg": sprintf("key %q repeats in this mapping (first at line %d)", [d.key, d.first_line]),
		"fix": "keep one occurrence of the key and merge the values",
	}
}
