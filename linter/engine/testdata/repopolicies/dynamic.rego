# METADATA
# title: A custom repo rule that names its facts at run time
# description: Calls the facts accessor with a package computed at run time, so the repo pass gives it every fact.
# related_resources:
#   - ref: linter/engine/repo_groups_test.go
#     description: TestRepoGroups (a test policy)
# custom:
#   id: custom-dynamic
#   severity: warning
#   scope: repo
#   runs: [cli]
package ova.rules.custom_dynamic

import data.ova.lib.repo

which := concat("_", ["single", "gitea"])

violation contains v if {
	input.repo
	some f in repo.facts(which)
	f.host == "never"
	v := {"path": [], "msg": "never", "fix": "none", "at": {"file": "x"}}
}
