# Entry point of the engine: one query aggregates every rule's violations and facts.
package ova.main

# violations of the object pass (input.object set) or of the repo pass (input.repo set),
# each tagged with the package name of the rule that produced it.
violations contains object.union(v, {"pkg": name}) if {
	some name
	some v in data.ova.rules[name].violation
}

# facts that repo-scope rules collect from single objects.
facts contains object.union(f, {"pkg": name}) if {
	some name
	some f in data.ova.rules[name].fact
}
