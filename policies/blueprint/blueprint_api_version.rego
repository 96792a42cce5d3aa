# METADATA
# title: A Blueprint uses an apiVersion the catalogue reads
# description: >-
#   A Blueprint (kind Blueprint in the blueprint.group API group, catalyst.openova.io) declares an
#   apiVersion listed in blueprint.api_versions (default catalyst.openova.io/v1alpha1, the version
#   of the Blueprint authoring guide). The finding is on apiVersion. CLI only: at admission the
#   apiserver itself refuses a version that the installed Blueprint CRD does not serve.
# related_resources:
#   - ref: https://github.com/openova-io/openova/blob/main/docs/BLUEPRINT-AUTHORING.md#3-the-blueprint-crd
#     description: Blueprint authoring guide, §3 "The Blueprint CRD" (apiVersion catalyst.openova.io/v1alpha1)
# custom:
#   id: blueprint-api-version
#   severity: error
#   scope: object
#   runs: [cli]
#   kinds: [Blueprint]
#   params:
#     blueprint.group: {type: string, minLength: 1}
#     blueprint.api_versions: {type: array, minItems: 1, items: {type: string, pattern: "^[^/]+/[^/]+$"}}
package ova.rules.blueprint_api_version

import data.ova.lib.blueprint
import data.ova.lib.k8s

violation contains v if {
	blueprint.is_blueprint(input.object)
	not input.object.apiVersion in blueprint.params.api_versions
	accepted := concat(", ", blueprint.params.api_versions)
	v := {
		"path": ["apiVersion"],
		"msg": sprintf("%s has apiVersion %s, which is not one the catalogue reads (%s)", [k8s.display, input.object.apiVersion, accepted]),
		"fix": sprintf("set apiVersion: %s and the spec that version describes, or add %s to blueprint.api_versions", [blueprint.params.api_versions[0], input.object.apiVersion]),
	}
}
