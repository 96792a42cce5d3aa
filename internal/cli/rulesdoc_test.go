package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/openova-io/ova-lint/fixtures"
	"github.com/openova-io/ova-lint/linter/config"
	"github.com/openova-io/ova-lint/linter/engine"
)

// TestRulesDoc keeps docs/rules.md (the page SARIF's helpUri points at) in step with the
// catalogue; -update rewrites it.
func TestRulesDoc(t *testing.T) {
	cfg, err := config.Default()
	require.NoError(t, err)
	eng, err := engine.New(context.Background(), engine.Options{Config: cfg})
	require.NoError(t, err)
	var buf bytes.Buffer
	require.NoError(t, rulesMarkdown(&buf, eng.Rules(), fixtures.Rules))
	path := filepath.Join("..", "..", "docs", "rules.md")
	if *update {
		require.NoError(t, os.WriteFile(path, buf.Bytes(), 0o644))
		return
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err)
	require.Equal(t, string(want), buf.String(), "docs/rules.md is out of date: run go test ./internal/cli -run TestRulesDoc -update")
	for _, r := range eng.Rules() {
		require.Contains(t, buf.String(), "\n## "+r.ID+"\n", "every rule has a section (the helpUri anchor)")
	}
}
