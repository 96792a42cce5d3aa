#!/usr/bin/env bash
# Builds a real kube-apiserver, kubectl (Kubernetes v1.36.4) and etcd (v3.6.16)
# from the Go module proxy and caches them for controller-runtime envtest.
#
#   KUBEBUILDER_ASSETS=$(hack/controlplane/build.sh | tail -1) go test ./...
#
# Idempotent: when the cache already holds working binaries of the pinned
# versions it only prints the directory. The directory is always the last line
# on stdout; everything else goes to stderr.
#
# Environment:
#   OVA_CONTROLPLANE_DIR  cache dir (default
#                         $HOME/.cache/ova-lint/controlplane/v1.36.4-etcd3.6.16)
#   OVA_CONTROLPLANE_FORCE=1  rebuild even if the cache looks fine
#
# See hack/controlplane/README.md for the recipe and measured costs.
set -euo pipefail

KUBE_VERSION=v1.36.4
KUBE_MAJOR=1
KUBE_MINOR=36
# Release time of k8s.io/kubernetes v1.36.4 on the module proxy; a fixed
# buildDate keeps the binaries reproducible.
KUBE_BUILD_DATE=2026-08-20T11:51:43Z
ETCD_VERSION=3.6.16

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
DIR=${OVA_CONTROLPLANE_DIR:-${HOME}/.cache/ova-lint/controlplane/${KUBE_VERSION}-etcd${ETCD_VERSION}}

log() { printf '[controlplane] %s\n' "$*" >&2; }
die() { printf '[controlplane] ERROR: %s\n' "$*" >&2; exit 1; }

# check_bin NAME EXPECTED CMD... : the binary exists, runs, and its version
# output contains EXPECTED.
check_bin() {
	local name=$1 want=$2 out
	shift 2
	[[ -x "${DIR}/${name}" ]] || return 1
	out=$("${DIR}/${name}" "$@" 2>&1) || return 1
	[[ "${out}" == *"${want}"* ]] || {
		log "${DIR}/${name}: version output '${out%%$'\n'*}' does not contain '${want}'"
		return 1
	}
}

check_apiserver() { check_bin kube-apiserver "Kubernetes ${KUBE_VERSION}" --version; }
check_kubectl() { check_bin kubectl "Client Version: ${KUBE_VERSION}" version --client; }
check_etcd() { check_bin etcd "etcd Version: ${ETCD_VERSION}" --version; }

all_ok() { check_etcd && check_apiserver && check_kubectl; }

if [[ "${OVA_CONTROLPLANE_FORCE:-0}" != 1 ]] && all_ok; then
	echo "${DIR}"
	exit 0
fi

command -v go >/dev/null 2>&1 || die "go not found in PATH (need Go >= 1.26; /usr/local/go/bin?)"
gover=$(go env GOVERSION)
case "${gover}" in
go1.2[6-9]* | go1.[3-9][0-9]* | go[2-9]*) ;;
*) die "need Go >= 1.26 to build Kubernetes ${KUBE_VERSION}, have ${gover}" ;;
esac

mkdir -p "${DIR}"

# Serialise concurrent callers (e.g. several test packages starting at once).
if command -v flock >/dev/null 2>&1; then
	exec 9>"${DIR}/.lock"
	if ! flock -n 9; then
		log "another build.sh is building into ${DIR}; waiting for it"
		flock 9
	fi
fi

# Never let the go command rewrite the committed go.mod/go.sum, never switch
# toolchains behind our back. Keep whatever GOFLAGS the caller set.
export GOFLAGS="${GOFLAGS:-} -mod=readonly"
export GOTOOLCHAIN=local
# Kubernetes builds kube-apiserver and kubectl statically (hack/lib/golang.sh).
export CGO_ENABLED=0

TMP=$(mktemp -d "${DIR}/.build.XXXXXX")
trap 'rm -rf "${TMP}"' EXIT

# install NAME: move a freshly built binary into place atomically.
install_bin() {
	chmod 0755 "${TMP}/$1"
	mv -f "${TMP}/$1" "${DIR}/$1"
}

# build NAME MODULE_DIR PACKAGE LDFLAGS [TAGS]
build() {
	local name=$1 moddir=$2 pkg=$3 ldflags=$4 tags=${5:-} start
	start=$(date +%s)
	log "building ${name} (${pkg}) in ${moddir#"${HERE}/"}/ ..."
	(
		cd "${moddir}"
		go build -trimpath ${tags:+-tags="${tags}"} -ldflags="${ldflags}" -o "${TMP}/${name}" "${pkg}"
	) || die "go build of ${name} failed (see the go output above)"
	install_bin "${name}"
	log "built ${name} in $(($(date +%s) - start))s"
}

KUBE_LDFLAGS="-s -w"
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
	KUBE_LDFLAGS+=" -X ${pkg}.gitVersion=${KUBE_VERSION}"
	KUBE_LDFLAGS+=" -X ${pkg}.gitMajor=${KUBE_MAJOR}"
	KUBE_LDFLAGS+=" -X ${pkg}.gitMinor=${KUBE_MINOR}"
	KUBE_LDFLAGS+=" -X ${pkg}.buildDate=${KUBE_BUILD_DATE}"
done
# Same build tags as upstream release builds (hack/lib/golang.sh).
KUBE_TAGS=selinux,notest,grpcnotrace

ETCD_LDFLAGS="-s -w -X go.etcd.io/etcd/api/v3/version.GitSHA=go-module-proxy"

log "cache dir: ${DIR} (building with ${gover})"
total_start=$(date +%s)
# One build at a time: the kube-apiserver build alone needs ~2 GB and both cores.
# needs NAME: rebuild when forced or when the cached binary is missing/wrong.
needs() { [[ "${OVA_CONTROLPLANE_FORCE:-0}" == 1 ]] || ! "check_$1" 2>/dev/null; }
if needs etcd; then
	build etcd "${HERE}/etcd" . "${ETCD_LDFLAGS}"
fi
if needs apiserver; then
	build kube-apiserver "${HERE}/apiserver" k8s.io/kubernetes/cmd/kube-apiserver "${KUBE_LDFLAGS}" "${KUBE_TAGS}"
fi
if needs kubectl; then
	build kubectl "${HERE}/apiserver" k8s.io/kubernetes/cmd/kubectl "${KUBE_LDFLAGS}" "${KUBE_TAGS}"
fi

check_etcd || die "${DIR}/etcd does not report version ${ETCD_VERSION}"
check_apiserver || die "${DIR}/kube-apiserver does not report version ${KUBE_VERSION}"
check_kubectl || die "${DIR}/kubectl does not report version ${KUBE_VERSION}"
log "control plane ready in $(($(date +%s) - total_start))s"
echo "${DIR}"
