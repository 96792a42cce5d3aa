package e2e

import (
	"context"
	"crypto/rand"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// chartGeneratedSecret is what a chart that generates its credentials in the cluster renders
// (bp-powerdns's api-credentials Secret: `lookup` of the existing Secret, else randAlphaNum 32),
// as helm-controller applies it: with helm-controller's labels. %s are the generated values.
func chartGeneratedSecret(name, apiKey, webPass string, labels map[string]any) map[string]any {
	l := map[string]any{
		"app.kubernetes.io/name":       "powerdns",
		"app.kubernetes.io/instance":   "powerdns",
		"app.kubernetes.io/managed-by": "Helm",
		"helm.sh/chart":                "bp-powerdns-1.2.0",
	}
	for k, v := range labels {
		l[k] = v
	}
	return map[string]any{
		"apiVersion": "v1",
		"kind":       "Secret",
		"metadata": map[string]any{
			"name":      name,
			"namespace": "powerdns",
			"labels":    l,
			"annotations": map[string]any{
				"catalyst.openova.io/comment": "Generated on first install via helm lookup + randAlphaNum.",
			},
		},
		"type":       "Opaque",
		"stringData": map[string]any{"api-key": apiKey, "webserver-password": webPass},
	}
}

var (
	helmControllerLabels      = map[string]any{"helm.toolkit.fluxcd.io/name": "powerdns", "helm.toolkit.fluxcd.io/namespace": "flux-system"}
	kustomizeControllerLabels = map[string]any{"kustomize.toolkit.fluxcd.io/name": "powerdns", "kustomize.toolkit.fluxcd.io/namespace": "flux-system"}
)

// randAlphaNum is Sprig's randAlphaNum: the values are made here, never logged.
func randAlphaNum(n int) string {
	const set = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	b := make([]byte, n)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = set[int(b[i])%len(set)]
	}
	return string(b)
}

// TestSecretProvenanceEndToEnd: through the real kube-apiserver and the chart's webhook
// configuration, a Secret that helm-controller applies (a chart generated its values in the
// cluster) is admitted by plaintext-secret, and the same Secret applied by kustomize-controller
// (committed to Git) is denied. The helm-applied webhook does reach the engine for it: a
// helm-controller Secret with another violation (a SOPS value) is denied.
func TestSecretProvenanceEndToEnd(t *testing.T) {
	assets := requireControlPlane(t)
	c := startCluster(t, assets, e2eValues)
	c.startServer(t)
	ctx := context.Background()
	require.NoError(t, c.client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "powerdns"}}))
	apiKey, webPass := randAlphaNum(32), randAlphaNum(32)
	noValues := func(t *testing.T, text string) {
		t.Helper()
		for _, v := range []string{apiKey, webPass} {
			if strings.Contains(text, v) {
				t.Errorf("a generated secret value appears in a response or log")
			}
		}
	}
	create := func(o map[string]any) error {
		return c.client.Create(ctx, &unstructured.Unstructured{Object: o})
	}

	t.Run("applied by helm-controller: admitted", func(t *testing.T) {
		require.NoError(t, create(chartGeneratedSecret("powerdns-api-credentials", apiKey, webPass, helmControllerLabels)))
		if c.kubectl != nil {
			out, err := c.apply(t, chartGeneratedSecret("powerdns-api-credentials-kubectl", apiKey, webPass, helmControllerLabels))
			noValues(t, out)
			require.NoError(t, err, "kubectl apply of a helm-controller Secret")
			assert.Contains(t, out, "secret/powerdns-api-credentials-kubectl created")
		}
	})
	t.Run("applied by kustomize-controller: denied by plaintext-secret", func(t *testing.T) {
		err := create(chartGeneratedSecret("powerdns-api-credentials-git", apiKey, webPass, kustomizeControllerLabels))
		require.Error(t, err)
		require.True(t, apierrors.IsForbidden(err), "a policy denial is 403 Forbidden: %v", err)
		assert.Contains(t, err.Error(), `admission webhook "kustomize-applied.ova-lint.openova.io" denied the request`)
		assert.Contains(t, err.Error(), "error plaintext-secret at data")
		assert.Contains(t, err.Error(), "keys: api-key, webserver-password")
		noValues(t, err.Error())
		if c.kubectl != nil {
			out, err := c.apply(t, chartGeneratedSecret("powerdns-api-credentials-git", apiKey, webPass, kustomizeControllerLabels))
			noValues(t, out)
			require.Error(t, err)
			assert.Contains(t, out, "denied the request: ova-lint rejected Secret powerdns/powerdns-api-credentials-git: error plaintext-secret at data")
		}
	})
	t.Run("a helm-controller label does not exempt a Secret kustomize-controller applies", func(t *testing.T) {
		both := map[string]any{}
		for k, v := range helmControllerLabels {
			both[k] = v
		}
		for k, v := range kustomizeControllerLabels {
			both[k] = v
		}
		err := create(chartGeneratedSecret("powerdns-api-credentials-both", apiKey, webPass, both))
		require.Error(t, err)
		assert.Contains(t, err.Error(), "plaintext-secret")
		noValues(t, err.Error())
	})
	t.Run("helm-controller's Secrets reach the engine: another rule still decides", func(t *testing.T) {
		s := chartGeneratedSecret("powerdns-sops", apiKey, webPass, helmControllerLabels)
		s["metadata"].(map[string]any)["annotations"] = map[string]any{"legacy/value": "ENC[AES256_GCM,data:Zm9v,iv:aXY=,tag:dGFn,type:str]"}
		err := create(s)
		require.Error(t, err)
		assert.Contains(t, err.Error(), `admission webhook "helm-applied.ova-lint.openova.io" denied the request`)
		assert.Contains(t, err.Error(), "error no-sops at metadata.annotations.legacy/value")
		assert.NotContains(t, err.Error(), "plaintext-secret")
	})
	t.Run("logs carry no value", func(t *testing.T) {
		noValues(t, c.logs.String())
	})
}
