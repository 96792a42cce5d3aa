package ova.rules.apiversions_test

import data.ova.rules.flux_api_version
import data.ova.rules.kubernetes_api_version

# a small data.ova.apis: two Flux lines and two removals
apis := {
	"flux": {
		"2.4": {"source.toolkit.fluxcd.io/OCIRepository": {"storage": "v1beta2", "versions": {"v1beta2": {"served": true}}}},
		"2.6": {"source.toolkit.fluxcd.io/OCIRepository": {"storage": "v1", "versions": {"v1": {"served": true}, "v1beta2": {"served": true, "deprecated": true, "warning": "v1beta2 OCIRepository is deprecated, upgrade to v1"}}}},
		"2.8": {"source.toolkit.fluxcd.io/OCIRepository": {"storage": "v1", "versions": {"v1": {"served": true}, "v1beta1": {"served": false}}}},
	},
	"kubernetes": {"minors": ["1.31", "1.36"], "removed": {
		"batch/v1beta1/CronJob": {"deprecated_in": "1.21", "removed_in": "1.25", "replacement": "batch/v1"},
		"storage.k8s.io/v1alpha1/VolumeAttributesClass": {"removed_in": "1.36", "replacement": "storage.k8s.io/v1", "derived": true},
		"policy/v1beta1/PodSecurityPolicy": {"deprecated_in": "1.21", "removed_in": "1.25", "replacement": ""},
	}},
}

obj(api, kind) := {"apiVersion": api, "kind": kind, "metadata": {"name": "x"}}

inp(o, flux, kube) := {"object": o, "versions": {"flux": flux, "kubernetes": kube}, "source": {"file": "f.yaml"}}

flux(api, line) := vs if {
	vs := flux_api_version.violation with input as inp(obj(api, "OCIRepository"), line, "1.31")
		with data.ova.apis as apis
}

kube(api, kind, minor) := vs if {
	vs := kubernetes_api_version.violation with input as inp(obj(api, kind), "2.4", minor)
		with data.ova.apis as apis
}

test_flux_served_current_version_passes if {
	count(flux("source.toolkit.fluxcd.io/v1", "2.6")) == 0
	count(flux("source.toolkit.fluxcd.io/v1beta2", "2.4")) == 0
}

test_flux_deprecated_is_a_warning_with_an_edit if {
	some v in flux("source.toolkit.fluxcd.io/v1beta2", "2.6")
	not v.severity
	v.path == ["apiVersion"]
	v.edit == {"path": ["apiVersion"], "value": "source.toolkit.fluxcd.io/v1"}
	contains(v.msg, "Flux 2.6 deprecates (\"v1beta2 OCIRepository is deprecated, upgrade to v1\")")
}

test_flux_removed_is_an_error if {
	some v in flux("source.toolkit.fluxcd.io/v1beta2", "2.8") # absent from 2.8's CRD
	v.severity == "error"
	contains(v.msg, "no longer serves")
	v.edit.value == "source.toolkit.fluxcd.io/v1"
}

test_flux_unserved_is_an_error if {
	some v in flux("source.toolkit.fluxcd.io/v1beta1", "2.8") # served: false
	v.severity == "error"
}

test_flux_newer_than_configured_names_the_first_line if {
	some v in flux("source.toolkit.fluxcd.io/v1", "2.4")
	v.severity == "error"
	contains(v.msg, "does not serve yet (Flux 2.6 does)")
	not v.edit # never a downgrade by --fix
}

test_flux_other_kinds_are_not_concerned if {
	count(flux_api_version.violation) == 0 with input as inp(obj("apps/v1", "Deployment"), "2.4", "1.31")
		with data.ova.apis as apis
}

test_kube_removed_is_an_error if {
	some v in kube("batch/v1beta1", "CronJob", "1.31")
	v.severity == "error"
	contains(v.msg, "removed in 1.25, deprecated since 1.21): use batch/v1")
}

test_kube_no_replacement if {
	some v in kube("policy/v1beta1", "PodSecurityPolicy", "1.31")
	contains(v.msg, "no replacement")
	v.fix == "remove the object"
}

test_kube_derived_warns_before_and_errs_after if {
	some w in kube("storage.k8s.io/v1alpha1", "VolumeAttributesClass", "1.31")
	not w.severity
	contains(w.msg, "served by Kubernetes 1.31 but absent from 1.36's OpenAPI")
	some e in kube("storage.k8s.io/v1alpha1", "VolumeAttributesClass", "1.36")
	e.severity == "error"
}

test_kube_minors_compare_as_numbers if {
	# 1.9 < 1.21 < 1.25: a string comparison would say otherwise
	count(kube("batch/v1beta1", "CronJob", "1.9")) == 0
	some v in kube("batch/v1beta1", "CronJob", "1.22")
	not v.severity # deprecated (1.21), not yet removed (1.25)
}

test_kube_served_passes if {
	count(kube("batch/v1", "CronJob", "1.36")) == 0
}
