# METADATA
# title: sourceRef and chartRef resolve
# description: >-
#   A Kustomization's spec.sourceRef, a HelmRelease's spec.chart.spec.sourceRef and its
#   spec.chartRef name a source declared in the tree, or one listed in flux.external_sources
#   (Kind/namespace/name). The namespace defaults to the object's own. The GitRepository
#   flux-system/flux-system is always there (`flux bootstrap` creates it), and so are the
#   GitRepositories of flux.self_sources.
# related_resources:
#   - ref: https://fluxcd.io/flux/components/kustomize/kustomizations/#source-reference
#     description: Flux Kustomization API, spec.sourceRef
#   - ref: https://fluxcd.io/flux/components/helm/helmreleases/#chart-template
#     description: Flux HelmRelease API, spec.chart.spec.sourceRef and spec.chartRef
# custom:
#   id: flux-source-ref
#   severity: error
#   scope: repo
#   runs: [cli]
#   kinds: [Kustomization, HelmRelease, GitRepository, OCIRepository, HelmRepository, HelmChart, Bucket, ExternalArtifact]
#   params:
#     flux.self_sources: {type: array, items: {type: string, pattern: "^[^/]+/[^/]+$"}}
#     flux.external_sources: {type: array, items: {type: string, pattern: "^[A-Za-z]+/[^/]+/[^/]+$"}}
package ova.rules.flux_source_ref

import data.ova.lib.repo

params := data.ova.params.flux

# The fact bodies read the input directly (the kinds as literals, the namespace with
# object.get): each helper rule costs several times the expression it names.
fact contains f if {
	input.object.kind in {"GitRepository", "OCIRepository", "HelmRepository", "HelmChart", "Bucket", "ExternalArtifact"}
	startswith(input.object.apiVersion, "source.toolkit.fluxcd.io/")
	f := {"type": "source", "ref": sprintf("%s/%s/%s", [input.object.kind, object.get(input.object, ["metadata", "namespace"], ""), input.object.metadata.name]), "path": ["metadata", "name"]}
}

# The references: a Kustomization's sourceRef, a HelmRelease's chart sourceRef and chartRef.
fact contains f if {
	some [kind, group, path] in [
		["Kustomization", "kustomize.toolkit.fluxcd.io/", ["spec", "sourceRef"]],
		["HelmRelease", "helm.toolkit.fluxcd.io/", ["spec", "chart", "spec", "sourceRef"]],
		["HelmRelease", "helm.toolkit.fluxcd.io/", ["spec", "chartRef"]],
	]
	input.object.kind == kind
	startswith(input.object.apiVersion, group)
	ref := object.get(input.object, path, null)
	is_string(ref.kind)
	is_string(ref.name)
	ns := object.get(input.object, ["metadata", "namespace"], "")
	f := {
		"type": "ref", "path": path,
		"ref": sprintf("%s/%s/%s", [ref.kind, object.get(ref, "namespace", ns), ref.name]),
		"by": sprintf("%s %s/%s", [input.object.kind, ns, input.object.metadata.name]),
	}
}

# Complete sets, computed once per repo pass (a partial set looked up by a bound key is
# re-evaluated over every fact at each lookup).
declared := {f.ref | some f in repo.facts("flux_source_ref"); f.pkg == "flux_source_ref"; f.type == "source"}

always := {"GitRepository/flux-system/flux-system"} | {sprintf("GitRepository/%s", [s]) | some s in params.self_sources} | {s | some s in params.external_sources}

violation contains v if {
	input.repo.complete
	some f in repo.facts("flux_source_ref")
	f.pkg == "flux_source_ref"
	f.type == "ref"
	not declared[f.ref]
	not always[f.ref]
	v := {
		"at": f.at,
		"msg": sprintf("%s refers to %s, which is not declared in the tree nor listed in flux.external_sources", [f.by, f.ref]),
		"fix": "fix the kind, name or namespace of the reference, add the source to the tree, or list it (Kind/namespace/name) in flux.external_sources",
	}
}
