package ova.rules.gitea_test

import data.ova.rules.gitea_url
import data.ova.rules.gitrepository_ref
import data.ova.rules.gitrepository_secret
import data.ova.rules.single_gitea

repo(spec) := {
	"apiVersion": "source.toolkit.fluxcd.io/v1",
	"kind": "GitRepository",
	"metadata": {"name": "app", "namespace": "flux-system"},
	"spec": spec,
}

good_spec := {
	"interval": "1m",
	"url": "https://gitea.fsn1.acme.example/platform/app.git",
	"ref": {"branch": "main"},
	"secretRef": {"name": "gitea-token"},
}

obj_input(o) := {"object": o, "source": {"file": "clusters/a/app.yaml", "path": "clusters/a/app.yaml", "root": "."}}

test_gitea_url_good if {
	count(gitea_url.violation) == 0 with input as obj_input(repo(good_spec))
}

test_gitea_url_github_fails if {
	vs := gitea_url.violation with input as obj_input(repo(object.union(good_spec, {"url": "https://github.com/openova-io/openova"})))
	some v in vs
	v.path == ["spec", "url"]
}

test_gitea_url_ssh_fails if {
	count(gitea_url.violation) == 1 with input as obj_input(repo(object.union(good_spec, {"url": "ssh://git@gitea.fsn1.acme.example/platform/app.git"})))
}

test_gitea_url_exempt if {
	count(gitea_url.violation) == 0 with input as obj_input(repo(object.union(good_spec, {"url": "https://github.com/openova-io/openova"})))
		with data.ova.params.gitea.exempt_urls as ["^https://github\\.com/openova-io/"]
}

test_gitea_url_ignores_other_groups if {
	o := object.union(repo(object.union(good_spec, {"url": "https://github.com/x/y"})), {"apiVersion": "example.com/v1"})
	count(gitea_url.violation) == 0 with input as obj_input(o)
}

test_gitea_url_old_api_versions_checked if {
	o := object.union(repo(object.union(good_spec, {"url": "https://github.com/x/y"})), {"apiVersion": "source.toolkit.fluxcd.io/v1beta2"})
	count(gitea_url.violation) == 1 with input as obj_input(o)
}

test_ref_main_passes if {
	count(gitrepository_ref.violation) == 0 with input as obj_input(repo(good_spec))
}

test_ref_other_branch_fails if {
	vs := gitrepository_ref.violation with input as obj_input(repo(object.union(good_spec, {"ref": {"branch": "develop"}})))
	some v in vs
	v.path == ["spec", "ref", "branch"]
	contains(v.msg, "develop")
}

test_ref_tag_fails if {
	vs := gitrepository_ref.violation with input as obj_input(repo(object.union(object.remove(good_spec, ["ref"]), {"ref": {"tag": "v1.0.0"}})))
	some v in vs
	v.path == ["spec", "ref"]
}

test_ref_branch_parameter if {
	count(gitrepository_ref.violation) == 0 with input as obj_input(repo(object.union(good_spec, {"ref": {"branch": "release"}})))
		with data.ova.params.gitrepository.branches as ["main", "release"]
}

test_secret_good if {
	count(gitrepository_secret.violation) == 0 with input as obj_input(repo(good_spec))
}

test_secret_wrong_name if {
	vs := gitrepository_secret.violation with input as obj_input(repo(object.union(good_spec, {"secretRef": {"name": "github-pat"}})))
	some v in vs
	v.path == ["spec", "secretRef", "name"]
}

test_secret_missing if {
	count(gitrepository_secret.violation) == 1 with input as obj_input(repo(object.remove(good_spec, ["secretRef"])))
}

test_single_gitea_configured_host if {
	vs := single_gitea.violation with input as obj_input(repo(good_spec))
		with data.ova.params.gitea.host as "gitea.hel1.acme.example"
	count(vs) == 1
	count(single_gitea.violation) == 0 with input as obj_input(repo(good_spec))
		with data.ova.params.gitea.host as "gitea.fsn1.acme.example"
}

test_single_gitea_fact if {
	fs := single_gitea.fact with input as obj_input(repo(good_spec))
	some f in fs
	f.host == "gitea.fsn1.acme.example"
	f.group == "."
}

test_single_gitea_group_pattern if {
	fs := single_gitea.fact with input as obj_input(repo(good_spec))
		with data.ova.params.gitea.group_pattern as "^clusters/([^/]+)/"
	some f in fs
	f.group == "a"
}

fact(host, group, name) := {"pkg": "single_gitea", "host": host, "group": group, "at": {"name": name}}

test_single_gitea_repo_pass if {
	facts := [
		fact("gitea.a.example", "s1", "one"),
		fact("gitea.a.example", "s1", "two"),
		fact("gitea.b.example", "s1", "three"),
		fact("gitea.c.example", "s2", "four"),
	]
	vs := single_gitea.violation with input as {"repo": {"facts": facts}}
	count(vs) == 1
	some v in vs
	v.at.name == "three"
}

test_gitea_url_redacts_credentials if {
	vs := gitea_url.violation with input as obj_input(repo(object.union(good_spec, {"url": "https://bot:hunter2@git.example.com/a/b.git"})))
	some v in vs
	not contains(v.msg, "hunter2")
	contains(v.msg, "https://***@git.example.com/a/b.git")
}

test_ref_edit_sets_the_branch if {
	vs := gitrepository_ref.violation with input as obj_input(repo(object.union(good_spec, {"ref": {"branch": "develop"}})))
	some v in vs
	v.edit == {"path": ["spec", "ref", "branch"], "value": "main"}
}

test_ref_edit_only_when_nothing_pins if {
	pinned := gitrepository_ref.violation with input as obj_input(repo(object.union(object.remove(good_spec, ["ref"]), {"ref": {"tag": "v1.0.0"}})))
	some p in pinned
	not p.edit
	unset := gitrepository_ref.violation with input as obj_input(repo(object.remove(good_spec, ["ref"])))
	some u in unset
	u.edit == {"path": ["spec", "ref", "branch"], "value": "main"}
}

test_secret_edit if {
	vs := gitrepository_secret.violation with input as obj_input(repo(object.remove(good_spec, ["secretRef"])))
	some v in vs
	v.edit == {"path": ["spec", "secretRef", "name"], "value": "gitea-token"}
}
