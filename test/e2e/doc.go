// Package e2e holds the tests that cross the project's doors: the Helm chart rendered with Helm's
// Go library and linted by `ova-lint lint`, and the admission webhook end to end on a real
// kube-apiserver + etcd (controller-runtime envtest) with the chart's own
// ValidatingWebhookConfiguration pointed at an in-process `ova-lint serve`.
//
// The end-to-end tests need the control plane binaries built by hack/controlplane/build.sh:
//
//	KUBEBUILDER_ASSETS=$(bash hack/controlplane/build.sh | tail -1) go test ./test/e2e/
//
// Without KUBEBUILDER_ASSETS they skip (OVA_REQUIRE_E2E=1 turns the skip into a failure). The
// Flux CRDs are read from the Flux controller modules in the Go module cache (`go mod download`).
package e2e
