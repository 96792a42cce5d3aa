package ova.rules.blueprint_rules_test

import data.ova.rules.blueprint_api_version
import data.ova.rules.blueprint_depends
import data.ova.rules.blueprint_name
import data.ova.rules.blueprint_present

src(path) := {"path": path, "file": path, "base": base, "dir": dir} if {
	parts := split(path, "/")
	base := parts[count(parts) - 1]
	dir := concat("/", array.slice(parts, 0, count(parts) - 1))
}

bp(api, name, depends) := {
	"apiVersion": api,
	"kind": "Blueprint",
	"metadata": {"name": name},
	"spec": {"version": "1.0.0", "depends": depends},
}

alpha := "catalyst.openova.io/v1alpha1"

test_api_version if {
	count(blueprint_api_version.violation) == 0 with input as {"object": bp(alpha, "bp-x", [])}
	some v in blueprint_api_version.violation with input as {"object": bp("catalyst.openova.io/v1", "bp-x", [])}
	v.path == ["apiVersion"]
	contains(v.msg, "catalyst.openova.io/v1alpha1")
	count(blueprint_api_version.violation) == 0 with input as {"object": bp("example.com/v1", "bp-x", [])}
}

test_api_version_param if {
	count(blueprint_api_version.violation) == 0 with input as {"object": bp("catalyst.openova.io/v1", "bp-x", [])}
		with data.ova.params.blueprint.api_versions as [alpha, "catalyst.openova.io/v1"]
}

test_name if {
	count(blueprint_name.violation) == 0 with input as {"object": bp(alpha, "bp-x", []), "source": src("platform/x/blueprint.yaml")}
	some v in blueprint_name.violation with input as {"object": bp(alpha, "x", []), "source": src("platform/x/blueprint.yaml")}
	v.path == ["metadata", "name"]
	contains(v.msg, "bp-x")
}

test_name_skips if {
	# at the root, in another file, or built by kustomize
	count(blueprint_name.violation) == 0 with input as {"object": bp(alpha, "x", []), "source": src("blueprint.yaml")}
	count(blueprint_name.violation) == 0 with input as {"object": bp(alpha, "x", []), "source": src("platform/x/catalog.yaml")}
	count(blueprint_name.violation) == 0 with input as {"object": bp(alpha, "x", []), "source": src("platform/x/blueprint.yaml"), "origin": {"producer": "kustomize"}}
}

test_name_pattern_param if {
	count(blueprint_name.violation) == 0 with input as {"object": bp(alpha, "x-blueprint", []), "source": src("platform/x/blueprint.yaml")}
		with data.ova.params.blueprint.name_pattern as "{folder}-blueprint"
}

present_facts(bp_folder) := array.concat(
	[{"pkg": "blueprint_present", "type": "chart", "dir": "platform/x/chart", "folder": "platform/x", "at": {"name": "bp-x"}}],
	[{"pkg": "blueprint_present", "type": "blueprint", "folder": f} | some f in bp_folder],
)

test_present if {
	count(blueprint_present.violation) == 0 with input as {"repo": {"facts": present_facts(["platform/x"]), "complete": true}}
	count(blueprint_present.violation) == 1 with input as {"repo": {"facts": present_facts(["platform/y"]), "complete": true}}
	count(blueprint_present.violation) == 0 with input as {"repo": {"facts": present_facts([]), "complete": false}}
}

test_present_facts if {
	fs := blueprint_present.fact with input as {"object": {"apiVersion": "v2", "name": "bp-x"}, "source": src("platform/x/chart/Chart.yaml")}
	some f in fs
	f.folder == "platform/x"
	count(blueprint_present.fact) == 0 with input as {"object": {"apiVersion": "v2", "name": "bp-x"}, "source": src("charts/x/Chart.yaml")}
}

test_depends_shape if {
	vs := blueprint_depends.violation with input as {"object": bp(alpha, "bp-b", ["bp-a", {"blueprint": "bp-a"}, {"blueprint": "bp-a", "version": "^1"}])}
	count(vs) == 2
	some v in vs
	v.path == ["spec", "depends", 1]
	contains(v.msg, "version")
}

test_depends_shape_version_optional if {
	vs := blueprint_depends.violation with input as {"object": bp(alpha, "bp-b", [{"blueprint": "bp-a"}])}
		with data.ova.params.blueprint.depends_require_version as false
	count(vs) == 0
}

dep_facts(edges) := array.concat(
	[{"pkg": "blueprint_depends", "type": "blueprint", "name": n, "names": [n, sprintf("bp-%s", [n])]} | some n in {"a", "b", "c"}],
	[{"pkg": "blueprint_depends", "type": "depends", "from": e[0], "to": e[1], "at": {"name": e[0]}} | some e in edges],
)

test_depends_resolve if {
	count(blueprint_depends.violation) == 0 with input as {"repo": {"facts": dep_facts([["a", "bp-b"], ["b", "c"]]), "complete": true}}
	count(blueprint_depends.violation) == 1 with input as {"repo": {"facts": dep_facts([["a", "bp-z"]]), "complete": true}}
	count(blueprint_depends.violation) == 0 with input as {"repo": {"facts": dep_facts([["a", "bp-z"]]), "complete": false}}
	count(blueprint_depends.violation) == 0 with input as {"repo": {"facts": dep_facts([["a", "bp-z"]]), "complete": true}}
		with data.ova.params.blueprint.external as ["bp-z"]
}

test_depends_cycle if {
	vs := blueprint_depends.violation with input as {"repo": {"facts": dep_facts([["a", "b"], ["b", "bp-c"], ["c", "a"]]), "complete": true}}
	count(vs) == 3
	vs2 := blueprint_depends.violation with input as {"repo": {"facts": dep_facts([["a", "a"]]), "complete": true}}
	count(vs2) == 1
	count(blueprint_depends.violation) == 0 with input as {"repo": {"facts": dep_facts([["a", "b"], ["c", "b"]]), "complete": true}}
}

test_depends_duplicate_names if {
	# two Blueprints answer to bp-a (fixtures of several cases linted together): no conflict
	facts := array.concat(dep_facts([["b", "bp-a"]]), [{"pkg": "blueprint_depends", "type": "blueprint", "name": "bp-a", "names": ["bp-a"]}])
	count(blueprint_depends.violation) == 0 with input as {"repo": {"facts": facts, "complete": true}}
	cyclic := array.concat(dep_facts([["a", "b"], ["b", "bp-a"]]), [{"pkg": "blueprint_depends", "type": "blueprint", "name": "bp-a", "names": ["bp-a"]}])
	count(blueprint_depends.violation) == 2 with input as {"repo": {"facts": cyclic, "complete": true}}
}
