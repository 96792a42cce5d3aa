// Package ociimage builds the ova-lint container image from a static binary, with no base image
// and no container engine: the binary is the only file, it runs as user 65532.
package ociimage

import (
	"archive/tar"
	"bytes"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// User is the numeric user and group the image runs as (the chart's runAsUser).
const User = "65532:65532"

// Path is where the binary lives in the image: the webhook's own binary (cmd/ova-lint-webhook),
// which carries the serve command alone.
const Path = "/ova-lint-webhook"

// Options describe the image.
type Options struct {
	Arch    string
	Version string
}

// Build returns the image holding the binary at path.
func Build(path string, opts Options) (v1.Image, error) {
	bin, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read binary: %w", err)
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	// a fixed time keeps the layer digest reproducible
	epoch := time.Unix(0, 0)
	if err := tw.WriteHeader(&tar.Header{Name: "tmp/", Typeflag: tar.TypeDir, Mode: 0o1777, ModTime: epoch}); err != nil {
		return nil, err
	}
	if err := tw.WriteHeader(&tar.Header{Name: Path[1:], Mode: 0o555, Size: int64(len(bin)), Uid: 0, Gid: 0, ModTime: epoch, Typeflag: tar.TypeReg}); err != nil {
		return nil, err
	}
	if _, err := tw.Write(bin); err != nil {
		return nil, err
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	layerBytes := buf.Bytes()
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(layerBytes)), nil
	}, tarball.WithMediaType(types.OCILayer))
	if err != nil {
		return nil, fmt.Errorf("layer: %w", err)
	}
	img, err := mutate.AppendLayers(mutate.MediaType(empty.Image, types.OCIManifestSchema1), layer)
	if err != nil {
		return nil, fmt.Errorf("image: %w", err)
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cfg = cfg.DeepCopy()
	cfg.OS, cfg.Architecture = "linux", opts.Arch
	cfg.Created = v1.Time{Time: epoch}
	cfg.Config.User = User
	cfg.Config.Entrypoint = []string{Path}
	cfg.Config.Cmd = []string{"version"}
	cfg.Config.WorkingDir = "/"
	cfg.Config.Labels = map[string]string{
		"org.opencontainers.image.title":       "ova-lint",
		"org.opencontainers.image.description": "The admission webhook of ova-lint, the policy linter for Flux/Gitea/ESO GitOps platforms",
		"org.opencontainers.image.source":      "https://github.com/openova-io/ova-lint",
		"org.opencontainers.image.version":     opts.Version,
	}
	return mutate.ConfigFile(img, cfg)
}

// Write builds the image and writes it as a tarball tagged tag; it returns the image digest.
func Write(binary, tag, out string, opts Options) (string, error) {
	img, err := Build(binary, opts)
	if err != nil {
		return "", err
	}
	ref, err := name.NewTag(tag)
	if err != nil {
		return "", fmt.Errorf("tag: %w", err)
	}
	if err := tarball.WriteToFile(out, ref, img); err != nil {
		return "", fmt.Errorf("write %s: %w", out, err)
	}
	d, err := img.Digest()
	if err != nil {
		return "", err
	}
	return d.String(), nil
}
