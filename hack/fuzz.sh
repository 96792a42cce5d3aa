#!/usr/bin/env bash
# Run every Go fuzz target (CLI and webhook), one after another (go test -fuzz takes one target of
# one package at a time), each for FUZZTIME (default 5s). A failing input is written to the
# package's testdata/fuzz/FuzzXxx/ and the script exits non-zero: commit that file with the fix.
#   hack/fuzz.sh                  # short pass, 5s per target (make test)
#   FUZZTIME=2m hack/fuzz.sh      # longer pass (make fuzz)
#   hack/fuzz.sh FuzzMatchGlob    # only the targets named
set -euo pipefail
cd "$(dirname "$0")/.."

GO=${GO:-go}
FUZZTIME=${FUZZTIME:-5s}
# Minimizing each new interesting input may take the default 60s; keep runs bounded.
FUZZMINIMIZETIME=${FUZZMINIMIZETIME:-5s}
# One worker by default: the machine is shared (set FUZZPARALLEL to use more cores).
FUZZPARALLEL=${FUZZPARALLEL:-1}

targets=(
	./linter/loader:FuzzParse
	./linter/loader:FuzzPosition
	./linter/config:FuzzParse
	./linter/config:FuzzMatchGlob
	./webhook:FuzzAdmissionReview
	./webhook:FuzzAdmissionObject
	./webhook/server:FuzzGuard
	./linter/report:FuzzIndentJSON
)

for t in "${targets[@]}"; do
	pkg=${t%%:*} name=${t##*:}
	if [ $# -gt 0 ] && [[ " $* " != *" $name "* ]]; then
		continue
	fi
	echo "== $pkg $name ($FUZZTIME)"
	# Go's fuzzer can fail a run with a bare "context deadline exceeded" when the time runs out
	# while a worker is still busy (minimizing a new input, or starved of CPU on a loaded
	# machine): no failing input is written, nothing was found. Such a run is tried again, up to
	# three runs; any other failure, or a failing input written, fails at once.
	for attempt in 1 2 3; do
		log=$(mktemp)
		if "$GO" test "$pkg" -run '^$' -fuzz "^${name}\$" -fuzztime "$FUZZTIME" \
			-fuzzminimizetime "$FUZZMINIMIZETIME" -parallel "$FUZZPARALLEL" 2>&1 | tee "$log"; then
			rm -f "$log"
			break
		fi
		if [ "$attempt" -lt 3 ] && grep -q 'context deadline exceeded' "$log" && ! grep -q 'Failing input written' "$log"; then
			echo "== $pkg $name: the fuzzer stopped on its deadline without a failing input; again"
			rm -f "$log"
			continue
		fi
		rm -f "$log"
		exit 1
	done
done
