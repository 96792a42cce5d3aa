# METADATA
# title: Deployments carry a team label
# description: A user rule loaded with --policy, under the same contract as the embedded ones.
# related_resources:
#   - ref: https://example.com/platform-conventions#labels
#     description: team conventions, "Labels"
# custom:
#   id: team-label
#   severity: warning
#   scope: object
#   runs: [cli, admission]
#   kinds: [Deployment]
package ova.rules.team_label

violation contains v if {
	input.object.kind == "Deployment"
	not input.object.metadata.labels.team
	v := {"path": ["metadata"], "msg": sprintf("Deployment %s has no team label", [input.object.metadata.name]), "fix": "add metadata.labels.team"}
}
