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
	require.InDelta(t, 400, sa.Documents, 9+16) // plus one HelmRepository per cluster folder
	x, err := os.ReadFile(filepath.Join(a, "apps/app-00003/deploy/staging/workload.yaml"))
	require.NoError(t, err)
	y, err := os.ReadFile(filepath.Join(b, "apps/app-00003/deploy/staging/workload.yaml"))
	require.NoError(t, err)
	require.Equal(t, x, y)
}

func TestShapes(t *testing.T) {
	tests := []struct {
		shape           gencorpus.Shape
		minFilesPerDocs float64
		maxFilesPerDocs float64
	}{
		{gencorpus.ShapeApps, 0.4, 0.5},
		{gencorpus.ShapeFiles, 0.85, 0.95},
	}
	for _, tt := range tests {
		t.Run(string(tt.shape), func(t *testing.T) {
			st, err := gencorpus.GenerateShape(t.TempDir(), 2000, 42, tt.shape)
			require.NoError(t, err)
			require.InDelta(t, 2000, st.Documents, 30)
			ratio := float64(st.Files) / float64(st.Documents)
			require.GreaterOrEqual(t, ratio, tt.minFilesPerDocs)
			require.LessOrEqual(t, ratio, tt.maxFilesPerDocs)
			require.InDelta(t, 0.05, float64(st.Violations)/float64(st.Documents), 0.02)
		})
	}
	_, err := gencorpus.GenerateShape(t.TempDir(), 10, 1, "nested")
	require.Error(t, err)
}
