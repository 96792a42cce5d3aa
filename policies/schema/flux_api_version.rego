# METADATA
# title: Flux objects use an API version the Flux release still serves
# description: >-
#   A Flux object (GitRepository, HelmRelease, Kustomization, ...) uses an apiVersion that the
#   configured Flux version serves and does not deprecate. Which versions a Flux release serves,
#   deprecates (and with which warning) and stores comes from that release's own
#   CustomResourceDefinitions (served, deprecated, deprecationWarning, storage), carried in the
#   schema catalogue for every Flux minor from 2.4 (linter/schema/catalog/SOURCES.md). The Flux
#   version is fluxVersion when the configuration sets it, else the one the tree pins
#   (gotk-components.yaml's "# Flux Version" header, a FluxInstance's distribution version, the
#   flux2 chart's version), else 2.4. A
#   deprecated version is a warning; a version the release no longer serves is an error, since
#   the API server refuses the object. The fix is the storage version of the kind, which
#   `ova-lint lint --fix` writes when that version's schema accepts the object.
# related_resources:
#   - ref: https://fluxcd.io/flux/installation/upgrade/#upgrade-flux-crds-and-apis
#     description: Flux upgrade guide, "Upgrade Flux CRDs and APIs" (deprecated API versions)
#   - ref: linter/schema/catalog/SOURCES.md
#     description: the Flux CRDs of each carried Flux minor (served, deprecated, storage versions)
# custom:
#   id: flux-api-version
#   severity: warning
#   scope: object
#   runs: [cli, admission]
#   # every kind of the carried Flux catalogues (data.ova.apis.flux; a test keeps the list whole)
#   kinds: [HelmRelease, ImagePolicy, ImageRepository, ImageUpdateAutomation, Kustomization, Alert, Provider, Receiver, ArtifactGenerator, Bucket, ExternalArtifact, GitRepository, HelmChart, HelmRepository, OCIRepository]
#   fix: sets apiVersion to the kind's storage version in the configured Flux release, when that version's schema accepts the object (not for a version only a later Flux serves)
package ova.rules.flux_api_version

import data.ova.lib.k8s

flux_version := input.versions.flux

# the object's API group and version (a Flux kind has both).
api := split(input.object.apiVersion, "/")

version := api[1]

# the kind's versions in the configured Flux release (Flux kinds only)
entry := data.ova.apis.flux[input.versions.flux][sprintf("%s/%s", [api[0], input.object.kind])]

# info: what that release says of the object's version. Every body starts from it, so it is
# built from the input alone: each helper rule on the way (api, k8s.api_group) costs more than
# the lookup, and the rest is only evaluated for the objects that fail.
info := i if {
	parts := split(input.object.apiVersion, "/")
	i := data.ova.apis.flux[input.versions.flux][sprintf("%s/%s", [parts[0], input.object.kind])].versions[parts[1]]
}

replacement := sprintf("%s/%s", [k8s.api_group, entry.storage])

violation contains v if {
	info.deprecated # first: false for nearly every object
	info.served
	version != entry.storage
	v := {
		"path": ["apiVersion"],
		"msg": sprintf("%s uses %s, which Flux %s deprecates%s: use %s", [k8s.display, input.object.apiVersion, flux_version, warning(info), replacement]),
		"fix": sprintf("set apiVersion: %s (the fields of the object may need the changes the Flux upgrade guide lists)", [replacement]),
		"edit": {"path": ["apiVersion"], "value": replacement},
	}
}

violation contains v if {
	not info.served
	entry.storage
	not newer
	v := {
		"path": ["apiVersion"],
		"severity": "error",
		"msg": sprintf("%s uses %s, which Flux %s no longer serves (the API server refuses it): use %s", [k8s.display, input.object.apiVersion, flux_version, replacement]),
		"fix": sprintf("set apiVersion: %s (the fields of the object may need the changes the Flux upgrade guide lists)", [replacement]),
		"edit": {"path": ["apiVersion"], "value": replacement},
	}
}

# a version that only a later Flux serves: the cluster's Flux is older than the object
violation contains v if {
	not info.served
	entry.storage
	first := newer
	v := {
		"path": ["apiVersion"],
		"severity": "error",
		"msg": sprintf("%s uses %s, which Flux %s does not serve yet (Flux %s does)", [k8s.display, input.object.apiVersion, flux_version, first]),
		"fix": sprintf("if the cluster runs Flux %s or later, set fluxVersion in .ova-lint.yaml (or --flux-version); otherwise use %s", [first, replacement]),
	}
}

# newer is the first carried Flux line after the configured one that serves the version.
newer := sprintf("2.%d", [min({minor(line) |
	some line, kinds in data.ova.apis.flux
	minor(line) > minor(flux_version)
	kinds[sprintf("%s/%s", [k8s.api_group, input.object.kind])].versions[version].served
})])

minor(line) := to_number(split(line, ".")[1])

warning(info) := sprintf(" (%q)", [info.warning]) if info.warning != "" else := ""
