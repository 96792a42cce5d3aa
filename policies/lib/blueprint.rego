# Facts about the Blueprint folder layout shared by the Blueprint and chart rules: what a
# Blueprint is, which charts belong to Blueprints, and the name a folder gives them.
package ova.lib.blueprint

import data.ova.lib.k8s

params := data.ova.params.blueprint

# is_blueprint: a document of kind Blueprint in blueprint.group (any version), or of an
# apiVersion listed in blueprint.api_versions.
is_blueprint(obj) if {
	obj.kind == "Blueprint"
	k8s.group(obj.apiVersion) == params.group
}

is_blueprint(obj) if {
	obj.kind == "Blueprint"
	obj.apiVersion in params.api_versions
}

# a file's own document, not a build or a render of it (those are linted at their source).
from_file if object.get(input, ["origin", "producer"], "file") == "file"

# platform_chart: dir (root-relative) is a chart of the blueprint folder layout (blueprint.chart_globs).
platform_chart(dir) if {
	some g in params.chart_globs
	glob.match(g, ["/"], dir)
}

# products_chart: dir is another Blueprint chart (chart.name_globs), not of the platform layout.
products_chart(dir) if {
	not platform_chart(dir)
	some g in data.ova.params.chart.name_globs
	glob.match(g, ["/"], dir)
}

blueprint_chart(dir) if platform_chart(dir)

blueprint_chart(dir) if products_chart(dir)

# folder: the last segment of a directory ("" for the root).
folder(dir) := parts[count(parts) - 1] if {
	dir != ""
	parts := split(dir, "/")
} else := ""

# parent: the directory holding dir ("" for a top-level directory).
parent(dir) := concat("/", array.slice(parts, 0, count(parts) - 1)) if {
	parts := split(dir, "/")
} else := ""

# expected_name: the name blueprint.name_pattern gives a Blueprint folder.
expected_name(folder_name) := replace(params.name_pattern, "{folder}", folder_name)
