# METADATA
# title: Waiver is used
# description: >-
#   A waiver that exempts nothing (the rule it names no longer fires on the object or the files it
#   selects) is stale and hides the next real finding; remove it. Reported with
#   --report-unused-waivers only, and for config waivers only when the whole tree was linted (or
#   the waiver selects a linted file). Produced by the Go waiver pass (linter/waiver); the package
#   only carries the catalogue entry.
# related_resources:
#   - ref: docs/ci.md#waivers
#     description: ova-lint CI guide, "Waivers"
#   - ref: DESIGN.md#3-severity-and-outcomes-one-table-for-both-doors
#     description: design notes §3 (an unused waiver is itself a finding)
# custom:
#   id: waiver-unused
#   severity: warning
#   scope: repo
#   runs: [cli]
#   kinds: []
package ova.rules.waiver_unused

# Produced in Go (linter/waiver): nothing here fires from an object.
violation := set()
