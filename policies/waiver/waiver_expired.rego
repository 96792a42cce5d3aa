# METADATA
# title: Waiver has not expired
# description: >-
#   A waiver with until=YYYY-MM-DD exempts through that day (UTC). After it, the waiver exempts
#   nothing (the waived findings are reported again) and is itself reported, so it is renewed with
#   a new reason or removed. This finding is produced by the Go waiver pass (linter/waiver) in both
#   doors; the package only carries the catalogue entry.
# related_resources:
#   - ref: docs/ci.md#waivers
#     description: ova-lint CI guide, "Waivers"
#   - ref: DESIGN.md#3-severity-and-outcomes-one-table-for-both-doors
#     description: design notes §3 (an expired waiver is itself a finding)
# custom:
#   id: waiver-expired
#   severity: warning
#   scope: object
#   runs: [cli, admission]
#   kinds: []
package ova.rules.waiver_expired

# Produced in Go (linter/waiver): nothing here fires from an object.
violation := set()
