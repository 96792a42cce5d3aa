# METADATA
# title: A Blueprint chart is named after its Blueprint
# description: >-
#   The Chart.yaml name of a chart in the Blueprint folder layout (blueprint.chart_globs, default
#   platform/*/chart) is blueprint.name_pattern (default bp-{folder}, {folder} the directory that
#   holds chart/); the name of another Blueprint chart (chart.name_globs, default products/*/chart)
#   starts with chart.name_prefix (default bp-). The release pipeline publishes each chart as
#   ghcr.io/openova-io/<name>, and HelmReleases pull it by that name.
# related_resources:
#   - ref: https://github.com/openova-io/openova/blob/main/docs/BLUEPRINT-AUTHORING.md#11-ci-pipeline
#     description: Blueprint authoring guide, §11 "CI pipeline" and §11.1 (push to ghcr.io/openova-io/bp-<folder-name>; platform/cilium/chart is bp-cilium)
#   - ref: https://github.com/openova-io/openova/blob/main/.github/workflows/blueprint-release.yaml
#     description: blueprint-release workflow (the chart name, bp- prefixed, names the published artifact)
# custom:
#   id: chart-name
#   severity: error
#   scope: object
#   runs: [cli]
#   kinds: [""]
#   params:
#     blueprint.chart_globs: {type: array, items: {type: string, format: glob}}
#     chart.name_globs: {type: array, items: {type: string, format: glob}}
#     blueprint.name_pattern: {type: string, minLength: 1}
#     chart.name_prefix: {type: string}
package ova.rules.chart_name

import data.ova.lib.blueprint
import data.ova.lib.k8s

chart := input.object if {
	input.source.base == "Chart.yaml"
	blueprint.from_file
	is_string(input.object.name)
}

violation contains v if {
	blueprint.platform_chart(k8s.file_dir)
	folder := blueprint.folder(blueprint.parent(k8s.file_dir))
	want := blueprint.expected_name(folder)
	chart.name != want
	v := {
		"path": ["name"],
		"msg": sprintf("chart %s in %s is named %q, not %s (blueprint.name_pattern %s)", [k8s.file_dir, blueprint.parent(k8s.file_dir), chart.name, want, blueprint.params.name_pattern]),
		"fix": sprintf("set name: %s, and the HelmReleases that pull the chart (spec.chart.spec.chart)", [want]),
	}
}

violation contains v if {
	blueprint.products_chart(k8s.file_dir)
	prefix := data.ova.params.chart.name_prefix
	not startswith(chart.name, prefix)
	v := {
		"path": ["name"],
		"msg": sprintf("chart %s is named %q, without the %s prefix of Blueprint charts (chart.name_prefix): it would publish as ghcr.io/openova-io/%s", [k8s.file_dir, chart.name, prefix, chart.name]),
		"fix": sprintf("set name: %s%s, and the HelmReleases that pull the chart (spec.chart.spec.chart)", [prefix, chart.name]),
	}
}
