# Semantic version ranges as Helm (Masterminds semver) reads a chart version constraint:
# "1.2.3" (exact), "*", "1.2.x", "1.x", ">=1.0.0 <2.0.0", "1.2 - 1.4", "^1.2.3", "~1.2.3", "!=1.2.3",
# and alternatives joined by "||". A leading "v" is ignored; pre-releases compare as semver does.
package ova.lib.semver

satisfies(constraint, version) if {
	trim_space(constraint) in {"", "*", "x", "X"}
}

satisfies(constraint, version) if {
	v := normalize(version)
	some alt in split(constraint, "||")
	all_hold(trim_space(alt), v)
}

all_hold(alt, v) if {
	contains(alt, " - ")
	[lo, hi] := split(alt, " - ")
	holds(concat("", [">=", trim_space(lo)]), v)
	upper(trim_space(hi), v)
}

all_hold(alt, v) if {
	not contains(alt, " - ")
	parts := [p | some p in regex.split(`[\s,]+`, alt); p != ""]
	count(parts) > 0
	every p in parts {
		holds(p, v)
	}
}

# an upper bound of a hyphen range: inclusive, a partial version admits its whole line
upper(hi, v) if {
	count(split(trim_prefix(hi, "v"), ".")) >= 3
	semver.compare(v, normalize(hi)) <= 0
}

upper(hi, v) if {
	count(split(trim_prefix(hi, "v"), ".")) < 3
	prefix_match(hi, v)
}

upper(hi, v) if {
	count(split(trim_prefix(hi, "v"), ".")) < 3
	semver.compare(v, normalize(hi)) <= 0
}

op_re := `^(>=|<=|!=|=>|=<|>|<|=|\^|~>|~)?\s*v?(.*)$`

holds(p, v) if {
	[[_, op, rest]] := regex.find_all_string_submatch_n(op_re, p, 1)
	check(op, rest, v)
}

wildcard(rest) if rest in {"*", "x", "X"}

wildcard(rest) if {
	some seg in split(rest, ".")
	seg in {"*", "x", "X"}
}

partial(rest) if wildcard(rest)

partial(rest) if count(split(rest, ".")) < 3

# exact, or a partial version / wildcard matching its line
check(op, rest, v) if {
	op in {"", "="}
	not partial(rest)
	semver.compare(v, normalize(rest)) == 0
}

check(op, rest, v) if {
	op in {"", "="}
	partial(rest)
	prefix_match(rest, v)
}

check("!=", rest, v) if semver.compare(v, normalize(rest)) != 0

check(op, rest, v) if {
	op in {">=", "=>"}
	semver.compare(v, normalize(rest)) >= 0
}

check(op, rest, v) if {
	op in {"<=", "=<"}
	semver.compare(v, normalize(rest)) <= 0
}

check(op, rest, v) if {
	op in {"<=", "=<"}
	partial(rest)
	prefix_match(rest, v)
}

check(">", rest, v) if semver.compare(v, normalize(rest)) > 0

check("<", rest, v) if semver.compare(v, normalize(rest)) < 0

check("^", rest, v) if {
	semver.compare(v, normalize(rest)) >= 0
	semver.compare(v, caret_bound(rest)) < 0
}

check(op, rest, v) if {
	op in {"~", "~>"}
	semver.compare(v, normalize(rest)) >= 0
	semver.compare(v, tilde_bound(rest)) < 0
}

nums(rest) := [to_number(s) | some s in array.slice(split(split(split(rest, "-")[0], "+")[0], "."), 0, 3); regex.match(`^[0-9]+$`, s)]

caret_bound(rest) := sprintf("%d.0.0", [n[0] + 1]) if {
	n := nums(rest)
	n[0] > 0
} else := sprintf("0.%d.0", [n[1] + 1]) if {
	n := nums(rest)
	count(n) >= 2
	n[1] > 0
} else := sprintf("0.0.%d", [n[2] + 1]) if {
	n := nums(rest)
	count(n) >= 3
} else := "1.0.0"

tilde_bound(rest) := sprintf("%d.%d.0", [n[0], n[1] + 1]) if {
	n := nums(rest)
	count(n) >= 2
} else := sprintf("%d.0.0", [nums(rest)[0] + 1])

# the given segments of a partial version equal the version's
prefix_match(rest, v) if {
	want := [s | some s in split(trim_prefix(rest, "v"), "."); not s in {"*", "x", "X"}]
	have := split(split(v, "-")[0], ".")
	every i, s in want {
		to_number(s) == to_number(have[i])
	}
}

# normalize pads a version to major.minor.patch and drops a leading v and build metadata
normalize(ver) := out if {
	s := trim_prefix(trim_space(sprintf("%v", [ver])), "v")
	core := split(split(s, "+")[0], "-")[0]
	pre := trim_prefix(split(s, "+")[0], core)
	segs := [x | some x in split(core, "."); regex.match(`^[0-9]+$`, x)]
	padded := array.concat(segs, array.slice(["0", "0", "0"], 0, 3 - count(segs)))
	out := concat("", [concat(".", array.slice(padded, 0, 3)), pre])
}
