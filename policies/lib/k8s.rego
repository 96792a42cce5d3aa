# Helpers shared by the rules: object identity and Kubernetes/Flux API groups.
package ova.lib.k8s

# group of an apiVersion ("" for the core group).
group(api_version) := g if {
	contains(api_version, "/")
	g := split(api_version, "/")[0]
} else := ""

obj := input.object

api_group := group(obj.apiVersion)

# is_flux(kind) holds when the object is the Flux kind in any served version of its group.
# API group of each Flux kind, with the "/" that separates it from the version.
flux_groups := {
	"GitRepository": "source.toolkit.fluxcd.io/",
	"OCIRepository": "source.toolkit.fluxcd.io/",
	"HelmRepository": "source.toolkit.fluxcd.io/",
	"HelmChart": "source.toolkit.fluxcd.io/",
	"Bucket": "source.toolkit.fluxcd.io/",
	"Kustomization": "kustomize.toolkit.fluxcd.io/",
	"HelmRelease": "helm.toolkit.fluxcd.io/",
}

is_flux(kind) if {
	obj.kind == kind
	flux_api
}

# flux_api holds when the object's apiVersion is in the Flux API group of its kind. Rules guard
# with `input.object.kind == "<Kind>"` first, so OPA's rule index skips them for other kinds.
flux_api if startswith(obj.apiVersion, flux_groups[obj.kind])

# human-readable object reference for messages.
display := sprintf("%s %s", [obj.kind, name]) if {
	name := obj.metadata.name
} else := obj.kind

# basename and directory (relative to the linted root, "" for the root) of the object's file.
file_base := object.get(input.source, "base", "")

file_dir := object.get(input.source, "dir", "")

# join resolves rel (which may start with ./ or contain ../) against dir. The common forms
# ("./chart", "chart") take a short path; only a ".." needs the segment cleaner.
join(dir, rel) := concat("/", clean(array.concat(dir_parts(dir), split(rel, "/")))) if {
	contains(rel, "..")
} else := trim_prefix(rel, "./") if {
	dir == ""
} else := concat("/", [dir, trim_prefix(rel, "./")])

dir_parts(dir) := [] if dir == ""

dir_parts(dir) := split(dir, "/") if dir != ""

# clean drops "." and "" segments and folds "..": a path cleaner for relative paths.
clean(parts) := [p |
	some i, p in parts
	not p in {".", ""}
	p != ".."
	not dropped(parts, i)
]

# segment i is dropped when a later ".." cancels it: count the segments after i up to the
# first point where ".." outnumber names.
dropped(parts, i) if {
	some j
	j > i
	parts[j] == ".."
	kept := [p | some k, p in parts; k > i; k < j; not p in {".", "", ".."}]
	ups := [p | some k, p in parts; k > i; k < j; p == ".."]
	count(kept) <= count(ups)
}

# duration in nanoseconds; undefined for an invalid duration.
duration_ns(d) := time.parse_duration_ns(d) if {
	is_string(d)
	regex.match(`^([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$`, d)
}

# redact_url hides the userinfo of a URL (user:password@) so a message can quote the rest.
redact_url(url) := regex.replace(url, `://[^@/]+@`, "://***@")
