package ociimage_test

import (
	"archive/tar"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/openova-io/ova-lint/hack/image/ociimage"
)

// TestImage builds the real webhook binary (cmd/ova-lint-webhook) statically, packs it, reads the tarball back as
// `docker load` would, checks the configuration the chart relies on, and runs the binary taken
// out of the image.
func TestImage(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the ova-lint-webhook binary")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "ova-lint-webhook")
	build := exec.Command("go", "build", "-trimpath", "-o", bin, "github.com/openova-io/ova-lint/cmd/ova-lint-webhook")
	build.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux")
	out, err := build.CombinedOutput()
	require.NoError(t, err, string(out))

	tarPath := filepath.Join(dir, "image.tar")
	digest, err := ociimage.Write(bin, "ghcr.io/openova-io/ova-lint:test", tarPath, ociimage.Options{Arch: "amd64", Version: "test"})
	require.NoError(t, err)
	assert.Regexp(t, `^sha256:[0-9a-f]{64}$`, digest)

	img, err := tarball.ImageFromPath(tarPath, nil)
	require.NoError(t, err)
	cfg, err := img.ConfigFile()
	require.NoError(t, err)
	assert.Equal(t, "65532:65532", cfg.Config.User, "non-root, as the chart's securityContext requires")
	assert.Equal(t, []string{"/ova-lint-webhook"}, cfg.Config.Entrypoint)
	assert.Equal(t, "linux", cfg.OS)

	// the filesystem holds the binary (executable) and nothing that needs a shell
	rc := mutate.Extract(img)
	defer rc.Close()
	tr := tar.NewReader(rc)
	extracted := filepath.Join(dir, "from-image")
	found := false
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		require.NoError(t, err)
		if h.Name == "ova-lint-webhook" {
			found = true
			assert.Equal(t, int64(0o555), h.Mode&0o777)
			f, err := os.OpenFile(extracted, os.O_CREATE|os.O_WRONLY, 0o755)
			require.NoError(t, err)
			_, err = io.Copy(f, tr)
			require.NoError(t, err)
			require.NoError(t, f.Close())
		}
	}
	require.True(t, found, "the image holds /ova-lint-webhook")
	out, err = exec.Command(extracted, "version").CombinedOutput()
	require.NoError(t, err, string(out))
	assert.Contains(t, string(out), "ova-lint-webhook")
	// the chart's container args start with the serve command
	out, err = exec.Command(extracted, "serve", "--help").CombinedOutput()
	require.NoError(t, err, string(out))
	assert.Contains(t, string(out), "--cert-dir")

	// reproducible: the same binary gives the same digest
	again, err := ociimage.Write(bin, "ghcr.io/openova-io/ova-lint:test", filepath.Join(dir, "again.tar"), ociimage.Options{Arch: "amd64", Version: "test"})
	require.NoError(t, err)
	assert.Equal(t, digest, again)
}
