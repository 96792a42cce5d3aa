# The facts of the repo pass, by the rule package that collected them.
package ova.lib.repo

# facts(pkg) is the list of facts that rule package pkg collected. The linter groups them in
# input.repo.by_pkg, so each rule reads its own facts instead of scanning every fact of the tree
# (ten rules scanning 80,000 facts dominated the repo pass). Inputs without by_pkg (hand-written
# ones, in unit tests) are filtered from input.repo.facts.
facts(pkg) := object.get(input.repo.by_pkg, pkg, []) if {
	input.repo.by_pkg
} else := [f | some f in input.repo.facts; f.pkg == pkg]
