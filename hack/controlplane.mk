# Real kube-apiserver + kubectl (Kubernetes v1.36.4) and etcd (v3.6.16), built
# from the Go module proxy by hack/controlplane/build.sh and cached for
# controller-runtime envtest. Included by the top-level Makefile:
#
#   include hack/controlplane.mk
#   test-envtest: controlplane
#   	KUBEBUILDER_ASSETS=$(CONTROLPLANE_DIR) go test ./...
#
# Cold build ~4.5 min / ~1.8 GB RSS on 2 cores; a no-op (<0.2 s) once cached.
# See hack/controlplane/README.md.

CONTROLPLANE_MK_DIR := $(patsubst %/,%,$(dir $(lastword $(MAKEFILE_LIST))))

# Must agree with the default in hack/controlplane/build.sh (which is what the
# OVA_CONTROLPLANE_DIR environment variable overrides).
OVA_CONTROLPLANE_DIR ?= $(HOME)/.cache/ova-lint/controlplane/v1.36.4-etcd3.6.16
CONTROLPLANE_DIR ?= $(OVA_CONTROLPLANE_DIR)

.PHONY: controlplane controlplane-smoke

## controlplane: build (once) and cache kube-apiserver, etcd and kubectl in $(CONTROLPLANE_DIR)
controlplane:
	@OVA_CONTROLPLANE_DIR='$(CONTROLPLANE_DIR)' $(CONTROLPLANE_MK_DIR)/controlplane/build.sh

## controlplane-smoke: start envtest on the cached binaries, create a ConfigMap, kubectl apply, stop
controlplane-smoke: controlplane
	cd $(CONTROLPLANE_MK_DIR)/controlplane/smoke && \
		KUBEBUILDER_ASSETS='$(CONTROLPLANE_DIR)' go test -count=1 -v .
