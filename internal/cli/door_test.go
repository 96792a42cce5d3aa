package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/openova-io/ova-lint/linter/finding"
)

// TestStdin: "-" lints one YAML stream from standard input.
func TestStdin(t *testing.T) {
	src, err := os.ReadFile("../../fixtures/rules/kustomization-prune/fail-prune-false/kustomization.yaml")
	require.NoError(t, err)
	var out, errOut bytes.Buffer
	code := Run(context.Background(), []string{"lint", "-f", "json", "-"}, IO{In: bytes.NewReader(src), Out: &out, Err: &errOut})
	require.Equal(t, ExitFindings, code, errOut.String())
	var rep finding.Report
	require.NoError(t, json.Unmarshal(out.Bytes(), &rep))
	require.Len(t, rep.Findings, 1)
	f := rep.Findings[0]
	assert.Equal(t, "kustomization-prune", f.Rule)
	assert.Equal(t, "<stdin>", f.File)
	assert.Equal(t, 13, f.Line)
	assert.Equal(t, 3, f.Column)
}

// TestPolicyDir: --policy adds rules with the same contract; a rule without METADATA is refused.
func TestPolicyDir(t *testing.T) {
	code, ids := rulesOf(t, "--policy", "testdata/policy/rules", "testdata/policy/deployment.yaml")
	assert.Equal(t, ExitOK, code, "a warning does not fail the run")
	assert.Equal(t, []string{"team-label"}, ids)

	code, out, _ := run(t, "rules", "--policy", "testdata/policy/rules")
	require.Equal(t, ExitOK, code)
	assert.Contains(t, out, "team-label")

	code, _, stderr := run(t, "lint", "--policy", "testdata/policy/bad", "testdata/policy/deployment.yaml")
	assert.Equal(t, ExitUsage, code)
	assert.Contains(t, stderr, "METADATA")
}

// TestConfigDiscovery: .ova-lint.yaml is found from the linted root upward and changes both
// parameters (the Sovereign's Gitea host) and severities.
func TestConfigDiscovery(t *testing.T) {
	code, out, stderr := run(t, "lint", "-f", "json", "testdata/configured/clusters")
	require.Equal(t, ExitFindings, code, stderr)
	var rep finding.Report
	require.NoError(t, json.Unmarshal([]byte(out), &rep))
	got := map[string]string{}
	for _, f := range rep.Findings {
		got[f.Rule] = f.Severity
	}
	assert.Equal(t, map[string]string{"single-gitea": "error", "sync-interval": "error"}, got)

	// --config names another file; a missing one is a usage error
	code, _, stderr = run(t, "lint", "--config", "testdata/nope.yaml", "testdata/configured/clusters")
	assert.Equal(t, ExitUsage, code)
	assert.Contains(t, stderr, "read config")
}

// TestConfigCommand prints the effective configuration, naming its source.
func TestConfigCommand(t *testing.T) {
	code, out, _ := run(t, "config", "--config", "testdata/configured/.ova-lint.yaml")
	require.Equal(t, ExitOK, code)
	assert.True(t, strings.HasPrefix(out, "# effective configuration: embedded defaults + testdata/configured/.ova-lint.yaml"), out)
	assert.Contains(t, out, "host: gitea.hel1.acme.example")
	assert.Contains(t, out, "GitRepository: 1m", "defaults are merged in")
}

// TestGraph: `graph` prints what each Kustomization applies and its edges, in every format.
func TestGraph(t *testing.T) {
	dir := "../../fixtures/rules/flux-depends-on/pass-resolved"
	code, out, errOut := run(t, "graph", dir)
	require.Equal(t, ExitOK, code, errOut)
	assert.Contains(t, out, "Kustomization flux-system/b")
	assert.Contains(t, out, "dependsOn Kustomization flux-system/a")
	assert.Contains(t, out, "- ConfigMap apps/b")
	for _, f := range []string{"json", "mermaid", "dot"} {
		code, out, errOut = run(t, "graph", "-f", f, dir)
		require.Equal(t, ExitOK, code, errOut)
		assert.Contains(t, out, "flux-system/a", f)
	}
	code, _, _ = run(t, "graph", "-f", "png", dir)
	assert.Equal(t, ExitUsage, code)
}
