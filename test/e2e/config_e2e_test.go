package e2e

import (
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	apierrors "k8s.io/apimachinery/pkg/api/errors"

	"github.com/openova-io/ova-lint/internal/cli"
	"github.com/openova-io/ova-lint/linter/config"
	"github.com/openova-io/ova-lint/linter/engine"
)

// badConfigValues is a chart rollout whose ConfigMap carries the two faults of issue 10: an
// invalid regex (every GitRepository would become a gitea-url error) and a typo'd rule id (the
// rule meant to be disabled would stay on).
const badConfigValues = `
config: |
  params:
    gitea:
      host: gitea.fsn1.acme.example
      url_pattern: "([a-z"
  rules:
    kustomization-prun:
      disabled: true
`

// TestBadConfigRollout emulates, on the real kube-apiserver (no kubelets), a rollout of a bad
// ConfigMap: the pod of the old ReplicaSet serves the webhook with the good configuration; the
// pod of the new ReplicaSet, `ova-lint serve` with the chart's arguments and the bad
// ConfigMap's .ova-lint.yaml, stays alive but never reports ready and logs each key path. With
// the chart's maxUnavailable 0 the rollout stops there, and the apiserver's verdicts through the
// registered webhook stay those of the good configuration.
func TestBadConfigRollout(t *testing.T) {
	assets := requireControlPlane(t)
	c := startCluster(t, assets, e2eValues)
	c.startServer(t) // the old ReplicaSet's pod: good configuration, ready

	// the new ReplicaSet's pod: the chart rendered with the bad ConfigMap
	r, err := renderChart(t, testRelease, testNamespace, badConfigValues)
	require.NoError(t, err)
	badFile := filepath.Join(t.TempDir(), ".ova-lint.yaml")
	require.NoError(t, os.WriteFile(badFile, []byte(get(r.one(t, "ConfigMap"), "data", ".ova-lint.yaml").(string)), 0o644))
	probe := freeAddr(t)
	var args []string
	for _, a := range c.serve {
		switch {
		case strings.HasPrefix(a, "--config="):
			a = "--config=" + badFile
		case strings.HasPrefix(a, "--probe-addr="):
			a = "--probe-addr=" + probe
		}
		args = append(args, a)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	logs := &syncBuffer{}
	done := make(chan int, 1)
	go func() { done <- cli.Run(ctx, args, cli.IO{In: strings.NewReader(""), Out: logs, Err: logs}) }()
	status := func(path string) int {
		resp, err := http.Get("http://" + probe + path)
		if err != nil {
			return 0
		}
		defer resp.Body.Close()
		_, _ = io.Copy(io.Discard, resp.Body)
		return resp.StatusCode
	}
	notReady := func(t *testing.T) {
		t.Helper()
		select {
		case code := <-done:
			t.Fatalf("the new pod's serve exited (%d): a crash-looping pod is restarted, a not-ready one just waits\n%s", code, logs.String())
		default:
		}
		assert.Equal(t, http.StatusOK, status("/healthz"), "alive")
		assert.NotEqual(t, http.StatusOK, status("/readyz"), "never ready")
	}
	deadline := time.Now().Add(60 * time.Second)
	for status("/healthz") != http.StatusOK {
		select {
		case code := <-done:
			t.Fatalf("the new pod's serve exited (%d):\n%s", code, logs.String())
		default:
		}
		require.True(t, time.Now().Before(deadline), "the new pod's probes never answered:\n%s", logs.String())
		time.Sleep(50 * time.Millisecond)
	}
	notReady(t)
	out := logs.String()
	assert.Contains(t, out, `"key":"params.gitea.url_pattern"`)
	assert.Contains(t, out, `"key":"rules.kustomization-prun"`)
	assert.Contains(t, out, "did you mean `kustomization-prune`?")
	t.Logf("the new pod's log:\n%s", out)

	// the apiserver still asks the old pod, which judges with the good configuration
	create := func(doc string) error { return c.client.Create(context.Background(), obj(t, doc)) }
	require.NoError(t, create(goodGitRepository), "a Gitea GitRepository is admitted (the bad url_pattern would deny every one)")
	err = create(strings.Replace(strings.Replace(goodGitRepository, "name: platform,", "name: mirror,", 1), "https://gitea.fsn1.acme.example/platform/platform.git", "https://github.com/acme/platform.git", 1))
	require.Error(t, err)
	assert.True(t, apierrors.IsForbidden(err), "%v", err)
	assert.Contains(t, err.Error(), "error gitea-url at spec.url")
	err = create(strings.Replace(strings.Replace(goodKustomization, "name: apps,", "name: apps-noprune,", 1), "prune: true", "prune: false", 1))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "error kustomization-prune at spec.prune")

	notReady(t) // still not ready after the traffic
	cancel()
	select {
	case code := <-done:
		assert.Equal(t, cli.ExitUsage, code, "the never-ready pod exits 2 when it is stopped")
	case <-time.After(60 * time.Second):
		t.Fatal("the new pod's serve did not stop")
	}
}

// TestChartConfigValidates: the .ova-lint.yaml of the chart's ConfigMap, with the default values
// and with the e2e values, validates against the rule catalogue, so the chart never rolls out a
// configuration its own pods refuse; the bad rollout's does not.
func TestChartConfigValidates(t *testing.T) {
	cat, err := engine.Catalogue()
	require.NoError(t, err)
	for name, values := range map[string]string{"defaults": "", "e2e": e2eValues, "bad": badConfigValues} {
		r, err := renderChart(t, testRelease, testNamespace, values)
		require.NoError(t, err)
		err = config.Check([]byte(get(r.one(t, "ConfigMap"), "data", ".ova-lint.yaml").(string)), "ConfigMap", cat)
		if name == "bad" {
			assert.Error(t, err)
			continue
		}
		assert.NoError(t, err, name)
	}
}
