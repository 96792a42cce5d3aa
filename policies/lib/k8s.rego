# Helpers shared by the rules: object identity, API groups, file paths and URLs.
package ova.lib.k8s

# group of an apiVersion ("" for the core group).
group(api_version) := g if {
	contains(api_version, "/")
	g := split(api_version, "/")[0]
} else := ""

obj := input.object

api_group := group(obj.apiVersion)

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

# redact_url hides the userinfo of a URL (user:password@) so a message can quote the rest.
redact_url(url) := regex.replace(url, `://[^@/]+@`, "://***@")
