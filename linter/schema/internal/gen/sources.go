package main

// The versions the catalog is built from. Edit here, then run
// `go generate ./linter/schema` (see linter/schema/README.md).

// kubeSource is one selectable Kubernetes minor version: the swagger.json of
// the k8s.io/kubernetes module at Version.
type kubeSource struct {
	Minor   string // what --kubernetes-version selects, e.g. "1.31"
	Version string // k8s.io/kubernetes module version
}

var kubeSources = []kubeSource{
	{Minor: "1.31", Version: "v1.31.14"}, // the platform runs k3s 1.31 (default)
	{Minor: "1.36", Version: "v1.36.4"},  // current
}

// fluxLine is one selectable Flux line. The controllers and their versions
// are read from the flux2 module's manifests/bases/*/kustomization.yaml (the
// CRD URLs pinned by that Flux release), so only the flux2 version is given.
type fluxLine struct {
	Line      string // what --flux-version selects, e.g. "2.4"
	Flux2     string // github.com/fluxcd/flux2/v2 module version
	Kustomize string // sigs.k8s.io/kustomize/api version in that release's go.mod (kustomization.yaml schema)
	// Controllers, when set, are the controller versions of the release's
	// manifests/bases, given here because the checksum database does not
	// serve that flux2 version's go.mod (so the go command refuses it). They
	// were read from the module zip with GONOSUMDB=github.com/fluxcd/flux2,
	// once, by hand; the controllers themselves are fetched and verified.
	Controllers map[string]string
}

// Every Flux minor from 2.4 to the newest the module proxy serves (the
// latest patch of each; `go list -m -versions github.com/fluxcd/flux2/v2`
// lists only some, `go list -m github.com/fluxcd/flux2/v2@v2.N.P` finds the
// rest; v2.10 does not exist yet).
var fluxLines = []fluxLine{
	{Line: "2.4", Flux2: "v2.4.0", Kustomize: "v0.17.3"}, // the platform pins Flux v2.4.0 (default)
	{Line: "2.5", Flux2: "v2.5.1", Kustomize: "v0.19.0"},
	{Line: "2.6", Flux2: "v2.6.4", Kustomize: "v0.19.0"},
	{Line: "2.7", Flux2: "v2.7.5", Kustomize: "v0.21.0"},
	{Line: "2.8", Flux2: "v2.8.3", Kustomize: "v0.21.1", Controllers: map[string]string{
		// sum.golang.org answers 404 for github.com/fluxcd/flux2/v2@v2.8.0..v2.8.3 here
		"helm-controller":             "v1.5.3",
		"image-automation-controller": "v1.1.1",
		"image-reflector-controller":  "v1.1.1",
		"kustomize-controller":        "v1.8.2",
		// v1.8.2 (what v2.8.3 pins) is not served by the module proxy; the /api module
		// of v1.8.0 (served, the same minor) has byte-identical Go sources to v1.8.3's,
		// so v1.8.2's CRDs are the same.
		"notification-controller": "v1.8.0",
		"source-controller":       "v1.8.1",
		"source-watcher":          "v2.1.1",
	}},
	{Line: "2.9", Flux2: "v2.9.5", Kustomize: "v0.21.1"}, // current line
}

// controllerGen is used for controllers whose root module (with
// config/crd/bases) the module proxy does not serve: controller-gen is run
// over the controller's /api module at the same version. For
// helm-controller v1.6.4 this reproduces config/crd/bases byte for byte.
const controllerGen = "sigs.k8s.io/controller-tools/cmd/controller-gen@v0.21.0"

// crdModule is a module whose CRD manifests are taken as they are.
type crdModule struct {
	Module, Version string
	Dir             string // directory inside the module holding CRD YAML
	Why             string
}

var extraCRDs = []crdModule{
	{
		Module: "github.com/external-secrets/external-secrets", Version: "v0.10.7", Dir: "config/crds/bases",
		Why: "the platform's bp-external-secrets chart pins external-secrets 0.10.7",
	},
	{
		Module: "github.com/cert-manager/cert-manager", Version: "v1.16.2", Dir: "deploy/crds",
		Why: "the platform's bp-cert-manager chart pins cert-manager v1.16.2",
	},
}
