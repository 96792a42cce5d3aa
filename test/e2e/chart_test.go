package e2e

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/openova-io/ova-lint/internal/cli"
)

const (
	testRelease   = "ova-lint"
	testNamespace = "ova-lint"
)

// chartVariants are the value sets the chart is rendered (and linted) with.
var chartVariants = []struct {
	name, values string
}{
	{"defaults (cert-manager)", ""},
	{"cert-manager with an existing issuer", "tls: {certManager: {issuerRef: {name: platform-ca, kind: ClusterIssuer}}}"},
	{"self-signed", "tls: {mode: selfSigned}"},
	{"existing secret", "tls: {mode: secret, secretName: webhook-tls, caBundle: \"-----BEGIN CERTIFICATE-----\\nMIIB\\n-----END CERTIFICATE-----\\n\"}"},
	{"everything on", `
tls: {mode: selfSigned}
metrics: {serviceMonitor: {enabled: true, labels: {release: prometheus}}}
networkPolicy:
  enabled: true
  webhookFrom: [{ipBlock: {cidr: 10.0.0.0/24}}]
  metricsFrom: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: monitoring}}}]
webhook: {exemptNamespaces: [flux-system], failurePolicy: {fluxApplied: Fail}}
priorityClassName: system-cluster-critical
config: |
  params:
    gitea:
      host: gitea.fsn1.acme.example
`},
	{"Flux-applied objects not checked", "webhook: {fluxApplied: {kustomizeController: false, helmController: false}}"},
}

// TestChartRendersAndPassesOvaLint renders every variant with Helm's Go library and lints the
// manifests with `ova-lint lint` (in-process, the CLI's own entry point): exit 0, no error.
func TestChartRendersAndPassesOvaLint(t *testing.T) {
	for _, v := range chartVariants {
		t.Run(v.name, func(t *testing.T) {
			r, err := renderChart(t, testRelease, testNamespace, v.values)
			require.NoError(t, err)
			dir := t.TempDir()
			r.write(t, dir)
			var out, errOut bytes.Buffer
			code := cli.Run(context.Background(), []string{"lint", "--format", "text", "--verbose", dir}, cli.IO{Out: &out, Err: &errOut})
			t.Logf("ova-lint lint:\n%s%s", out.String(), errOut.String())
			assert.Equal(t, cli.ExitOK, code, "the chart's manifests pass ova-lint lint")
			assert.Contains(t, out.String(), " 0 errors, 0 warnings", "not even a warning")
		})
	}
}

func TestChartWebhookConfiguration(t *testing.T) {
	r, err := renderChart(t, testRelease, testNamespace, "")
	require.NoError(t, err)
	vwc := r.one(t, "ValidatingWebhookConfiguration")
	assert.Equal(t, "ova-lint", get(vwc, "metadata", "name"))
	assert.Equal(t, "ova-lint/ova-lint", get(vwc, "metadata", "annotations", "cert-manager.io/inject-ca-from"), "cert-manager injects the CA")

	hooks := get(vwc, "webhooks").([]any)
	require.Len(t, hooks, 3)
	assert.Equal(t, "flux-resources.ova-lint.openova.io", get(hooks, 0, "name"), "the break-glass patch (chart/README.md) addresses /webhooks/0")
	byName := map[string]any{}
	for _, h := range hooks {
		byName[get(h, "name").(string)] = h
	}
	flux := byName["flux-resources.ova-lint.openova.io"]
	require.NotNil(t, flux)
	assert.Equal(t, "Fail", get(flux, "failurePolicy"), "Flux kinds fail closed by default")
	var resources []any
	for _, rule := range get(flux, "rules").([]any) {
		assert.Equal(t, []any{"CREATE", "UPDATE"}, get(rule, "operations"), "DELETE is never sent")
		resources = append(resources, get(rule, "resources").([]any)...)
	}
	assert.ElementsMatch(t, []any{"gitrepositories", "ocirepositories", "helmrepositories", "kustomizations", "helmreleases"}, resources)
	assert.Nil(t, get(flux, "objectSelector"), "Flux kinds are checked whoever writes them")

	for name, label := range map[string]string{
		"kustomize-applied.ova-lint.openova.io": "kustomize.toolkit.fluxcd.io/name",
		"helm-applied.ova-lint.openova.io":      "helm.toolkit.fluxcd.io/name",
	} {
		h := byName[name]
		require.NotNil(t, h, name)
		assert.Equal(t, "Ignore", get(h, "failurePolicy"))
		assert.Equal(t, label, get(h, "objectSelector", "matchExpressions", 0, "key"))
		assert.Equal(t, "Exists", get(h, "objectSelector", "matchExpressions", 0, "operator"))
		assert.Equal(t, []any{"CREATE", "UPDATE"}, get(h, "rules", 0, "operations"))
	}
	for name, h := range byName {
		assert.LessOrEqual(t, get(h, "timeoutSeconds").(float64), 5.0, name)
		assert.Equal(t, "None", get(h, "sideEffects"), name)
		assert.Equal(t, []any{"v1"}, get(h, "admissionReviewVersions"), name)
		assert.Equal(t, "/validate", get(h, "clientConfig", "service", "path"), name)
		assert.Equal(t, testNamespace, get(h, "clientConfig", "service", "namespace"), name)
		assert.Equal(t, "kubernetes.io/metadata.name", get(h, "namespaceSelector", "matchExpressions", 0, "key"), name)
		assert.Equal(t, "NotIn", get(h, "namespaceSelector", "matchExpressions", 0, "operator"), name)
		assert.Equal(t, []any{"kube-system", testNamespace}, get(h, "namespaceSelector", "matchExpressions", 0, "values"), name)
	}
}

func TestChartValues(t *testing.T) {
	t.Run("failurePolicy and exempt namespaces are values", func(t *testing.T) {
		r, err := renderChart(t, "guard", "platform-policy", "webhook: {failurePolicy: {fluxResources: Ignore, fluxApplied: Fail}, exemptNamespaces: [flux-system], timeoutSeconds: 3}")
		require.NoError(t, err)
		vwc := r.one(t, "ValidatingWebhookConfiguration")
		for _, h := range get(vwc, "webhooks").([]any) {
			want := "Fail"
			if get(h, "name") == "flux-resources.ova-lint.openova.io" {
				want = "Ignore"
			}
			assert.Equal(t, want, get(h, "failurePolicy"))
			assert.Equal(t, 3.0, get(h, "timeoutSeconds"))
			assert.Equal(t, []any{"kube-system", "platform-policy", "flux-system"}, get(h, "namespaceSelector", "matchExpressions", 0, "values"))
		}
		args := get(r.one(t, "Deployment"), "spec", "template", "spec", "containers", 0, "args")
		assert.Contains(t, args, "--exempt-namespace=flux-system", "the server skips them too")
	})
	for name, values := range map[string]string{
		"one replica is refused":       "replicaCount: 1",
		"a timeout over 5s is refused": "webhook: {timeoutSeconds: 10}",
		"an unknown TLS mode":          "tls: {mode: none}",
		"secret mode needs a CA":       "tls: {mode: secret, secretName: x}",
	} {
		t.Run(name, func(t *testing.T) {
			_, err := renderChart(t, testRelease, testNamespace, values)
			assert.Error(t, err)
		})
	}
}

func TestChartDeployment(t *testing.T) {
	r, err := renderChart(t, testRelease, testNamespace, "")
	require.NoError(t, err)
	d := r.one(t, "Deployment")
	assert.Equal(t, 2.0, get(d, "spec", "replicas"))
	pod := get(d, "spec", "template", "spec")
	assert.Equal(t, true, get(pod, "securityContext", "runAsNonRoot"))
	assert.Equal(t, true, get(pod, "automountServiceAccountToken"), "the background audit (audit.enabled, on by default) calls the apiserver")
	c := get(pod, "containers", 0)
	assert.Equal(t, true, get(c, "securityContext", "readOnlyRootFilesystem"))
	assert.Equal(t, false, get(c, "securityContext", "allowPrivilegeEscalation"))
	assert.Equal(t, []any{"ALL"}, get(c, "securityContext", "capabilities", "drop"))
	assert.NotNil(t, get(c, "resources", "requests", "memory"))
	assert.NotNil(t, get(c, "resources", "limits", "memory"))
	assert.Equal(t, "/readyz", get(c, "readinessProbe", "httpGet", "path"))
	assert.Equal(t, "/healthz", get(c, "livenessProbe", "httpGet", "path"))
	assert.Contains(t, get(c, "args"), "--config=/etc/ova-lint/.ova-lint.yaml")
	assert.Equal(t, "ova-lint-config", get(pod, "volumes", 0, "configMap", "name"), "the config comes from the ConfigMap")
	assert.NotNil(t, get(r.one(t, "ConfigMap"), "data", ".ova-lint.yaml"))

	// a rollout never takes an old pod away before a new one is ready: a new pod that never becomes
	// ready (an invalid configuration) stops the rollout and the old pods keep serving
	assert.Equal(t, "RollingUpdate", get(d, "spec", "strategy", "type"))
	assert.Equal(t, 0.0, get(d, "spec", "strategy", "rollingUpdate", "maxUnavailable"))
	assert.GreaterOrEqual(t, get(d, "spec", "strategy", "rollingUpdate", "maxSurge"), 1.0)
	pdb := r.one(t, "PodDisruptionBudget")
	assert.Equal(t, 1.0, get(pdb, "spec", "minAvailable"))
	assert.Equal(t, get(d, "spec", "selector", "matchLabels"), get(pdb, "spec", "selector", "matchLabels"))
	assert.Empty(t, r.find("ServiceMonitor"))
	assert.Empty(t, r.find("NetworkPolicy"))
	assert.Len(t, r.find("Certificate"), 1)
	assert.Len(t, r.find("Issuer"), 1)
	assert.Empty(t, r.find("Secret"), "cert-manager writes the Secret")
}

// TestChartSelfSignedTLS: the generated CA is the VWC's caBundle and signed a certificate for the
// Service's DNS name.
func TestChartSelfSignedTLS(t *testing.T) {
	r, err := renderChart(t, testRelease, testNamespace, "tls: {mode: selfSigned}")
	require.NoError(t, err)
	secret := r.one(t, "Secret")
	assert.Equal(t, "kubernetes.io/tls", get(secret, "type"))
	decode := func(s any) []byte {
		b, err := base64.StdEncoding.DecodeString(s.(string))
		require.NoError(t, err)
		return b
	}
	ca := decode(get(secret, "data", "ca.crt"))
	for _, h := range get(r.one(t, "ValidatingWebhookConfiguration"), "webhooks").([]any) {
		assert.Equal(t, ca, decode(get(h, "clientConfig", "caBundle")))
	}
	pool := x509.NewCertPool()
	require.True(t, pool.AppendCertsFromPEM(ca))
	block, _ := pem.Decode(decode(get(secret, "data", "tls.crt")))
	require.NotNil(t, block)
	cert, err := x509.ParseCertificate(block.Bytes)
	require.NoError(t, err)
	_, err = cert.Verify(x509.VerifyOptions{Roots: pool, DNSName: "ova-lint.ova-lint.svc"})
	assert.NoError(t, err)
	assert.Empty(t, r.find("Certificate"))
}

func TestChartOptionalObjects(t *testing.T) {
	r, err := renderChart(t, testRelease, testNamespace, chartVariants[4].values)
	require.NoError(t, err)
	sm := r.one(t, "ServiceMonitor")
	assert.Equal(t, "metrics", get(sm, "spec", "endpoints", 0, "port"))
	assert.Equal(t, "prometheus", get(sm, "metadata", "labels", "release"))
	np := r.one(t, "NetworkPolicy")
	assert.Equal(t, []any{"Ingress", "Egress"}, get(np, "spec", "policyTypes"))
	assert.Equal(t, []any{map[string]any{"ports": []any{map[string]any{"port": 443.0, "protocol": "TCP"}, map[string]any{"port": 6443.0, "protocol": "TCP"}}}},
		get(np, "spec", "egress"), "egress only to the apiserver's ports, for the background audit")
	assert.Contains(t, get(r.one(t, "ConfigMap"), "data", ".ova-lint.yaml"), "host: gitea.fsn1.acme.example")
}
