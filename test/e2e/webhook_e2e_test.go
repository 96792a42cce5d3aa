package e2e

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
	sigsyaml "sigs.k8s.io/yaml"
)

// e2eValues configure the chart for the end-to-end run: the Sovereign's Gitea host in the
// config, so single-gitea decides at admission from the ConfigMap's configuration.
const e2eValues = `
config: |
  params:
    gitea:
      host: gitea.fsn1.acme.example
`

func obj(t *testing.T, doc string) *unstructured.Unstructured {
	t.Helper()
	u := &unstructured.Unstructured{}
	require.NoError(t, sigsyaml.Unmarshal([]byte(doc), &u.Object))
	return u
}

const (
	goodKustomization = `
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {name: apps, namespace: flux-system}
spec:
  interval: 10m
  path: ./apps
  prune: true
  wait: true
  sourceRef: {kind: GitRepository, name: platform}
  healthChecks:
    - {apiVersion: apps/v1, kind: Deployment, name: api, namespace: apps}
`
	goodGitRepository = `
apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata: {name: platform, namespace: flux-system}
spec:
  interval: 1m
  url: https://gitea.fsn1.acme.example/platform/platform.git
  ref: {branch: main}
  secretRef: {name: gitea-token}
`
	goodHelmRelease = `
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata: {name: api, namespace: flux-system}
spec:
  interval: 10m
  chart:
    spec:
      chart: api
      version: 1.0.0
      sourceRef: {kind: HelmRepository, name: platform}
`
	plaintextSecret = `
apiVersion: v1
kind: Secret
metadata:
  name: db
  namespace: apps
  labels: {kustomize.toolkit.fluxcd.io/name: apps, kustomize.toolkit.fluxcd.io/namespace: flux-system}
type: Opaque
stringData: {password: hunter2-literal}
`
	esoSecret = `
apiVersion: v1
kind: Secret
metadata:
  name: db-from-openbao
  namespace: apps
  labels: {kustomize.toolkit.fluxcd.io/name: apps, kustomize.toolkit.fluxcd.io/namespace: flux-system}
  ownerReferences:
    - {apiVersion: external-secrets.io/v1, kind: ExternalSecret, name: db, uid: 0b9b8a43-2a65-4d6c-9a55-1f1c2c3d4e5f, controller: true, blockOwnerDeletion: true}
type: Opaque
data: {password: c2VjcmV0LWZyb20tb3BlbmJhbw==}
`
	helmReleaseSecret = `
apiVersion: v1
kind: Secret
metadata:
  name: sh.helm.release.v1.api.v1
  namespace: apps
  labels: {owner: helm, name: api, status: deployed, version: "1", helm.toolkit.fluxcd.io/name: api}
type: helm.sh/release.v1
data: {release: SDRzSUFBQUFBQUFBLzZ5V1RXL2JPQkNHLzRyQlBmNjRQL0pwb3dzUEtCUjNpNWFXSHJOZlFTQkhPQUhJUkFBQUE9PQ==}
`
)

// breakGlassCheck is the manifest of chart/README.md's "enforcement is back" check.
const breakGlassCheck = `apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {name: break-glass-check, namespace: flux-system}
spec: {interval: 10m, path: ./, prune: false, sourceRef: {kind: GitRepository, name: flux-system}}
`

var deniedRe = regexp.MustCompile(`admission webhook "([^"]+)" denied the request`)

// TestWebhookEndToEnd drives the webhook through a real kube-apiserver + etcd with the chart's
// ValidatingWebhookConfiguration, the real client and kubectl.
func TestWebhookEndToEnd(t *testing.T) {
	assets := requireControlPlane(t)
	c := startCluster(t, assets, e2eValues)
	stop := c.startServer(t)
	ctx := context.Background()
	outer := t

	create := func(t *testing.T, doc string, opts ...client.CreateOption) error {
		t.Helper()
		c.warnings.take()
		return c.client.Create(ctx, obj(t, doc), opts...)
	}
	rejected := func(t *testing.T, err error, rule string) {
		t.Helper()
		require.Error(t, err, "expected a rejection by %s", rule)
		require.True(t, apierrors.IsForbidden(err), "a policy denial is 403 Forbidden: %v", err)
		assert.Regexp(t, deniedRe, err.Error())
		assert.Contains(t, err.Error(), "error "+rule+" at ")
		assert.Contains(t, err.Error(), "fix: ")
		var status apierrors.APIStatus
		require.ErrorAs(t, err, &status)
		require.NotNil(t, status.Status().Details)
		var causes []string
		for _, c := range status.Status().Details.Causes {
			causes = append(causes, string(c.Type))
		}
		assert.Contains(t, causes, "ova-lint/"+rule, "the status carries the rule id as a cause")
		t.Logf("rejected: %v", err)
	}

	t.Run("good Kustomization, GitRepository and HelmRelease are created", func(t *testing.T) {
		for _, doc := range []string{goodKustomization, goodGitRepository, goodHelmRelease} {
			require.NoError(t, create(t, doc))
			assert.Empty(t, c.warnings.take())
		}
	})
	t.Run("a bad Kustomization is rejected with the rule id", func(t *testing.T) {
		bad := strings.Replace(strings.Replace(goodKustomization, "name: apps,", "name: apps-bad,", 1), "prune: true", "prune: false", 1)
		err := create(t, bad)
		rejected(t, err, "kustomization-prune")
		assert.Contains(t, err.Error(), `admission webhook "flux-resources.ova-lint.openova.io" denied the request: ova-lint rejected Kustomization flux-system/apps-bad: error kustomization-prune at spec.prune`)
	})
	t.Run("a bad GitRepository is rejected, whoever writes it", func(t *testing.T) {
		rejected(t, create(t, strings.Replace(strings.Replace(goodGitRepository, "name: platform,", "name: mirror,", 1), "https://gitea.fsn1.acme.example/platform/platform.git", "https://github.com/acme/platform.git", 1)), "gitea-url")
	})
	t.Run("the config from the chart's ConfigMap decides: single-gitea against params.gitea.host", func(t *testing.T) {
		rejected(t, create(t, strings.Replace(strings.Replace(goodGitRepository, "name: platform,", "name: other,", 1), "gitea.fsn1.acme.example", "gitea.hel1.other.example", 1)), "single-gitea")
	})
	t.Run("a bad HelmRelease is rejected on a dry run too", func(t *testing.T) {
		bad := strings.Replace(strings.Replace(goodHelmRelease, "name: api,", "name: api-sops,", 1), "interval: 10m", "interval: 10m\n  values: {password: \"ENC[AES256_GCM,data:Zm9v,iv:aXY=,tag:dGFn,type:str]\"}", 1)
		rejected(t, create(t, bad, client.DryRunAll), "no-sops")
	})
	t.Run("a plaintext Secret carrying Flux's labels is rejected", func(t *testing.T) {
		err := create(t, plaintextSecret)
		rejected(t, err, "plaintext-secret")
		assert.Contains(t, err.Error(), `admission webhook "kustomize-applied.ova-lint.openova.io" denied the request`)
		assert.NotContains(t, err.Error(), "hunter2", "no secret value in the message")
	})
	t.Run("an ESO-owned Secret and a Helm release Secret are admitted", func(t *testing.T) {
		require.NoError(t, create(t, esoSecret))
		require.NoError(t, create(t, helmReleaseSecret))
		// and as controllers really write them: without Flux's labels the webhook is not even called
		require.NoError(t, create(t, unlabelled(esoSecret, "db-eso-unlabelled")))
	})
	t.Run("a warning finding comes back as a client warning", func(t *testing.T) {
		require.NoError(t, create(t, strings.Replace(strings.Replace(goodKustomization, "name: apps,", "name: apps-5m,", 1), "interval: 10m", "interval: 5m", 1)))
		w := c.warnings.take()
		require.Len(t, w, 1)
		assert.Contains(t, w[0], "ova-lint warning sync-interval at spec.interval: Kustomization apps-5m reconciles every 5m")
		t.Logf("client warning: %s", w[0])
	})
	t.Run("kube-system and the webhook's own namespace are never checked", func(t *testing.T) {
		for _, ns := range []string{"kube-system", testNamespace} {
			bad := strings.Replace(strings.Replace(goodKustomization, "namespace: flux-system", "namespace: "+ns, 1), "prune: true", "prune: false", 1)
			require.NoError(t, create(t, bad), ns)
		}
	})
	t.Run("DELETE is never blocked", func(t *testing.T) {
		u := obj(t, goodKustomization)
		require.NoError(t, c.client.Delete(ctx, u))
	})
	t.Run("kubectl apply gets the same answers", func(t *testing.T) {
		if c.kubectl == nil {
			t.Skip("no kubectl in KUBEBUILDER_ASSETS")
		}
		bad := obj(t, strings.Replace(strings.Replace(goodKustomization, "name: apps,", "name: apps-kubectl,", 1), "wait: true", "wait: false", 1)).Object
		out, err := c.apply(t, bad)
		require.Error(t, err)
		assert.Contains(t, out, `admission webhook "flux-resources.ova-lint.openova.io" denied the request: ova-lint rejected Kustomization flux-system/apps-kubectl: error kustomization-wait at spec.wait`)
		t.Logf("kubectl apply: %s", strings.TrimSpace(out))

		warned := obj(t, strings.Replace(strings.Replace(goodKustomization, "name: apps,", "name: apps-kubectl-5m,", 1), "interval: 10m", "interval: 5m", 1)).Object
		out, err = c.apply(t, warned)
		require.NoError(t, err, out)
		assert.Contains(t, out, "Warning: ova-lint warning sync-interval at spec.interval")
		t.Logf("kubectl apply: %s", strings.TrimSpace(out))
	})

	// Break glass: the webhook's pods are gone and failurePolicy Fail blocks every Flux CR.
	stop()
	legacy := strings.Replace(strings.Replace(goodKustomization, "name: apps,", "name: legacy,", 1), "prune: true", "prune: false", 1)
	t.Run("with the server stopped, Flux writes fail closed", func(t *testing.T) {
		err := create(t, goodGitRepository)
		require.Error(t, err)
		assert.Contains(t, err.Error(), `failed calling webhook "flux-resources.ova-lint.openova.io"`)
		t.Logf("webhook down: %v", err)
		// objects Flux applies are failurePolicy Ignore by default: rollouts continue
		require.NoError(t, create(t, withFluxLabel(`
apiVersion: v1
kind: ConfigMap
metadata: {name: settings, namespace: apps}
data: {LOG_LEVEL: info}
`)))
	})
	t.Run("break-glass: failurePolicy Ignore restores writes", func(t *testing.T) {
		// chart/README.md, "Break-glass", step 1 (option A)
		patch := `[{"op":"replace","path":"/webhooks/0/failurePolicy","value":"Ignore"}]`
		if c.kubectl != nil {
			out, err := c.kubectlRun(t, "patch", "validatingwebhookconfiguration", testRelease, "--type=json", "-p", patch)
			require.NoError(t, err, out)
			t.Logf("kubectl patch: %s", strings.TrimSpace(out))
		} else {
			vwc := c.vwc.DeepCopy()
			require.NoError(t, c.client.Get(ctx, client.ObjectKeyFromObject(vwc), vwc))
			ignore := admissionregistrationv1.Ignore
			vwc.Webhooks[0].FailurePolicy = &ignore
			require.NoError(t, c.client.Update(ctx, vwc))
		}
		require.Eventually(t, func() bool {
			return create(t, strings.Replace(goodGitRepository, "name: platform,", "name: platform-during-incident,", 1)) == nil
		}, 10*time.Second, 100*time.Millisecond, "writes restored")
	})
	t.Run("break-glass: deleting the webhook configuration restores writes", func(t *testing.T) {
		c.reinstallWebhook(t) // back to Fail
		require.Eventually(t, func() bool {
			err := create(t, strings.Replace(goodGitRepository, "name: platform,", "name: platform-2,", 1))
			return err != nil && strings.Contains(err.Error(), "failed calling webhook")
		}, 10*time.Second, 100*time.Millisecond, "fails closed again")
		// chart/README.md, "Break-glass", step 1 (option B)
		if c.kubectl != nil {
			out, err := c.kubectlRun(t, "delete", "validatingwebhookconfiguration", testRelease)
			require.NoError(t, err, out)
			t.Logf("kubectl delete: %s", strings.TrimSpace(out))
		} else {
			require.NoError(t, c.client.Delete(ctx, c.vwc.DeepCopy()))
		}
		require.Eventually(t, func() bool {
			return create(t, strings.Replace(goodGitRepository, "name: platform,", "name: platform-2,", 1)) == nil
		}, 10*time.Second, 100*time.Millisecond, "writes restored")
		// a bad object slips in while the glass is broken
		require.NoError(t, create(t, legacy))
	})
	t.Run("restore: the webhook is back and enforces again", func(t *testing.T) {
		// chart/README.md, "Break-glass", step 3: the pods are back, the configuration reinstalled
		c.startServer(outer) // runs until the end of the whole test
		c.reinstallWebhook(t)
		require.Eventually(t, func() bool {
			err := create(t, strings.Replace(legacy, "name: legacy,", "name: legacy-2,", 1))
			return err != nil && strings.Contains(err.Error(), "kustomization-prune")
		}, 10*time.Second, 100*time.Millisecond, "enforcing again")
		if c.kubectl != nil {
			// the README's check that enforcement is back
			check := filepath.Join(t.TempDir(), "check.yaml")
			require.NoError(t, os.WriteFile(check, []byte(breakGlassCheck), 0o644))
			out, err := c.kubectlRun(t, "create", "--dry-run=server", "-f", check)
			require.Error(t, err)
			assert.Contains(t, out, "denied the request: ova-lint rejected Kustomization flux-system/break-glass-check")
			t.Logf("kubectl create --dry-run=server: %s", strings.TrimSpace(out))
		}
	})
	t.Run("an object that slipped in can still be updated; a new error on it cannot", func(t *testing.T) {
		u := obj(t, legacy)
		require.NoError(t, c.client.Get(ctx, client.ObjectKeyFromObject(u), u))
		u.SetAnnotations(map[string]string{"reconcile.fluxcd.io/requestedAt": "2026-11-25T10:00:00Z"})
		c.warnings.take()
		require.NoError(t, c.client.Update(ctx, u), "flux reconcile on a pre-existing violation is not blocked")
		w := c.warnings.take()
		require.Len(t, w, 1)
		assert.Contains(t, w[0], "kustomization-prune")
		assert.Contains(t, w[0], "not blocking")
		t.Logf("update warning: %s", w[0])

		require.NoError(t, unstructured.SetNestedField(u.Object, false, "spec", "wait"))
		err := c.client.Update(ctx, u)
		rejected(t, err, "kustomization-wait")
	})
	t.Run("logs name requests and rules, never object data", func(t *testing.T) {
		logs := c.logs.String()
		assert.Contains(t, logs, `"msg":"admission review"`)
		assert.Contains(t, logs, `"denied_by":["plaintext-secret"]`)
		for _, leak := range []string{"hunter2", "github.com/acme", "ENC[", "c2VjcmV0"} {
			assert.NotContains(t, logs, leak)
		}
	})
}

// unlabelled returns a Secret document without Flux's labels, under another name.
func unlabelled(doc, name string) string {
	u := map[string]any{}
	if err := sigsyaml.Unmarshal([]byte(doc), &u); err != nil {
		panic(err)
	}
	md := u["metadata"].(map[string]any)
	delete(md, "labels")
	md["name"] = name
	b, err := sigsyaml.Marshal(u)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// withFluxLabel adds kustomize-controller's label to a document.
func withFluxLabel(doc string) string {
	u := map[string]any{}
	if err := sigsyaml.Unmarshal([]byte(doc), &u); err != nil {
		panic(err)
	}
	md := u["metadata"].(map[string]any)
	md["labels"] = map[string]any{"kustomize.toolkit.fluxcd.io/name": "apps"}
	b, err := sigsyaml.Marshal(u)
	if err != nil {
		panic(err)
	}
	return string(b)
}
