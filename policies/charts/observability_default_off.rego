# METADATA
# title: A Blueprint chart's observability toggles default to false
# description: >-
#   In the values.yaml of a Blueprint chart (blueprint.chart_globs and chart.name_globs), every
#   observability toggle defaults to false: <key>.<toggle> at any depth, where <key> is one of
#   charts.observability_keys (serviceMonitor, servicemonitor, metrics, prometheusRule,
#   prometheus, podMonitor, monitoring, tracing) and <toggle> one of charts.observability_toggles
#   (enabled, create). A chart-level true renders ServiceMonitors and PrometheusRules that a
#   cluster without the monitoring.coreos.com CRDs rejects, and the whole bootstrap stalls; the
#   operator opts in per cluster once the observability tier runs. The finding is on the
#   toggle's line; the fix sets it to false.
# related_resources:
#   - ref: https://github.com/openova-io/openova/blob/main/docs/BLUEPRINT-AUTHORING.md#112-observability-toggles-must-default-false-hard-contract--ci-enforced
#     description: Blueprint authoring guide, §11.2 "Observability toggles must default false"
# custom:
#   id: observability-default-off
#   severity: error
#   scope: object
#   runs: [cli]
#   fix: sets the toggle to false in values.yaml
#   kinds: [""]
#   params:
#     blueprint.chart_globs: {type: array, items: {type: string, format: glob}}
#     chart.name_globs: {type: array, items: {type: string, format: glob}}
#     charts.observability_keys: {type: array, items: {type: string, minLength: 1}}
#     charts.observability_toggles: {type: array, items: {type: string, minLength: 1}}
package ova.rules.observability_default_off

import data.ova.lib.blueprint
import data.ova.lib.k8s

params := data.ova.params.charts

values if {
	input.source.base == "values.yaml"
	blueprint.from_file
	blueprint.blueprint_chart(k8s.file_dir)
	is_object(input.object)
}

violation contains v if {
	values
	walk(input.object, [path, value])
	value == true
	n := count(path)
	n >= 2
	path[n - 1] in params.observability_toggles
	path[n - 2] in params.observability_keys
	dotted := concat(".", [sprintf("%v", [p]) | some p in path])
	v := {
		"path": path,
		"msg": sprintf("values.yaml of chart %s defaults %s to true: on a cluster without the monitoring CRDs the rendered objects are rejected and the release fails", [k8s.file_dir, dotted]),
		"fix": sprintf("set %s: false here, and turn it on in the cluster's HelmRelease values once the observability tier is reconciled", [dotted]),
		"edit": {"path": path, "value": false},
	}
}
