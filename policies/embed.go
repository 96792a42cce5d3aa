// Package policies embeds the Rego rules that ova-lint enforces.
//
// Every rule lives in its own package under data.ova.rules.<name> and carries
// a package-scoped # METADATA block with a title, a description, the source of
// truth it enforces (related_resources) and custom fields: id (stable
// kebab-case), severity (error|warning|info), scope (object|repo) and runs
// (cli, admission). A rule reports through two partial sets:
//
//	violation contains {"msg": ..., "fix": ..., "path": [...]}   // what is wrong
//	fact contains {"type": ..., "path": [...], ...}              // what repo-scope rules need
//
// The Go engine maps "path" to file:line:column; a violation of a repo-scope
// rule carries the "at" location of the fact it is about instead.
package policies

import "embed"

// FS holds every Rego file of the default policy set, tests included.
//
//go:embed lib/*.rego flux/*.rego graph/*.rego gitea/*.rego secrets/*.rego blueprint/*.rego charts/*.rego kubernetes/*.rego syntax/*.rego waiver/*.rego schema/*.rego
var FS embed.FS
