# METADATA
# title: dependsOn resolves within the cluster
# description: >-
#   Every spec.dependsOn entry of a HelmRelease or a Kustomization names an object of the same
#   kind applied to the same cluster: reached from the same entry point (bootstrap Kustomization
#   or top-level kustomize root), not merely declared somewhere in the tree. The namespace
#   defaults to the object's own. A dependsOn cycle never becomes ready and is reported on each
#   entry of the cycle.
# related_resources:
#   - ref: https://fluxcd.io/flux/components/helm/helmreleases/#dependencies
#     description: Flux HelmRelease API, spec.dependsOn
#   - ref: https://fluxcd.io/flux/components/kustomize/kustomizations/#dependencies
#     description: Flux Kustomization API, spec.dependsOn
# custom:
#   id: flux-depends-on
#   severity: error
#   scope: repo
#   runs: [cli]
#   kinds: [Kustomization, HelmRelease]
package ova.rules.flux_depends_on

import data.ova.lib.repo

flux_kind if {
	input.object.kind == "Kustomization"
	startswith(input.object.apiVersion, "kustomize.toolkit.fluxcd.io/")
}

flux_kind if {
	input.object.kind == "HelmRelease"
	startswith(input.object.apiVersion, "helm.toolkit.fluxcd.io/")
}

own_ns := object.get(input.object, ["metadata", "namespace"], "")

cluster := object.get(input, ["origin", "cluster"], "")

# The fact bodies read the input directly (flux_kind's test inlined as a literal lookup, own_ns
# and cluster as object.get): each helper rule costs several times the expression it names.
fact contains f if {
	startswith(input.object.apiVersion, {"Kustomization": "kustomize.toolkit.fluxcd.io/", "HelmRelease": "helm.toolkit.fluxcd.io/"}[input.object.kind])
	f := {
		"type": "object", "kind": input.object.kind, "cluster": object.get(input, ["origin", "cluster"], ""),
		"ref": sprintf("%s/%s", [object.get(input.object, ["metadata", "namespace"], ""), input.object.metadata.name]),
		"path": ["metadata", "name"],
	}
}

fact contains f if {
	some i, dep in input.object.spec.dependsOn # first: most objects have none
	flux_kind
	is_string(dep.name)
	f := {
		"type": "dep", "kind": input.object.kind, "cluster": cluster,
		"from": sprintf("%s/%s", [own_ns, input.object.metadata.name]),
		"ref": sprintf("%s/%s", [object.get(dep, "namespace", own_ns), dep.name]),
		"path": ["spec", "dependsOn", i],
	}
}

mine(f) if {
	f.pkg == "flux_depends_on"
}

# a complete set, computed once per repo pass (a partial set looked up by a bound key is
# re-evaluated over every fact at each lookup)
declared := {[f.cluster, f.kind, f.ref] | some f in repo.facts("flux_depends_on"); mine(f); f.type == "object"}

node(f, ref) := sprintf("%s|%s|%s", [f.cluster, f.kind, ref])

edges[n] contains node(f, f.ref) if {
	some f in repo.facts("flux_depends_on")
	mine(f)
	f.type == "dep"
	n := node(f, f.from)
}

violation contains v if {
	input.repo.complete
	some f in repo.facts("flux_depends_on")
	mine(f)
	f.type == "dep"
	not declared[[f.cluster, f.kind, f.ref]]
	v := {
		"at": f.at,
		"msg": sprintf("%s %s depends on %s %s, which no %s applied to the same cluster declares (%s)", [f.kind, f.from, f.kind, f.ref, f.kind, cluster_name(f.cluster)]),
		"fix": sprintf("fix the name or namespace of the dependsOn entry, or apply %s %s from the same entry point", [f.kind, f.ref]),
	}
}

violation contains v if {
	input.repo # the repo pass only (object evaluations skip this body at once)
	some f in repo.facts("flux_depends_on")
	mine(f)
	f.type == "dep"
	declared[[f.cluster, f.kind, f.ref]]
	node(f, f.from) in graph.reachable(edges, {node(f, f.ref)})
	v := {
		"at": f.at,
		"msg": sprintf("%s %s depends on %s, which depends back on it: the dependsOn cycle never becomes ready", [f.kind, f.from, f.ref]),
		"fix": "remove one dependsOn edge of the cycle",
	}
}

cluster_name(c) := "the files no entry point reaches" if c == ""

cluster_name(c) := c if c != ""
