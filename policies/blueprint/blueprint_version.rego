# METADATA
# title: Blueprint version equals its chart's version
# description: >-
#   A Blueprint (blueprint.yaml, catalyst.openova.io) declares spec.version equal to the version
#   in the Chart.yaml of the chart at spec.manifests.chart (default ./chart), resolved from the
#   blueprint's directory; manifest validation fails otherwise. Every Blueprint is checked
#   (kind Blueprint in the blueprint.group API group, or an apiVersion of blueprint.api_versions),
#   whatever its version: blueprint-api-version judges the version.
# related_resources:
#   - ref: platform/flux/README.md
#     description: 'platform change "sync blueprint.yaml versions with Chart.yaml so manifest-validation passes"'
# custom:
#   id: blueprint-version
#   severity: error
#   scope: repo
#   runs: [cli]
#   fix: sets blueprint.yaml spec.version to the chart's version
#   kinds: [Blueprint, ""]
#   params:
#     blueprint.api_versions: {type: array, minItems: 1, items: {type: string, pattern: "^[^/]+/[^/]+$"}}
#     blueprint.default_chart: {type: string, minLength: 1}
#     blueprint.group: {type: string, minLength: 1}
package ova.rules.blueprint_version

import data.ova.lib.blueprint
import data.ova.lib.k8s
import data.ova.lib.repo

fact contains f if {
	blueprint.is_blueprint(input.object)
	chart := object.get(input.object, ["spec", "manifests", "chart"], data.ova.params.blueprint.default_chart)
	is_string(chart)
	not contains(chart, "://")
	f := {
		"type": "blueprint",
		"path": ["spec", "version"],
		"version": sprintf("%v", [object.get(input.object, ["spec", "version"], "")]),
		"chart_dir": k8s.join(k8s.file_dir, chart),
		"chart": chart,
	}
}

fact contains f if {
	input.source.base == "Chart.yaml"
	input.object.apiVersion in {"v1", "v2"}
	input.object.name
	f := {
		"type": "chart",
		"path": ["version"],
		"version": sprintf("%v", [object.get(input.object, "version", "")]),
		"chart_dir": k8s.file_dir,
	}
}

# charts by directory: a complete rule, computed once per pass, so each lookup is constant time.
charts := {f.chart_dir: f | some f in repo.facts("blueprint_version"); f.pkg == "blueprint_version"; f.type == "chart"}

violation contains v if {
	input.repo # the repo pass only (object evaluations skip this body at once)
	some f in repo.facts("blueprint_version")
	f.pkg == "blueprint_version"
	f.type == "blueprint"
	c := charts[f.chart_dir]
	c.version != f.version
	v := {
		"at": f.at,
		"msg": sprintf("Blueprint %s has spec.version %s but its chart (%s/Chart.yaml) has version %s", [f.at.name, f.version, trim_suffix(f.chart, "/"), c.version]),
		"fix": sprintf("set spec.version: %s (or bump the chart) so blueprint.yaml and Chart.yaml release together", [c.version]),
		"edit": {"path": ["spec", "version"], "value": c.version},
	}
}

violation contains v if {
	input.repo # the repo pass only (object evaluations skip this body at once)
	some f in repo.facts("blueprint_version")
	f.pkg == "blueprint_version"
	f.type == "blueprint"
	not charts[f.chart_dir]
	input.repo.complete
	v := {
		"at": f.at,
		"msg": sprintf("Blueprint %s points at chart %s, but no %s/Chart.yaml was linted", [f.at.name, f.chart, trim_suffix(f.chart, "/")]),
		"fix": "fix spec.manifests.chart, or lint the tree that holds the chart",
	}
}
