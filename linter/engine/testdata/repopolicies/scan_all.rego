# METADATA
# title: A custom repo rule that scans every fact
# description: Reads input.repo.facts directly, so the repo pass gives it every fact.
# related_resources:
#   - ref: linter/engine/repo_groups_test.go
#     description: TestRepoGroups (a test policy)
# custom:
#   id: custom-scan-all
#   severity: warning
#   scope: repo
#   runs: [cli]
package ova.rules.custom_scan_all

violation contains v if {
	input.repo
	count(input.repo.facts) > 100000
	v := {"path": [], "msg": "too many facts", "fix": "none", "at": {"file": "x"}}
}
