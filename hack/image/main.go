// Command image packs the static webhook binary (cmd/ova-lint-webhook) into an OCI image
// without a container engine: one layer holding /ova-lint-webhook, user 65532 (non-root, as the
// chart requires), entrypoint /ova-lint-webhook. It writes an OCI image tarball that
// `docker load`, `podman load` or `crane push` take. `make image` runs it.
//
//	CGO_ENABLED=0 go build -o dist/linux-amd64/ova-lint-webhook ./cmd/ova-lint-webhook
//	go run ./hack/image -binary dist/linux-amd64/ova-lint-webhook -tag ghcr.io/openova-io/ova-lint:v0.1.0 -out dist/ova-lint.tar
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/openova-io/ova-lint/hack/image/ociimage"
)

func main() {
	binary := flag.String("binary", "", "static linux binary of ova-lint-webhook")
	tag := flag.String("tag", "ghcr.io/openova-io/ova-lint:dev", "image reference recorded in the tarball")
	out := flag.String("out", "dist/ova-lint.tar", "where to write the image tarball")
	arch := flag.String("arch", "amd64", "architecture of the binary")
	version := flag.String("version", "dev", "version label")
	flag.Parse()
	if *binary == "" {
		fmt.Fprintln(os.Stderr, "image: -binary is required")
		os.Exit(2)
	}
	digest, err := ociimage.Write(*binary, *tag, *out, ociimage.Options{Arch: *arch, Version: *version})
	if err != nil {
		fmt.Fprintln(os.Stderr, "image:", err)
		os.Exit(1)
	}
	fmt.Printf("%s %s -> %s\n", *tag, digest, *out)
}
