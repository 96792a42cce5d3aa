package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	sigsyaml "sigs.k8s.io/yaml"

	"github.com/openova-io/ova-lint/internal/cli"
)

// Flux controller modules whose config/crd/bases hold the CRDs the webhook guards.
var fluxModules = []string{
	"github.com/fluxcd/source-controller@v1.9.6",
	"github.com/fluxcd/kustomize-controller@v1.9.6",
	"github.com/fluxcd/helm-controller@v1.6.4",
}

// requireControlPlane returns KUBEBUILDER_ASSETS or skips the test (fails with OVA_REQUIRE_E2E=1).
// crdWait bounds how long envtest waits for installed CRDs to be served.
const crdWait = 90 * time.Second

func requireControlPlane(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("KUBEBUILDER_ASSETS")
	if dir == "" {
		msg := "KUBEBUILDER_ASSETS is unset: the end-to-end tests need a real kube-apiserver + etcd; " +
			"run KUBEBUILDER_ASSETS=$(bash hack/controlplane/build.sh | tail -1) go test ./test/e2e/ (or make test)"
		if os.Getenv("OVA_REQUIRE_E2E") == "1" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	for _, bin := range []string{"etcd", "kube-apiserver"} {
		if _, err := os.Stat(filepath.Join(dir, bin)); err != nil {
			t.Fatalf("KUBEBUILDER_ASSETS=%s: %v", dir, err)
		}
	}
	return dir
}

// fluxCRDDirs locates the Flux CRDs in the Go module cache (downloading the modules if needed).
func fluxCRDDirs(t *testing.T) []string {
	t.Helper()
	var dirs []string
	for _, m := range fluxModules {
		cmd := exec.Command("go", "mod", "download", "-json", m)
		cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod")
		out, err := cmd.Output()
		require.NoError(t, err, "go mod download %s: %s", m, out)
		var info struct{ Dir, Error string }
		require.NoError(t, json.Unmarshal(out, &info))
		require.Empty(t, info.Error, m)
		dir := filepath.Join(info.Dir, "config", "crd", "bases")
		_, err = os.Stat(dir)
		require.NoError(t, err, "%s has no config/crd/bases", m)
		dirs = append(dirs, dir)
	}
	return dirs
}

// warnings records the Warning headers the apiserver sends back (admission warnings).
type warnings struct {
	mu   sync.Mutex
	list []string
}

func (w *warnings) HandleWarningHeader(_ int, _ string, text string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.list = append(w.list, text)
}

// take returns the warnings since the last take.
func (w *warnings) take() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := w.list
	w.list = nil
	return out
}

// syncBuffer is a bytes.Buffer safe for the server's log writes and the test's reads.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// kubectlRunner is envtest's kubectl helper.
type kubectlRunner interface {
	Run(args ...string) (stdout, stderr io.Reader, err error)
}

// cluster is envtest running the chart's ValidatingWebhookConfiguration against `ova-lint serve`.
type cluster struct {
	env      *envtest.Environment
	cfg      *rest.Config
	client   client.Client
	warnings *warnings
	kubectl  kubectlRunner
	vwc      *admissionregistrationv1.ValidatingWebhookConfiguration // as installed
	chart    *rendered
	serve    []string // `ova-lint serve` arguments, from the chart's Deployment
	logs     *syncBuffer
	probe    string
}

// startCluster starts etcd + kube-apiserver with the Flux CRDs and the chart's webhook
// configuration (envtest points its service at a local port and sets its CA bundle).
func startCluster(t *testing.T, assets, values string) *cluster {
	t.Helper()
	r, err := renderChart(t, testRelease, testNamespace, values)
	require.NoError(t, err)
	var vwc admissionregistrationv1.ValidatingWebhookConfiguration
	raw, err := json.Marshal(r.one(t, "ValidatingWebhookConfiguration"))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(raw, &vwc))

	env := &envtest.Environment{
		BinaryAssetsDirectory: assets,
		CRDDirectoryPaths:     fluxCRDDirs(t),
		ErrorIfCRDPathMissing: true,
		// discovery of new CRDs can take longer than envtest's 10 s default on a loaded machine
		CRDInstallOptions: envtest.CRDInstallOptions{MaxTime: crdWait},
		WebhookInstallOptions: envtest.WebhookInstallOptions{
			LocalServingHost:   "127.0.0.1",
			ValidatingWebhooks: []*admissionregistrationv1.ValidatingWebhookConfiguration{&vwc},
		},
	}
	begin := time.Now()
	cfg, err := env.Start()
	require.NoError(t, err, "envtest start")
	t.Cleanup(func() {
		if err := env.Stop(); err != nil {
			t.Logf("envtest stop: %v", err)
		}
	})
	t.Logf("kube-apiserver + etcd + Flux CRDs + chart webhook configuration up in %s", time.Since(begin).Round(time.Millisecond))

	c := &cluster{env: env, chart: r, warnings: &warnings{}, logs: &syncBuffer{}}
	c.cfg = rest.CopyConfig(cfg)
	c.cfg.WarningHandler = c.warnings
	c.client, err = client.New(c.cfg, client.Options{})
	require.NoError(t, err)
	installed := &admissionregistrationv1.ValidatingWebhookConfiguration{}
	require.NoError(t, c.client.Get(context.Background(), client.ObjectKey{Name: vwc.Name}, installed))
	c.vwc = installed

	user, err := env.ControlPlane.AddUser(envtest.User{Name: "e2e-admin", Groups: []string{"system:masters"}}, nil)
	require.NoError(t, err)
	if _, err := os.Stat(filepath.Join(assets, "kubectl")); err == nil {
		k, err := user.Kubectl() // finds kubectl through KUBEBUILDER_ASSETS
		require.NoError(t, err)
		c.kubectl = k
	}

	// `ova-lint serve` with the chart's container args, its config from the chart's ConfigMap,
	// and envtest's serving certificate and port.
	dir := t.TempDir()
	cfgFile := filepath.Join(dir, ".ova-lint.yaml")
	require.NoError(t, os.WriteFile(cfgFile, []byte(get(r.one(t, "ConfigMap"), "data", ".ova-lint.yaml").(string)), 0o644))
	c.probe = freeAddr(t)
	wio := env.WebhookInstallOptions
	for _, a := range get(r.one(t, "Deployment"), "spec", "template", "spec", "containers", 0, "args").([]any) {
		arg := a.(string)
		switch {
		case strings.HasPrefix(arg, "--config="):
			arg = "--config=" + cfgFile
		case strings.HasPrefix(arg, "--cert-dir="):
			arg = "--cert-dir=" + wio.LocalServingCertDir
		case strings.HasPrefix(arg, "--port="):
			arg = fmt.Sprintf("--port=%d", wio.LocalServingPort)
		case strings.HasPrefix(arg, "--probe-addr="):
			arg = "--probe-addr=" + c.probe
		case arg == "--namespace=$(POD_NAMESPACE)":
			arg = "--namespace=" + testNamespace
		case strings.HasPrefix(arg, "--shutdown-delay="):
			arg = "--shutdown-delay=500ms"
		}
		c.serve = append(c.serve, arg)
	}
	c.serve = append(c.serve, "--host="+wio.LocalServingHost)

	for _, ns := range []string{"flux-system", "apps", "app", testNamespace} {
		require.NoError(t, c.client.Create(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}))
	}
	return c
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	return l.Addr().String()
}

// startServer runs `ova-lint serve` in-process until the returned stop is called.
func (c *cluster) startServer(t *testing.T) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	go func() {
		done <- cli.Run(ctx, c.serve, cli.IO{In: strings.NewReader(""), Out: c.logs, Err: c.logs})
	}()
	ready := func() bool {
		resp, err := http.Get("http://" + c.probe + "/readyz")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		_, _ = io.Copy(io.Discard, resp.Body)
		return resp.StatusCode == http.StatusOK
	}
	deadline := time.Now().Add(20 * time.Second)
	for !ready() {
		select {
		case code := <-done:
			t.Fatalf("ova-lint serve exited with %d:\n%s", code, c.logs.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("ova-lint serve never became ready:\n%s", c.logs.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case code := <-done:
				require.Equal(t, cli.ExitOK, code, "serve exits cleanly on shutdown:\n%s", c.logs.String())
			case <-time.After(30 * time.Second):
				t.Fatal("ova-lint serve did not stop")
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

// reinstallWebhook recreates the chart's webhook configuration as installed at start.
func (c *cluster) reinstallWebhook(t *testing.T) {
	t.Helper()
	vwc := c.vwc.DeepCopy()
	vwc.ResourceVersion, vwc.UID, vwc.CreationTimestamp, vwc.ManagedFields, vwc.Generation = "", "", metav1.Time{}, nil, 0
	ctx := context.Background()
	existing := &admissionregistrationv1.ValidatingWebhookConfiguration{}
	if err := c.client.Get(ctx, client.ObjectKey{Name: vwc.Name}, existing); err == nil {
		require.NoError(t, c.client.Delete(ctx, existing))
	}
	require.NoError(t, c.client.Create(ctx, vwc))
}

// kubectlRun runs kubectl against the cluster and returns its combined output.
func (c *cluster) kubectlRun(t *testing.T, args ...string) (string, error) {
	t.Helper()
	require.NotNil(t, c.kubectl, "no kubectl in KUBEBUILDER_ASSETS")
	stdout, stderr, err := c.kubectl.Run(args...)
	var out bytes.Buffer
	_, _ = io.Copy(&out, stdout)
	_, _ = io.Copy(&out, stderr)
	return out.String(), err
}

// apply writes objs to a file and `kubectl apply`s it.
func (c *cluster) apply(t *testing.T, objs ...map[string]any) (string, error) {
	t.Helper()
	var docs []string
	for _, o := range objs {
		b, err := sigsyaml.Marshal(o)
		require.NoError(t, err)
		docs = append(docs, string(b))
	}
	f := filepath.Join(t.TempDir(), "objects.yaml")
	require.NoError(t, os.WriteFile(f, []byte(strings.Join(docs, "---\n")), 0o644))
	return c.kubectlRun(t, "apply", "--validate=false", "-f", f)
}
