# METADATA
# title: GitRepository URL follows the Sovereign Gitea pattern
# description: >-
#   Every Flux GitRepository pulls from the Sovereign's single Gitea at
#   https://gitea.<location-code>.<sovereign-domain>/<org>/<repo>.git.
#   The pattern and the exempt sources are parameters (gitea.url_pattern, gitea.exempt_urls).
# related_resources:
#   - ref: platform/flux/README.md#configuration
#     description: platform Flux README, "GitRepository for Gitea"
# custom:
#   id: gitea-url
#   severity: error
#   scope: object
#   runs: [cli, admission]
#   kinds: [GitRepository]
#   params:
#     gitea.url_pattern: {type: string, format: regex}
#     gitea.exempt_urls: {type: array, items: {type: string, format: regex}}
package ova.rules.gitea_url

import data.ova.lib.k8s

violation contains v if {
	input.object.kind == "GitRepository"
	startswith(input.object.apiVersion, "source.toolkit.fluxcd.io/")
	url := object.get(input.object, ["spec", "url"], "")
	not regex.match(data.ova.params.gitea.url_pattern, url) # before exempt(): most URLs match
	not exempt(url)
	v := {
		"path": ["spec", "url"],
		"msg": sprintf("%s pulls from %q, which does not follow https://gitea.<location-code>.<sovereign-domain>/<org>/<repo>.git (parameter gitea.url_pattern)", [k8s.display, k8s.redact_url(url)]),
		"fix": "point spec.url at https://gitea.<location-code>.<sovereign-domain>/<org>/<repo>.git, or list the source in gitea.exempt_urls",
	}
}

exempt(url) if {
	some pattern in data.ova.params.gitea.exempt_urls
	regex.match(pattern, url)
}
