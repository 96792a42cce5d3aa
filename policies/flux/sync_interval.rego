# METADATA
# title: Flux objects reconcile at the platform's sync interval
# description: >-
#   spec.interval of GitRepository (1m), Kustomization (10m) and HelmRelease (10m) follows the
#   platform's sync-interval table; HelmRepository and OCIRepository intervals are optional
#   parameters. An environment selected by config (path globs, labels, namespace; staging 1m,
#   production 10m by default) overrides the per-kind value. Durations compare by value (60s == 1m).
# related_resources:
#   - ref: platform/flux/README.md#sync-intervals
#     description: platform Flux README, "Sync Intervals" and "Environment Strategy"
# custom:
#   id: sync-interval
#   severity: warning
#   scope: object
#   runs: [cli, admission]
#   fix: sets spec.interval to the expected interval (the environment's, else the kind's)
#   kinds: [GitRepository, OCIRepository, HelmRepository, HelmChart, Bucket, Kustomization, HelmRelease]
#   params:
#     sync_interval.kinds: {type: object, additionalProperties: {anyOf: [{const: ""}, {type: string, format: duration}]}}
#     sync_interval.environments: {type: object, additionalProperties: {type: object, additionalProperties: {anyOf: [{const: ""}, {type: string, format: duration}]}}}
package ova.rules.sync_interval

import data.ova.lib.k8s

# expected interval: the environment's value for the kind, else the per-kind default. (The
# parameters are read directly: a params helper rule costs more than the reads.)
expected := d if {
	d := data.ova.params.sync_interval.environments[input.environment.name][input.object.kind]
	d != ""
} else := d if {
	d := data.ova.params.sync_interval.kinds[input.object.kind]
	d != ""
}

where := sprintf(" in environment %s", [input.environment.name]) if {
	data.ova.params.sync_interval.environments[input.environment.name][input.object.kind]
} else := ""

# the object is a Flux kind in its own API group, in any served version (one body per kind, so
# OPA's index picks the one that applies).
flux_kind if {
	input.object.kind == "GitRepository"
	startswith(input.object.apiVersion, "source.toolkit.fluxcd.io/")
}

flux_kind if {
	input.object.kind == "OCIRepository"
	startswith(input.object.apiVersion, "source.toolkit.fluxcd.io/")
}

flux_kind if {
	input.object.kind == "HelmRepository"
	startswith(input.object.apiVersion, "source.toolkit.fluxcd.io/")
}

flux_kind if {
	input.object.kind == "HelmChart"
	startswith(input.object.apiVersion, "source.toolkit.fluxcd.io/")
}

flux_kind if {
	input.object.kind == "Bucket"
	startswith(input.object.apiVersion, "source.toolkit.fluxcd.io/")
}

flux_kind if {
	input.object.kind == "Kustomization"
	startswith(input.object.apiVersion, "kustomize.toolkit.fluxcd.io/")
}

flux_kind if {
	input.object.kind == "HelmRelease"
	startswith(input.object.apiVersion, "helm.toolkit.fluxcd.io/")
}

# got: for the messages. The bodies read the input directly and start with their cheapest,
# most selective test: a helper rule costs more than the expressions it saves.
got := input.object.spec.interval

# The common body tests flux_kind inline (a literal lookup costs a tenth of the rule's).
violation contains v if {
	startswith(input.object.apiVersion, {
		"GitRepository": "source.toolkit.fluxcd.io/", "OCIRepository": "source.toolkit.fluxcd.io/",
		"HelmRepository": "source.toolkit.fluxcd.io/", "HelmChart": "source.toolkit.fluxcd.io/",
		"Bucket": "source.toolkit.fluxcd.io/", "Kustomization": "kustomize.toolkit.fluxcd.io/",
		"HelmRelease": "helm.toolkit.fluxcd.io/",
	}[input.object.kind])
	input.object.spec.interval != expected # the same text is the same duration: nothing parsed
	time.parse_duration_ns(input.object.spec.interval) != time.parse_duration_ns(expected)
	v := {
		"path": ["spec", "interval"],
		"msg": sprintf("%s reconciles every %s; the platform's sync interval for %s%s is %s", [k8s.display, got, input.object.kind, where, expected]),
		"fix": sprintf("set spec.interval: %s", [expected]),
		"edit": {"path": ["spec", "interval"], "value": expected},
	}
}

violation contains v if {
	input.object.spec.interval
	input.object.spec.interval != expected # expected is a duration: the same text parses
	not time.parse_duration_ns(input.object.spec.interval)
	flux_kind
	expected
	v := {
		"path": ["spec", "interval"],
		"msg": sprintf("%s has spec.interval %q, which is not a Go duration", [k8s.display, got]),
		"fix": sprintf("set spec.interval: %s", [expected]),
		"edit": {"path": ["spec", "interval"], "value": expected},
	}
}

violation contains v if {
	not input.object.spec.interval
	flux_kind
	expected
	v := {
		"path": ["spec"],
		"msg": sprintf("%s has no spec.interval; the platform's sync interval for %s%s is %s", [k8s.display, input.object.kind, where, expected]),
		"fix": sprintf("add spec.interval: %s", [expected]),
		"edit": {"path": ["spec", "interval"], "value": expected},
	}
}
