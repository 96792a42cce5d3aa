package cli

import (
	"net"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// unreachableKubeconfig points at a port nothing listens on.
func unreachableKubeconfig(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())
	kc := `apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "https://` + addr + `", insecure-skip-tls-verify: true}}]
users: [{name: u, user: {token: t}}]
contexts: [{name: gone, context: {cluster: c, user: u}}]
current-context: gone
`
	path := filepath.Join(t.TempDir(), "kubeconfig")
	require.NoError(t, os.WriteFile(path, []byte(kc), 0o600))
	return path
}

// The audit against a live cluster is tested end to end (test/e2e/audit_e2e_test.go); here, the
// exit code 2 of what stops it before it starts.
func TestAuditUsageAndUnreachable(t *testing.T) {
	kc := unreachableKubeconfig(t)
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"unreachable cluster", []string{"audit", "--kubeconfig", kc}, "discover the served resources"},
		{"-A with -n", []string{"audit", "--kubeconfig", kc, "-A", "-n", "apps"}, "-A and -n exclude each other"},
		{"unknown format", []string{"audit", "--kubeconfig", kc, "-f", "yaml"}, `unknown format "yaml"`},
		{"bad --fail-on", []string{"audit", "--kubeconfig", kc, "--fail-on", "info"}, "--fail-on"},
		{"zero qps", []string{"audit", "--kubeconfig", kc, "--qps", "0"}, "must be positive"},
		{"missing kubeconfig", []string{"audit", "--kubeconfig", filepath.Join(t.TempDir(), "none")}, "kubeconfig"},
		{"unknown context", []string{"audit", "--kubeconfig", kc, "--context", "nowhere"}, "nowhere"},
		{"arguments", []string{"audit", "--kubeconfig", kc, "extra"}, "unknown command"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := run(t, tt.args...)
			assert.Equal(t, ExitUsage, code, "stdout: %s\nstderr: %s", out, errOut)
			assert.Contains(t, errOut, tt.want)
			assert.Empty(t, out)
		})
	}
}
