# METADATA
# title: A chart of the Blueprint folder layout has its blueprint.yaml
# description: >-
#   Every chart in the Blueprint folder layout (blueprint.chart_globs, default platform/*/chart)
#   has a blueprint.yaml holding its Blueprint beside its chart/ directory: the Blueprint is what
#   the catalogue lists and installs; a chart without one is published but never offered. The
#   finding is on the chart's Chart.yaml. Checked only when the whole tree is linted.
# related_resources:
#   - ref: https://github.com/openova-io/openova/blob/main/docs/BLUEPRINT-AUTHORING.md#2-folder-layout
#     description: Blueprint authoring guide, §2 "Folder layout" (platform/<name>/blueprint.yaml beside chart/)
# custom:
#   id: blueprint-present
#   severity: error
#   scope: repo
#   runs: [cli]
#   kinds: [Blueprint, ""]
#   params:
#     blueprint.group: {type: string, minLength: 1}
#     blueprint.api_versions: {type: array, minItems: 1, items: {type: string, pattern: "^[^/]+/[^/]+$"}}
#     blueprint.chart_globs: {type: array, items: {type: string, format: glob}}
#     blueprint.name_pattern: {type: string, minLength: 1}
package ova.rules.blueprint_present

import data.ova.lib.blueprint
import data.ova.lib.k8s
import data.ova.lib.repo

fact contains f if {
	input.source.base == "Chart.yaml"
	blueprint.from_file
	is_string(input.object.name)
	blueprint.platform_chart(k8s.file_dir)
	f := {"type": "chart", "dir": k8s.file_dir, "folder": blueprint.parent(k8s.file_dir), "path": ["name"]}
}

fact contains f if {
	input.source.base == "blueprint.yaml"
	blueprint.from_file
	blueprint.is_blueprint(input.object)
	f := {"type": "blueprint", "folder": k8s.file_dir, "path": ["kind"]}
}

folders := {f.folder | some f in repo.facts("blueprint_present"); f.pkg == "blueprint_present"; f.type == "blueprint"}

violation contains v if {
	input.repo.complete
	some f in repo.facts("blueprint_present")
	f.pkg == "blueprint_present"
	f.type == "chart"
	not f.folder in folders
	v := {
		"at": f.at,
		"msg": sprintf("chart %s (%s) has no blueprint.yaml beside it in %s/, so no Blueprint lists it in the catalogue", [f.at.name, f.dir, f.folder]),
		"fix": sprintf("add %s/blueprint.yaml (a catalyst.openova.io Blueprint named %s with spec.manifests.chart: ./chart), or move the chart out of blueprint.chart_globs", [f.folder, blueprint.expected_name(blueprint.folder(f.folder))]),
	}
}
