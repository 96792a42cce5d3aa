# METADATA
# title: One declaration per object in what a cluster applies
# description: >-
#   Two documents with the same group, kind, namespace and name in one kustomize build make
#   kustomize refuse the build; the same object applied by two Kustomizations or HelmReleases of
#   one cluster (reached from the same entry point) makes them fight over its ownership, each
#   apply undoing the other, and no Flux tool checks it. Each declaration is reported.
# related_resources:
#   - ref: https://fluxcd.io/flux/components/kustomize/kustomizations/
#     description: Flux Kustomization API (kustomize build; server-side apply ownership)
# custom:
#   id: duplicate-resource
#   severity: error
#   scope: repo
#   runs: [cli]
#   producers: [kustomize, helm]
package ova.rules.duplicate_resource

import data.ova.lib.k8s
import data.ova.lib.repo

fact contains f if {
	input.origin.producer in {"kustomize", "helm"}
	is_string(input.object.kind)
	is_string(input.object.metadata.name)
	f := {
		"type": "res",
		"id": sprintf("%s|%s|%s|%s", [k8s.api_group, input.object.kind, object.get(input.object, ["metadata", "namespace"], ""), input.object.metadata.name]),
		"cluster": object.get(input.origin, "cluster", ""),
		"build": object.get(input.origin, "build", ""),
		"duplicate": object.get(input.origin, "duplicate", false),
		"path": ["metadata", "name"],
	}
}

res := [f | some f in repo.facts("duplicate_resource"); f.pkg == "duplicate_resource"]

# by_id groups the facts by object identity. Complete rules built with indexed comprehensions:
# a partial set looked up by a bound key is re-evaluated over every fact at each lookup, which
# made the repo pass quadratic.
by_id := {id: fs | some g in res; id := g.id; fs := [f | f := res[_]; f.id == id]}

where(f) := sprintf("%s:%d", [f.at.file, f.at.line])

violation contains v if {
	input.repo # the repo pass only (object evaluations skip this body at once)
	some f in res
	f.duplicate
	others := [where(g) | some g in by_id[f.id]; g.duplicate; g.build == f.build; where(g) != where(f)]
	count(others) > 0
	v := {
		"at": f.at,
		"msg": sprintf("%s is declared twice in %s (also at %s): kustomize refuses to build it", [display(f), f.build, concat(", ", sort(others))]),
		"fix": "keep one declaration: delete the other or give it another name",
	}
}

violation contains v if {
	input.repo # the repo pass only (object evaluations skip this body at once)
	some f in res
	not f.duplicate
	others := {g.build | some g in by_id[f.id]; not g.duplicate; g.cluster == f.cluster; g.build != f.build}
	count(others) > 0
	v := {
		"at": f.at,
		"msg": sprintf("%s is applied by %s and by %s in the same cluster: they fight over its ownership", [display(f), f.build, concat(", ", sort(others))]),
		"fix": "apply the object from one Kustomization or HelmRelease only (remove it from the other, or disable it in the chart's values)",
	}
}

display(f) := sprintf("%s %s/%s", [f.at.kind, f.at.namespace, f.at.name]) if f.at.namespace != ""

display(f) := sprintf("%s %s", [f.at.kind, f.at.name]) if f.at.namespace == ""
