# METADATA
# title: A Blueprint is named after its folder
# description: >-
#   The Blueprint in a blueprint.yaml is named blueprint.name_pattern (default bp-{folder}), where
#   {folder} is the directory that holds blueprint.yaml: the release pipeline publishes the folder
#   as ghcr.io/openova-io/bp-<folder>, and Blueprints depend on each other by that name. The finding
#   is on metadata.name. A blueprint.yaml at the linted root has no folder to compare with.
# related_resources:
#   - ref: https://github.com/openova-io/openova/blob/main/docs/BLUEPRINT-AUTHORING.md#10-versioning
#     description: Blueprint authoring guide, §10 "Versioning" (ghcr.io/openova-io/bp-<name>, <name> the folder) and §3 (metadata.name bp-wordpress)
# custom:
#   id: blueprint-name
#   severity: error
#   scope: object
#   runs: [cli]
#   kinds: [Blueprint]
#   params:
#     blueprint.group: {type: string, minLength: 1}
#     blueprint.api_versions: {type: array, minItems: 1, items: {type: string, pattern: "^[^/]+/[^/]+$"}}
#     blueprint.name_pattern: {type: string, minLength: 1}
package ova.rules.blueprint_name

import data.ova.lib.blueprint
import data.ova.lib.k8s

violation contains v if {
	blueprint.is_blueprint(input.object)
	blueprint.from_file
	input.source.base == "blueprint.yaml"
	folder := blueprint.folder(k8s.file_dir)
	folder != ""
	want := blueprint.expected_name(folder)
	name := object.get(input.object, ["metadata", "name"], "")
	name != want
	v := {
		"path": ["metadata", "name"],
		"msg": sprintf("Blueprint %q in folder %s is not named %s (blueprint.name_pattern %s)", [name, k8s.file_dir, want, blueprint.params.name_pattern]),
		"fix": sprintf("set metadata.name: %s, and update the spec.depends entries that name this Blueprint", [want]),
	}
}
