package ova.rules.kubernetes_test

import data.ova.rules.builtin_namespace

ns(name) := {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}

test_builtin_namespace if {
	some v in builtin_namespace.violation with input as {"object": ns("kube-system")}
	v.path == ["metadata", "name"]
	count(builtin_namespace.violation) == 1 with input as {"object": ns("default")}
	count(builtin_namespace.violation) == 0 with input as {"object": ns("apps")}
	count(builtin_namespace.violation) == 0 with input as {"object": {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "default", "namespace": "kube-system"}}}
}
