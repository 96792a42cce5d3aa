package gencorpus_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/openova-io/ova-lint/internal/gencorpus"
)

func TestGenerateIsDeterministic(t *testing.T) {
	a, b := t.TempDir(), t.TempDir()
	sa, err := gencorpus.Generate(a, 400, 7)
	require.NoError(t, err)
	sb, err := gencorpus.Generate(b, 400, 7)
	require.NoError(t, err)
	require.Equal(t, sa, sb)
	require.InDelta(t, 400, sa.Documents, 9)
	x, err := os.ReadFile(filepath.Join(a, "apps/app-00003/deploy/staging/workload.yaml"))
	require.NoError(t, err)
	y, err := os.ReadFile(filepath.Join(b, "apps/app-00003/deploy/staging/workload.yaml"))
	require.NoError(t, err)
	require.Equal(t, x, y)
}
