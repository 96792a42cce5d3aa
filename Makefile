# ova-lint — build, test and benchmark. `make demo` and `make test` are the README's two commands.
SHELL := bash
GO    ?= go
BIN   := bin/ova-lint
PKGS  := ./...

include hack/controlplane.mk

.PHONY: all build webhook demo test test-unit test-deps lint fmt vet bench auditbench loadtest fuzz image clean

all: build

## build: compile the CLI into bin/ova-lint
build:
	$(GO) build -o $(BIN) ./cmd/ova-lint

## webhook: compile the webhook alone (the image's binary, `ova-lint-webhook serve`) into
## bin/ova-lint-webhook
webhook:
	$(GO) build -o bin/ova-lint-webhook ./cmd/ova-lint-webhook

## demo: lint the demo tree on the embedded defaults. ova-lint exits 1 there (the demo holds
## violations on purpose); the target fails only on another status (2: usage or unreadable input).
demo: build
	@./$(BIN) lint fixtures/demo; rc=$$?; \
	if [ $$rc -eq 1 ]; then echo "(ova-lint exited 1: the demo tree holds violations on purpose)"; else exit $$rc; fi

## test-deps: install what the tests need (real control plane, pre-commit); idempotent
test-deps: controlplane
	@if [ -x hack/install-test-deps.sh ]; then hack/install-test-deps.sh; fi

## test: everything — formatting, vet, Rego unit tests, golden fixtures, webhook e2e on a real
## apiserver, a -race pass over the result cache, the tree index and the engine, then a short
## bounded fuzz pass (5 s per target)
test: test-deps lint
	KUBEBUILDER_ASSETS='$(CONTROLPLANE_DIR)' OVA_REQUIRE_E2E=1 $(GO) test -count=1 $(PKGS)
	$(GO) test -race -count=1 $(RACE_PKGS)
	$(GO) test -race -count=1 -run '$(RACE_TESTS)' ./linter/
	FUZZTIME=5s hack/fuzz.sh $(SHORT_FUZZ)

# The -race pass of make test: the result cache, the tree index and the engine are shared by
# goroutines (the pack read beside the pre-scan, the rules compiled beside the cache hits), and
# a race there costs a cache miss or worse without failing any other test.
RACE_PKGS  := ./linter/cache/ ./linter/treeindex/ ./linter/engine/
RACE_TESTS := TestCacheEditedTree|TestCacheRenderModes|TestCacheConcurrentRuns

# The short pass of make test fuzzes the loader and config targets. The webhook's targets run their
# seed corpora in every go test and are fuzzed by make fuzz: at 5 s their fuzzing stalled once in
# CI (a worker idle for seconds, no slow review recorded) and failed on the deadline.
SHORT_FUZZ := FuzzParse FuzzPosition FuzzMatchGlob
FUZZTIME ?= 2m
## fuzz: a longer fuzz pass, FUZZTIME per target (about 8 min at 2m)
fuzz:
	FUZZTIME=$(FUZZTIME) hack/fuzz.sh

## test-unit: the Go and Rego tests without the control plane (e2e tests skip)
test-unit:
	$(GO) test $(PKGS)

## lint: gofmt and go vet must be clean
lint: fmt vet

fmt:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet $(PKGS)

## bench: the whole lint (--render=off and default) against kubeconform v0.8.0 on generated
## 50k-document trees of both shapes (gencorpus apps, files)
## (wall, CPU, peak RSS, ratios; medians), then the stage and webhook handler benchmarks
## (compare with benchstat)
bench: build bin/kubeconform
	$(GO) run ./hack/bench -ova $(BIN) -kubeconform bin/kubeconform -shapes apps,files -sizes 50000 -runs 5 | tee bench-cli.md
	$(GO) test -run '^$$' -bench . -benchmem -count 5 ./linter/ ./linter/schema/ ./webhook/... | tee bench.out
	$(MAKE) bench-graph

## auditbench: `ova-lint audit` against kubectl get -o yaml + `ova-lint lint` on 10,000 objects in
## a real apiserver (wall, peak RSS, API requests; medians of 5 interleaved runs)
auditbench: build controlplane
	KUBEBUILDER_ASSETS='$(CONTROLPLANE_DIR)' $(GO) run ./hack/auditbench -ova $(BIN) -objects 10000 -runs 5 | tee bench-audit.md

LOADTEST_DURATION ?= 30s
## loadtest: the webhook binary under bounded load on loopback (TLS, 50 clients verifying the CA):
## LOADTEST_DURATION at 2,000 req/s open loop for the small mix and for ~400 documents of
## ../shared/corpus/openova, then as fast as answered (req/s; p50/p99/p99.9 from each request's
## scheduled send, from the send, and the server's histogram; errors; peak RSS),
## the certificate rotated twice during LOADTEST_DURATION of load, SIGTERM after it, oversized
## bodies; short versions of the last three run in every `go test` (about 4 min in all)
loadtest:
	OVA_LINT_LOADTEST=1 OVA_LINT_LOADTEST_DURATION=$(LOADTEST_DURATION) $(GO) test -count=1 -timeout 20m -v \
		-run '^(TestLoad|TestCertificateRotationUnderLoad|TestSIGTERMDrainsUnderLoad|TestOversizedRequest)$$' ./webhook/server/

bin/kubeconform:
	$(GO) build -o $@ github.com/yannh/kubeconform/cmd/kubeconform

# kustomize and helm for bench-graph's comparison script, from the module proxy (not in go.mod)
KUSTOMIZE_VERSION ?= v5.8.1
HELM_VERSION      ?= v3.21.4
bin/kustomize:
	GOBIN=$(CURDIR)/bin $(GO) install sigs.k8s.io/kustomize/kustomize/v5@$(KUSTOMIZE_VERSION)
bin/helm:
	GOBIN=$(CURDIR)/bin $(GO) install helm.sh/helm/v3/cmd/helm@$(HELM_VERSION)

GRAPH_TREE ?= ../shared/corpus/openova
## bench-graph: ova-lint with the Flux graph built and rendered against the community's script
## (kustomize build of every root + helm template of every local chart | kubeconform) on GRAPH_TREE
bench-graph: build bin/kubeconform bin/kustomize bin/helm
	$(GO) run ./hack/bench -ova $(BIN) -kubeconform bin/kubeconform -kustomize bin/kustomize -helm bin/helm -graph $(GRAPH_TREE) -runs 5 | tee bench-graph.md

VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
IMAGE   ?= ghcr.io/openova-io/ova-lint:$(VERSION)

## image: the webhook's container image (the static ova-lint-webhook binary, user 65532) as an OCI tarball in dist/,
## built without a container engine; `docker load -i dist/ova-lint.tar` or `crane push` it
image:
	CGO_ENABLED=0 GOOS=linux GOARCH=amd64 $(GO) build -trimpath -ldflags "-s -w -X github.com/openova-io/ova-lint/internal/command.Version=$(VERSION)" -o dist/linux-amd64/ova-lint-webhook ./cmd/ova-lint-webhook
	$(GO) run ./hack/image -binary dist/linux-amd64/ova-lint-webhook -tag $(IMAGE) -version $(VERSION) -out dist/ova-lint.tar

clean:
	rm -rf bin dist bench.out bench-cli.md
