#!/usr/bin/env bash
# Installs the system packages that some tests need and that `go test` cannot fetch:
#   - pre-commit (Debian's package): the pre-commit hook test in internal/cli runs the real
#     framework in a temporary git repository; without it that test is skipped.
# Idempotent: installs only what is missing. Needs root (or sudo) and Debian's package index.
set -euo pipefail

need=()
command -v pre-commit >/dev/null 2>&1 || need+=(pre-commit)
command -v git >/dev/null 2>&1 || need+=(git)

if [ ${#need[@]} -eq 0 ]; then
	echo "install-test-deps: nothing to install (pre-commit $(pre-commit --version 2>/dev/null | awk '{print $2}'), $(git --version))"
	exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
	if command -v sudo >/dev/null 2>&1; then
		SUDO="sudo"
	else
		echo "install-test-deps: need root to install ${need[*]}; the tests that need them will be skipped" >&2
		exit 0
	fi
fi
if ! command -v apt-get >/dev/null 2>&1; then
	echo "install-test-deps: no apt-get here; install ${need[*]} by hand (the tests that need them will be skipped)" >&2
	exit 0
fi

echo "install-test-deps: installing ${need[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${need[@]}"
