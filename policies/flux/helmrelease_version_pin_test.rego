package ova.rules.helmrelease_version_pin_test

import data.ova.rules.helmrelease_version_pin

hr(chart_spec) := {
	"apiVersion": "helm.toolkit.fluxcd.io/v2",
	"kind": "HelmRelease",
	"metadata": {"name": "app", "namespace": "apps"},
	"spec": {"chart": {"spec": chart_spec}},
}

pinned(version) := hr({"chart": "app", "version": version, "sourceRef": {"kind": "HelmRepository", "name": "app"}})

test_exact_versions_pass if {
	every ver in ["1.2.3", "v1.2.3", "=1.2.3", "0.9.0-rc.1", "1.0.0+build.5"] {
		count(helmrelease_version_pin.violation) == 0 with input as {"object": pinned(ver)}
	}
}

test_ranges_fail if {
	every ver in ["^1.2", "~1.2.0", ">=1.0.0 <2.0.0", "1.x", "0.33.*", "*", "1.2", "1.2.3 || 1.3.0"] {
		count(helmrelease_version_pin.violation) == 1 with input as {"object": pinned(ver)}
	}
}

test_unset_fails_on_spec if {
	some v in helmrelease_version_pin.violation with input as {"object": hr({"chart": "app"})}
	v.path == ["spec", "chart", "spec"]
	count(helmrelease_version_pin.violation) == 1 with input as {"object": pinned("")}
}

test_chart_ref_and_other_kinds_ignored if {
	o := {"apiVersion": "helm.toolkit.fluxcd.io/v2", "kind": "HelmRelease", "metadata": {"name": "a"}, "spec": {"chartRef": {"kind": "OCIRepository", "name": "a"}}}
	count(helmrelease_version_pin.violation) == 0 with input as {"object": o}
	count(helmrelease_version_pin.violation) == 0 with input as {"object": {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}}}
}
