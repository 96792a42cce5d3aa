package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestInvalidConfig: every command that loads .ova-lint.yaml (lint, the pre-commit hook's
// lint --changed, graph, rules, explain, config) exits 2 on an invalid configuration and lists
// every problem with the key's path, its line and a suggestion, whether the file is found from
// the linted root or named by --config.
func TestInvalidConfig(t *testing.T) {
	const cfg = "testdata/badconfig/.ova-lint.yaml"
	for _, args := range [][]string{
		{"lint", "--config", cfg, "testdata/badconfig/clusters"},
		{"lint", "--config", cfg, "--changed", "testdata/badconfig/clusters/source.yaml"},
		{"graph", "--config", cfg, "testdata/badconfig"},
		{"rules", "--config", cfg},
		{"explain", "--config", cfg, "gitea-url"},
		{"config", "--config", cfg},
	} {
		t.Run(strings.Join(args[:len(args)-1], " "), func(t *testing.T) {
			code, out, stderr := run(t, args...)
			assert.Equal(t, ExitUsage, code, stderr)
			assert.Empty(t, out)
			golden(t, "badconfig.txt", stderr)
		})
	}
	t.Run("found from the root", func(t *testing.T) {
		code, _, stderr := run(t, "lint", "testdata/badconfig/clusters")
		assert.Equal(t, ExitUsage, code)
		assert.Contains(t, stderr, "testdata/badconfig/.ova-lint.yaml:4:5: params.gitea.url_pattern: ")
		assert.Contains(t, stderr, "testdata/badconfig/.ova-lint.yaml:6:3: rules.kustomization-prun: no rule has this id; did you mean `kustomization-prune`?")
	})
	t.Run("the same file fixed", func(t *testing.T) {
		dir := t.TempDir()
		fixed := "params:\n  gitea:\n    url_pattern: '^https://gitea\\.'\nrules:\n  kustomization-prune:\n    disabled: true\n"
		require.NoError(t, os.WriteFile(filepath.Join(dir, ".ova-lint.yaml"), []byte(fixed), 0o644))
		code, _, stderr := run(t, "lint", "--config", filepath.Join(dir, ".ova-lint.yaml"), "testdata/badconfig/clusters")
		assert.Equal(t, ExitOK, code, stderr)
	})
}

// TestServeInvalidConfig: `serve` with an invalid configuration does not exit and does not
// become ready: /healthz passes, /readyz fails, no webhook port is opened, the log names every
// key; when its context ends it exits 2.
func TestServeInvalidConfig(t *testing.T) {
	probe := freePort(t)
	webhookPort := freePort(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var errOut lockedBuffer
	done := make(chan int, 1)
	go func() {
		done <- Run(ctx, []string{"serve", "--config", "testdata/badconfig/.ova-lint.yaml", "--probe-addr", probe,
			"--port", webhookPort[strings.LastIndexByte(webhookPort, ':')+1:], "--cert-dir", t.TempDir(), "--log-format", "text"},
			IO{In: strings.NewReader(""), Out: &bytes.Buffer{}, Err: &errOut})
	}()
	status := func(path string) int {
		resp, err := http.Get("http://" + probe + path)
		if err != nil {
			return 0
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	deadline := time.Now().Add(60 * time.Second)
	for status("/healthz") != http.StatusOK {
		select {
		case code := <-done:
			t.Fatalf("serve exited (%d) instead of staying up not ready:\n%s", code, errOut.String())
		default:
		}
		require.True(t, time.Now().Before(deadline), "no /healthz:\n%s", errOut.String())
		time.Sleep(50 * time.Millisecond)
	}
	assert.Equal(t, http.StatusInternalServerError, status("/readyz"))
	_, err := net.Dial("tcp", webhookPort)
	assert.Error(t, err, "the webhook port must not be open")
	resp, err := http.Get("http://" + probe + "/metrics")
	require.NoError(t, err)
	var metrics bytes.Buffer
	_, _ = metrics.ReadFrom(resp.Body)
	resp.Body.Close()
	assert.Contains(t, metrics.String(), "ova_lint_config_problems 2")
	logs := errOut.String()
	assert.Contains(t, logs, "key=params.gitea.url_pattern")
	assert.Contains(t, logs, "key=rules.kustomization-prun")
	assert.Contains(t, logs, "suggestion=\"did you mean `kustomization-prune`?\"")
	cancel()
	select {
	case code := <-done:
		assert.Equal(t, ExitUsage, code)
	case <-time.After(60 * time.Second):
		t.Fatal("serve did not stop when its context ended")
	}
}

func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	return addr
}

// lockedBuffer is a bytes.Buffer safe for the server's goroutines and the test's reads.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestConfigSchema: `ova-lint config --schema` prints the JSON schema .ova-lint.yaml is checked
// against: closed at every level, rule ids under rules, each parameter as its rule declares it.
func TestConfigSchema(t *testing.T) {
	code, out, stderr := run(t, "config", "--schema")
	require.Equal(t, ExitOK, code, stderr)
	var doc map[string]any
	require.NoError(t, json.Unmarshal([]byte(out), &doc))
	at := func(path ...string) any {
		var cur any = doc
		for _, p := range path {
			cur = cur.(map[string]any)[p]
		}
		return cur
	}
	assert.Equal(t, false, at("additionalProperties"))
	assert.Equal(t, false, at("properties", "rules", "additionalProperties"))
	assert.NotNil(t, at("properties", "rules", "properties", "kustomization-prune"))
	assert.Equal(t, map[string]any{"type": "string", "format": "regex"}, at("properties", "params", "properties", "gitea", "properties", "url_pattern"))
	assert.Equal(t, false, at("properties", "params", "properties", "gitea", "additionalProperties"))
}

// TestExplainParams: explain lists the parameters a rule declares, with the schema the
// configuration is checked against and the effective value.
func TestExplainParams(t *testing.T) {
	code, out, stderr := run(t, "explain", "--config", "testdata/configured/.ova-lint.yaml", "single-gitea")
	require.Equal(t, ExitOK, code, stderr)
	assert.Contains(t, out, "Parameters (params: in .ova-lint.yaml")
	assert.Contains(t, out, "  gitea.host: \"gitea.hel1.acme.example\"\n    schema: {")
	assert.Contains(t, out, "  gitea.group_pattern: \"\"\n    schema: {\"format\":\"regex\",\"type\":\"string\"}")
}
