# METADATA
# title: File is valid YAML
# description: >-
#   A file that does not parse as YAML is reported with the position of the first error; every
#   other file is still linted.
# related_resources:
#   - ref: https://yaml.org/spec/1.2.2/
#     description: YAML 1.2 specification
# custom:
#   id: yaml-syntax
#   severity: error
#   scope: object
#   runs: [cli]
#   kinds: []
package ova.rules.yaml_syntax

violation contains v if {
	err := input.parse_error
	v := {
		"line": err.line,
		"column": err.column,
		"msg": sprintf("invalid YAML: %s", [err.message]),
		"fix": object.get(err, "fix", "fix the syntax at this position (indentation, quoting, a missing colon)"),
	}
}
