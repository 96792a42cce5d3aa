#!/usr/bin/env bash
# The validation the Flux community runs in CI (fluxcd/flux2-kustomize-helm-example's
# scripts/validate.sh, offline): `kustomize build` of every kustomize root and `helm template` of
# every local chart, each piped into kubeconform. hack/bench -graph times it against
# `ova-lint lint` with rendering on. A failing build or render is counted, not fatal, as in CI
# logs that keep going.
#
#   KUSTOMIZE=bin/kustomize HELM=bin/helm KUBECONFORM=bin/kubeconform SCHEMAS=<location> \
#     hack/bench/graph-script.sh ROOT
set -uo pipefail
root=${1:?usage: graph-script.sh ROOT}
kubeconform=("$KUBECONFORM" -strict -ignore-missing-schemas -schema-location "$SCHEMAS" -summary)
failed=0
while IFS= read -r -d '' f; do
	dir=$(dirname "$f")
	if ! "$KUSTOMIZE" build "$dir" --load-restrictor=LoadRestrictionsNone 2>/dev/null | "${kubeconform[@]}" >/dev/null 2>&1; then
		failed=$((failed + 1))
	fi
done < <(find "$root" -type f \( -name kustomization.yaml -o -name kustomization.yml -o -name Kustomization \) -not -path '*/charts/*' -not -path '*/.git/*' -print0)
while IFS= read -r -d '' f; do
	dir=$(dirname "$f")
	if ! "$HELM" template "$dir" 2>/dev/null | "${kubeconform[@]}" >/dev/null 2>&1; then
		failed=$((failed + 1))
	fi
done < <(find "$root" -type f -name Chart.yaml -not -path '*/charts/*' -not -path '*/.git/*' -print0)
echo "failed: $failed" >&2
