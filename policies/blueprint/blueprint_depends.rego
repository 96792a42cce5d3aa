# METADATA
# title: A Blueprint's depends name existing Blueprints, without a cycle
# description: >-
#   Every spec.depends[] entry of a Blueprint is a map {blueprint, version} (version may be left
#   out when blueprint.depends_require_version is false) whose blueprint names a Blueprint of the
#   tree, by its metadata.name or by the name its folder gives it (blueprint.name_pattern), or one
#   listed in blueprint.external. The depends graph has no cycle: Catalyst installs dependencies
#   first. Each finding is on the entry. The shape is checked per document; names and cycles
#   only when the whole tree is linted.
# related_resources:
#   - ref: https://github.com/openova-io/openova/blob/main/docs/BLUEPRINT-AUTHORING.md#5-dependencies
#     description: Blueprint authoring guide, §5 "Dependencies" (depends entries {blueprint, version, alias})
# custom:
#   id: blueprint-depends
#   severity: error
#   scope: repo
#   runs: [cli]
#   # Blueprint only: every object body needs a Blueprint (the engine skips the rest)
#   kinds: [Blueprint]
#   params:
#     blueprint.group: {type: string, minLength: 1}
#     blueprint.api_versions: {type: array, minItems: 1, items: {type: string, pattern: "^[^/]+/[^/]+$"}}
#     blueprint.name_pattern: {type: string, minLength: 1}
#     blueprint.depends_require_version: {type: boolean}
#     blueprint.external: {type: array, items: {type: string, minLength: 1}}
package ova.rules.blueprint_depends

import data.ova.lib.blueprint
import data.ova.lib.k8s
import data.ova.lib.repo

# Shape, per document. The bodies over the entries start with them (read inline: most Blueprints
# have none, and a helper rule costs more than the read).
violation contains v if {
	some i, e in object.get(input.object, ["spec", "depends"], [])
	blueprint.is_blueprint(input.object)
	not is_object(e)
	v := {
		"path": ["spec", "depends", i],
		"msg": sprintf("%s has spec.depends[%d] %s, which is not a map {blueprint, version}", [k8s.display, i, shown(e)]),
		"fix": sprintf("write the entry as `- blueprint: %s` with `version: <range>` under it", [shown(e)]),
	}
}

violation contains v if {
	some i, e in object.get(input.object, ["spec", "depends"], [])
	is_object(e)
	blueprint.is_blueprint(input.object)
	some key in missing_keys(e)
	v := {
		"path": ["spec", "depends", i],
		"msg": sprintf("%s has spec.depends[%d] without a string %s", [k8s.display, i, key]),
		"fix": sprintf("set %s on the entry (the depended-on Blueprint's name and a version range)", [key]),
	}
}

shown(e) := e if is_string(e)

else := sprintf("%v", [e])

missing_keys(e) := {k |
	some k in required
	not is_string(object.get(e, k, null))
}

required := {"blueprint", "version"} if blueprint.params.depends_require_version else := {"blueprint"}

# Facts: every Blueprint's names, and every well-formed entry.
fact contains f if {
	blueprint.is_blueprint(input.object)
	blueprint.from_file
	name := object.get(input.object, ["metadata", "name"], "")
	f := {"type": "blueprint", "name": name, "names": names(name), "path": ["metadata", "name"]}
}

fact contains f if {
	some i, e in object.get(input.object, ["spec", "depends"], [])
	blueprint.is_blueprint(input.object)
	blueprint.from_file
	is_string(e.blueprint)
	f := {
		"type": "depends",
		"from": object.get(input.object, ["metadata", "name"], ""),
		"to": e.blueprint,
		"index": i,
		"path": ["spec", "depends", i],
	}
}

# a Blueprint answers to its metadata.name and, in a blueprint.yaml, to the name of its folder.
names(name) := {name, blueprint.expected_name(folder)} if {
	input.source.base == "blueprint.yaml"
	folder := blueprint.folder(k8s.file_dir)
	folder != ""
} else := {name}

# Repo pass.
own := [f | some f in repo.facts("blueprint_depends"); f.pkg == "blueprint_depends"]

# canonical: every name a Blueprint answers to -> the metadata.names of the Blueprints that answer
# to it (a set: two Blueprints may share a name, which is not this rule's concern).
# (a complete object built with an indexed comprehension: computed once per repo pass)
name_pairs := [[n, f.name] | some f in own; f.type == "blueprint"; some n in f.names]

canonical := {n: names | some p in name_pairs; n := p[0]; names := {q[1] | q := name_pairs[_]; q[0] == n}}

edges := [f | some f in own; f.type == "depends"]

dependency_graph := {from: tos |
	some from in {f.from | some f in edges}
	tos := {to | some f in edges; f.from == from; some to in canonical[f.to]}
}

violation contains v if {
	input.repo.complete
	some f in edges
	not canonical[f.to]
	not f.to in {x | some x in blueprint.params.external}
	v := {
		"at": f.at,
		"msg": sprintf("Blueprint %s depends on %s, but no Blueprint of the tree is named %s (nor is it in blueprint.external)", [f.from, f.to, f.to]),
		"fix": "name an existing Blueprint (its metadata.name, the bp-<folder> name), or add the missing Blueprint",
	}
}

violation contains v if {
	input.repo.complete
	some f in edges
	some to in canonical[f.to]
	f.from in graph.reachable(dependency_graph, {to})
	v := {
		"at": f.at,
		"msg": sprintf("Blueprint %s depends on %s, whose depends lead back to %s: the depends graph has a cycle, so no Blueprint of it can be installed first", [f.from, f.to, f.from]),
		"fix": "remove one of the depends entries of the cycle",
	}
}
