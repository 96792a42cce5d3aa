# METADATA
# title: What Flux applies builds and renders
# description: >-
#   Every Flux Kustomization of this repository builds (kustomize, with the Kustomization's
#   patches, components and postBuild substitution, as kustomize-controller builds it) and every
#   HelmRelease whose chart is in the tree renders (Helm's engine with the chart's values.yaml,
#   spec.valuesFrom and spec.values, as helm-controller renders it). A failure is reported on the
#   Kustomization or HelmRelease with the tool's message: Flux would stop there. A chart whose
#   declared dependencies are not vendored, and a Kustomization or HelmRelease whose source is not
#   this repository, are reported at info level: their objects are not linted.
# related_resources:
#   - ref: https://fluxcd.io/flux/components/kustomize/kustomizations/
#     description: Flux Kustomization API (kustomize build, postBuild)
#   - ref: https://fluxcd.io/flux/components/helm/helmreleases/
#     description: Flux HelmRelease API (chart, values, valuesFrom)
# custom:
#   id: render
#   severity: error
#   scope: object
#   runs: [cli]
#   kinds: []
#   params:
#     charts.local_repositories: {type: [array, "null"], items: {type: string, pattern: "^[^/]+/[^/]+$"}}
#     flux.bootstrap: {type: array, items: {type: object, required: [name, path], additionalProperties: false, properties: {name: {type: string, minLength: 1}, namespace: {type: string}, path: {type: string, minLength: 1}, sourceRef: {type: object}, postBuild: {type: object}, targetNamespace: {type: string}, namePrefix: {type: string}, nameSuffix: {type: string}, patches: {type: array}, images: {type: array}, components: {type: array}, commonMetadata: {type: object}, dependsOn: {type: array}}}}
#     substitution.variables: {type: object, additionalProperties: {type: [string, number, boolean]}}
package ova.rules.render

import data.ova.lib.k8s

info_types := {"missing-dependency", "external-source", "external-chart"}

what := {
	"kustomize": "does not build",
	"path": "does not build",
	"helm": "does not render",
}

fixes := {
	"kustomize": "fix the kustomization the message names (kustomize build fails the same way in kustomize-controller)",
	"path": "point spec.path at a directory of this repository (paths resolve against the repository root, --root)",
	"helm": "fix the chart, its values or the HelmRelease's values so `helm template` succeeds",
	"missing-dependency": "run `helm dependency build` and commit charts/ (or vendor the subcharts) to lint their objects",
	"external-source": "list the source in flux.self_sources if it is this repository; otherwise its objects are linted where they live",
	"external-chart": "list the repository in charts.local_repositories if this tree publishes the chart",
}

violation contains v if {
	e := input.render_error
	not e.type in info_types
	v := {
		"path": e.path,
		"msg": sprintf("%s %s: %s", [k8s.display, what[e.type], e.message]),
		"fix": fixes[e.type],
	}
}

violation contains v if {
	e := input.render_error
	e.type in info_types
	v := {
		"path": e.path,
		"msg": e.message,
		"fix": fixes[e.type],
		"severity": "info",
	}
}
