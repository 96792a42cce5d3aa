# METADATA
# title: Waiver is well-formed
# description: >-
#   A waiver exempts one object (the annotation ova-lint.openova.io/waive: "<rule-id>[,<rule-id>];
#   reason=<text>; until=YYYY-MM-DD") or the files matching a path glob (a waivers entry in
#   .ova-lint.yaml) from named rules. It must name known rules, give a reason and, if it has an
#   expiry, a valid date. A malformed waiver exempts nothing. This finding is produced by the Go
#   waiver pass (linter/waiver) in both doors; the package only carries the catalogue entry.
# related_resources:
#   - ref: docs/ci.md#waivers
#     description: ova-lint CI guide, "Waivers"
#   - ref: DESIGN.md#3-severity-and-outcomes-one-table-for-both-doors
#     description: design notes §3 (a waiver has a reason and an optional expiry date)
# custom:
#   id: waiver-invalid
#   severity: error
#   scope: object
#   runs: [cli, admission]
#   kinds: []
package ova.rules.waiver_invalid

# Produced in Go (linter/waiver): nothing here fires from an object.
violation := set()
