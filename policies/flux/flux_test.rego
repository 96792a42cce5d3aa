package ova.rules.flux_test

import data.ova.rules.kustomization_health_checks
import data.ova.rules.kustomization_prune
import data.ova.rules.kustomization_wait
import data.ova.rules.sync_interval

ks(spec) := {
	"apiVersion": "kustomize.toolkit.fluxcd.io/v1",
	"kind": "Kustomization",
	"metadata": {"name": "app", "namespace": "flux-system"},
	"spec": spec,
}

good := {
	"interval": "10m",
	"path": "./deploy/prod",
	"prune": true,
	"wait": true,
	"sourceRef": {"kind": "GitRepository", "name": "app"},
	"healthChecks": [{"apiVersion": "apps/v1", "kind": "Deployment", "name": "app", "namespace": "app"}],
}

inp(o) := {"object": o, "source": {"file": "f.yaml", "path": "f.yaml", "root": "."}}

inp_env(o, env) := object.union(inp(o), {"environment": {"name": env}})

all_violations(o) := vs if {
	a := kustomization_prune.violation with input as inp(o)
	b := kustomization_wait.violation with input as inp(o)
	c := kustomization_health_checks.violation with input as inp(o)
	d := sync_interval.violation with input as inp(o)
	vs := ((a | b) | c) | d
}

test_good_kustomization_passes if {
	count(all_violations(ks(good))) == 0
}

test_prune_false if {
	vs := kustomization_prune.violation with input as inp(ks(object.union(good, {"prune": false})))
	some v in vs
	v.path == ["spec", "prune"]
	contains(v.msg, "false")
}

test_prune_missing if {
	vs := kustomization_prune.violation with input as inp(ks(object.remove(good, ["prune"])))
	some v in vs
	v.path == ["spec"]
}

test_wait_false if {
	count(kustomization_wait.violation) == 1 with input as inp(ks(object.union(good, {"wait": false})))
}

test_health_checks_missing if {
	vs := kustomization_health_checks.violation with input as inp(ks(object.remove(good, ["healthChecks"])))
	count(vs) == 1
}

test_health_checks_empty if {
	count(kustomization_health_checks.violation) == 1 with input as inp(ks(object.union(good, {"healthChecks": []})))
}

test_health_checks_optional_with_wait if {
	count(kustomization_health_checks.violation) == 0 with input as inp(ks(object.remove(good, ["healthChecks"])))
		with data.ova.params.kustomization.health_checks_with_wait as false
	count(kustomization_health_checks.violation) == 1 with input as inp(ks(object.remove(object.union(good, {"wait": false}), ["healthChecks"])))
		with data.ova.params.kustomization.health_checks_with_wait as false
}

test_kustomize_config_kustomization_ignored if {
	o := {"apiVersion": "kustomize.config.k8s.io/v1beta1", "kind": "Kustomization", "resources": ["a.yaml"]}
	count(all_violations(o)) == 0
}

test_old_flux_api_versions_checked if {
	o := object.union(ks(object.union(good, {"prune": false})), {"apiVersion": "kustomize.toolkit.fluxcd.io/v1beta2"})
	count(kustomization_prune.violation) == 1 with input as inp(o)
}

hr(interval) := {
	"apiVersion": "helm.toolkit.fluxcd.io/v2",
	"kind": "HelmRelease",
	"metadata": {"name": "x"},
	"spec": {"interval": interval},
}

test_interval_equal_by_value if {
	count(sync_interval.violation) == 0 with input as inp(hr("600s"))
	count(sync_interval.violation) == 0 with input as inp(hr("10m0s"))
}

test_interval_wrong if {
	vs := sync_interval.violation with input as inp(hr("15m"))
	some v in vs
	v.path == ["spec", "interval"]
	contains(v.msg, "15m")
	contains(v.fix, "10m")
}

test_interval_invalid if {
	vs := sync_interval.violation with input as inp(hr("soon"))
	some v in vs
	contains(v.msg, "not a Go duration")
}

test_interval_missing if {
	o := object.remove(hr("1m"), ["spec"])
	vs := sync_interval.violation with input as inp(object.union(o, {"spec": {}}))
	count(vs) == 1
}

test_gitrepository_interval if {
	o := {"apiVersion": "source.toolkit.fluxcd.io/v1", "kind": "GitRepository", "metadata": {"name": "r"}, "spec": {"interval": "5m"}}
	count(sync_interval.violation) == 1 with input as inp(o)
}

test_helmrepository_not_checked_by_default if {
	o := {"apiVersion": "source.toolkit.fluxcd.io/v1", "kind": "HelmRepository", "metadata": {"name": "r"}, "spec": {"interval": "15m"}}
	count(sync_interval.violation) == 0 with input as inp(o)
	count(sync_interval.violation) == 1 with input as inp(o)
		with data.ova.params.sync_interval.kinds.HelmRepository as "1h"
}

test_staging_environment if {
	count(sync_interval.violation) == 0 with input as inp_env(hr("1m"), "staging")
	vs := sync_interval.violation with input as inp_env(hr("10m"), "staging")
	some v in vs
	contains(v.msg, "environment staging")
}

test_production_environment if {
	count(sync_interval.violation) == 0 with input as inp_env(hr("10m"), "production")
}

test_prune_and_wait_edits if {
	o := ks(object.remove(good, ["prune", "wait"]))
	some p in kustomization_prune.violation with input as inp(o)
	p.edit == {"path": ["spec", "prune"], "value": true}
	some w in kustomization_wait.violation with input as inp(o)
	w.edit == {"path": ["spec", "wait"], "value": true}
}

test_interval_edit if {
	some v in sync_interval.violation with input as inp(ks(object.union(good, {"interval": "5m"})))
	v.edit == {"path": ["spec", "interval"], "value": "10m"}
}
