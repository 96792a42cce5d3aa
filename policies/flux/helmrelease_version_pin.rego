# METADATA
# title: A HelmRelease pins an exact chart version
# description: >-
#   A HelmRelease that names its chart in spec.chart.spec pins spec.chart.spec.version to one
#   exact version (MAJOR.MINOR.PATCH, an optional pre-release or build, an optional = or v). An
#   empty or missing version means "*" to Flux, and a range (^, ~, >=, <, x or * wildcards, ||,
#   a partial version) lets a new chart release roll out on the next sync without a commit.
#   HelmReleases on spec.chartRef are not concerned. The finding is on the version (on
#   spec.chart.spec when the version is missing).
# related_resources:
#   - ref: https://fluxcd.io/flux/components/helm/helmreleases/#chart-template
#     description: Flux HelmRelease API, spec.chart.spec.version (a semver range, "*" when empty)
#   - ref: https://github.com/openova-io/openova/blob/main/.github/workflows/blueprint-release.yaml
#     description: blueprint-release workflow (each Blueprint release bumps the exact version pinned by the bootstrap-kit HelmReleases)
# custom:
#   id: helmrelease-version-pin
#   severity: warning
#   scope: object
#   runs: [cli, admission]
#   kinds: [HelmRelease]
package ova.rules.helmrelease_version_pin

import data.ova.lib.k8s

spec := input.object.spec.chart.spec if {
	input.object.kind == "HelmRelease"
	startswith(input.object.apiVersion, "helm.toolkit.fluxcd.io/")
	is_object(input.object.spec.chart.spec)
}

# version: defined only for a HelmRelease's chart spec, so the bodies need no other guard.
version := trim_space(sprintf("%v", [spec.version])) if {
	spec.version != null
} else := "" if {
	is_object(spec)
}

violation contains v if {
	version == ""
	v := {
		"path": path,
		"msg": sprintf("%s sets no chart version: Flux installs the newest chart it finds (\"*\"), and a new release rolls out without a commit", [k8s.display]),
		"fix": "set spec.chart.spec.version to the exact chart version to run (e.g. 1.4.2)",
	}
}

# an exact version is MAJOR.MINOR.PATCH (an optional v or = prefix, pre-release and build); the
# pattern is inline, as a rule holding it would cost more than the match.
violation contains v if {
	version != ""
	not regex.match(`^[=v]?v?(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$`, version)
	v := {
		"path": path,
		"msg": sprintf("%s pins chart version %q, a range: a new chart release matching it rolls out without a commit", [k8s.display, version]),
		"fix": "set spec.chart.spec.version to one exact version (MAJOR.MINOR.PATCH) and bump it by commit",
	}
}

path := ["spec", "chart", "spec", "version"] if "version" in object.keys(spec) else := ["spec", "chart", "spec"]
