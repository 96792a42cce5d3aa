package ova.rules.waiver_test

import data.ova.rules.waiver_expired
import data.ova.rules.waiver_invalid
import data.ova.rules.waiver_unused

# The waiver rules are catalogue entries for findings made in Go: no object makes them fire,
# not even one that carries a waiver annotation.
annotated := {
	"apiVersion": "v1",
	"kind": "ConfigMap",
	"metadata": {"name": "x", "annotations": {"ova-lint.openova.io/waive": "sync-interval; until=2000-01-01"}},
}

test_never_fire_from_objects if {
	count(waiver_invalid.violation) == 0 with input as {"object": annotated}
	count(waiver_expired.violation) == 0 with input as {"object": annotated}
	count(waiver_unused.violation) == 0 with input as {"repo": {"facts": [], "complete": true}}
}
