package server_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	admissionv1 "k8s.io/api/admission/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	crmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/openova-io/ova-lint/linter/config"
	"github.com/openova-io/ova-lint/linter/engine"
	"github.com/openova-io/ova-lint/webhook"
	"github.com/openova-io/ova-lint/webhook/server"
)

// certPair is a serving certificate and the CA that signed it, as PEM.
type certPair struct {
	caPEM, certPEM, keyPEM []byte
	serial                 *big.Int
}

func newCA(t testing.TB) (*x509.Certificate, *ecdsa.PrivateKey, []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "ova-lint test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	ca, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	return ca, key, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

func newServingCert(t testing.TB, ca *x509.Certificate, caKey *ecdsa.PrivateKey, caPEM []byte, serial int64) certPair {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: "ova-lint.ova-lint.svc"},
		DNSNames: []string{"localhost"}, IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	require.NoError(t, err)
	keyDER, err := x509.MarshalECPrivateKey(key)
	require.NoError(t, err)
	return certPair{
		caPEM:   caPEM,
		certPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		keyPEM:  pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}),
		serial:  big.NewInt(serial),
	}
}

func (c certPair) write(t testing.TB, dir string) {
	t.Helper()
	// write-then-rename, as the kubelet's atomic writer swaps a Secret volume's files
	for name, data := range map[string][]byte{"tls.key": c.keyPEM, "tls.crt": c.certPEM} {
		tmp := filepath.Join(dir, "."+name+".tmp")
		require.NoError(t, os.WriteFile(tmp, data, 0o600))
		require.NoError(t, os.Rename(tmp, filepath.Join(dir, name)))
	}
}

func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// slowHandler delays every review, to hold one in flight during shutdown.
type slowHandler struct {
	next    admission.Handler
	delay   time.Duration
	started chan struct{}
	once    sync.Once
}

func (s *slowHandler) Handle(ctx context.Context, req admission.Request) admission.Response {
	s.once.Do(func() { close(s.started) })
	time.Sleep(s.delay)
	return s.next.Handle(ctx, req)
}

type fixture struct {
	srv     *server.Server
	certDir string
	pool    *x509.CertPool
	url     string
	cancel  context.CancelFunc
	done    chan error
	reg     *prometheus.Registry
}

func start(t *testing.T, wrap func(admission.Handler) admission.Handler, opts server.Options) *fixture {
	t.Helper()
	cfg, err := config.Default()
	require.NoError(t, err)
	eng, err := engine.New(context.Background(), engine.Options{Config: cfg})
	require.NoError(t, err)
	reg := prometheus.NewRegistry()
	metrics, err := webhook.NewMetrics(reg, eng.Rules())
	require.NoError(t, err)
	h, err := webhook.NewHandler(webhook.Options{Engine: eng, Config: cfg, Metrics: metrics})
	require.NoError(t, err)

	ca, caKey, caPEM := newCA(t)
	dir := t.TempDir()
	newServingCert(t, ca, caKey, caPEM, 100).write(t, dir)
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(caPEM)

	opts.Handler = h
	if wrap != nil {
		opts.Handler = wrap(h)
	}
	opts.Host, opts.Port, opts.CertDir, opts.ProbeAddr, opts.Gatherer = "127.0.0.1", freePort(t), dir, "127.0.0.1:0", reg
	srv, err := server.New(opts)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	f := &fixture{srv: srv, certDir: dir, pool: pool, url: "https://" + srv.WebhookAddr() + server.DefaultPath, cancel: cancel, done: make(chan error, 1), reg: reg}
	go func() { f.done <- srv.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-f.done:
		case <-time.After(40 * time.Second):
			t.Error("server did not stop")
		}
	})
	require.Eventually(t, func() bool { return f.probe("/readyz") == http.StatusOK }, 10*time.Second, 20*time.Millisecond, "server never became ready")
	return f
}

func (f *fixture) probe(path string) int {
	resp, err := http.Get("http://" + f.srv.ProbeAddr() + path)
	if err != nil {
		return 0
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode
}

func (f *fixture) client() *http.Client {
	return &http.Client{Timeout: 20 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: f.pool, ServerName: "127.0.0.1"}}}
}

const badKustomization = `{"apiVersion":"kustomize.toolkit.fluxcd.io/v1","kind":"Kustomization","metadata":{"name":"apps","namespace":"flux-system"},
"spec":{"interval":"10m","path":"./apps","prune":false,"wait":true,"sourceRef":{"kind":"GitRepository","name":"platform"},
"healthChecks":[{"apiVersion":"apps/v1","kind":"Deployment","name":"api","namespace":"apps"}]}}`

func review(t testing.TB) []byte {
	t.Helper()
	gvk := metav1.GroupVersionKind{Group: "kustomize.toolkit.fluxcd.io", Version: "v1", Kind: "Kustomization"}
	b, err := json.Marshal(admissionv1.AdmissionReview{
		TypeMeta: metav1.TypeMeta{APIVersion: "admission.k8s.io/v1", Kind: "AdmissionReview"},
		Request: &admissionv1.AdmissionRequest{
			UID: "3b1e4d2c-0000-4000-8000-000000000001", Kind: gvk, Name: "apps", Namespace: "flux-system",
			Resource:  metav1.GroupVersionResource{Group: gvk.Group, Version: gvk.Version, Resource: "kustomizations"},
			Operation: admissionv1.Create, Object: runtime.RawExtension{Raw: []byte(badKustomization)},
		},
	})
	require.NoError(t, err)
	return b
}

func (f *fixture) review(t testing.TB, c *http.Client) (*admissionv1.AdmissionResponse, error) {
	resp, err := c.Post(f.url, "application/json", bytes.NewReader(review(t)))
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("status %s", resp.Status)
	}
	var out admissionv1.AdmissionReview
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return nil, err
	}
	return out.Response, nil
}

func TestServesReviewsOverTLS(t *testing.T) {
	f := start(t, nil, server.Options{})
	resp, err := f.review(t, f.client())
	require.NoError(t, err)
	assert.False(t, resp.Allowed)
	assert.Contains(t, resp.Result.Message, "kustomization-prune")

	assert.Equal(t, http.StatusOK, f.probe("/healthz"))
	assert.Equal(t, http.StatusOK, f.probe("/readyz"))

	// HTTP/2 is off unless asked for
	conn, err := tls.Dial("tcp", f.srv.WebhookAddr(), &tls.Config{RootCAs: f.pool, ServerName: "127.0.0.1", NextProtos: []string{"h2", "http/1.1"}})
	require.NoError(t, err)
	assert.Equal(t, "http/1.1", conn.ConnectionState().NegotiatedProtocol)
	conn.Close()
}

func TestMetricsEndpoint(t *testing.T) {
	f := start(t, nil, server.Options{})
	_, err := f.review(t, f.client())
	require.NoError(t, err)
	resp, err := http.Get("http://" + f.srv.ProbeAddr() + "/metrics")
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	assert.Contains(t, string(body), `ova_lint_admission_denials_total{rule="kustomization-prune"} 1`)
	assert.Contains(t, string(body), `ova_lint_admission_reviews_total{decision="denied",operation="CREATE"} 1`)
}

// TestControllerRuntimeWebhookMetrics: the handler is registered on controller-runtime's server,
// which instruments it in its own registry (served by `ova-lint serve`).
func TestControllerRuntimeWebhookMetrics(t *testing.T) {
	f := start(t, nil, server.Options{})
	_, err := f.review(t, f.client())
	require.NoError(t, err)
	mfs, err := crRegistry().Gather()
	require.NoError(t, err)
	found := map[string]bool{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "webhook" && l.GetValue() == server.DefaultPath {
					found[mf.GetName()] = true
				}
			}
		}
	}
	for _, name := range []string{"controller_runtime_webhook_requests_total", "controller_runtime_webhook_latency_seconds", "controller_runtime_webhook_requests_in_flight"} {
		assert.True(t, found[name], "%s{webhook=%q}", name, server.DefaultPath)
	}
}

// TestCertificateHotReload: a new certificate in the directory is served without a restart.
func TestCertificateHotReload(t *testing.T) {
	f := start(t, nil, server.Options{CertPollInterval: 200 * time.Millisecond})
	served := func() *big.Int {
		conn, err := tls.Dial("tcp", f.srv.WebhookAddr(), &tls.Config{RootCAs: f.pool, ServerName: "127.0.0.1"})
		if err != nil {
			return nil
		}
		defer conn.Close()
		return conn.ConnectionState().PeerCertificates[0].SerialNumber
	}
	require.Equal(t, int64(100), served().Int64())

	// rotate to a certificate from a new CA, as cert-manager does when the CA is re-issued
	ca, caKey, caPEM := newCA(t)
	next := newServingCert(t, ca, caKey, caPEM, 200)
	next.write(t, f.certDir)
	f.pool.AppendCertsFromPEM(caPEM)
	require.Eventually(t, func() bool {
		s := served()
		return s != nil && s.Int64() == 200
	}, 15*time.Second, 50*time.Millisecond, "the rotated certificate was never served")
	resp, err := f.review(t, f.client())
	require.NoError(t, err)
	assert.False(t, resp.Allowed)
}

// TestGracefulShutdownDrainsReviews: on shutdown /readyz fails first, a review in flight still
// gets its answer, and new connections are refused once the listener is closed.
func TestGracefulShutdownDrainsReviews(t *testing.T) {
	slow := &slowHandler{delay: 1500 * time.Millisecond, started: make(chan struct{})}
	f := start(t, func(h admission.Handler) admission.Handler { slow.next = h; return slow }, server.Options{ShutdownDelay: 700 * time.Millisecond})

	type result struct {
		resp *admissionv1.AdmissionResponse
		err  error
	}
	inflight := make(chan result, 1)
	go func() {
		r, err := f.review(t, f.client())
		inflight <- result{r, err}
	}()
	<-slow.started
	f.cancel() // SIGTERM

	require.Eventually(t, func() bool { return f.probe("/readyz") == http.StatusInternalServerError }, 500*time.Millisecond, 10*time.Millisecond, "readyz must fail as soon as shutdown starts")
	assert.Equal(t, http.StatusOK, f.probe("/healthz"), "still alive while draining")

	r := <-inflight
	require.NoError(t, r.err, "the review in flight is answered, not dropped")
	assert.False(t, r.resp.Allowed)
	assert.Contains(t, r.resp.Result.Message, "kustomization-prune")

	select {
	case err := <-f.done:
		require.NoError(t, err)
	case <-time.After(10 * time.Second):
		t.Fatal("server did not stop after draining")
	}
	f.done <- nil // for the cleanup
	_, err := tls.Dial("tcp", f.srv.WebhookAddr(), &tls.Config{RootCAs: f.pool, ServerName: "127.0.0.1"})
	assert.Error(t, err, "the listener is closed")
}

func TestMissingCertificateIsAnError(t *testing.T) {
	cfg, err := config.Default()
	require.NoError(t, err)
	eng, err := engine.New(context.Background(), engine.Options{Config: cfg})
	require.NoError(t, err)
	h, err := webhook.NewHandler(webhook.Options{Engine: eng, Config: cfg})
	require.NoError(t, err)
	_, err = server.New(server.Options{Handler: h, CertDir: t.TempDir(), ProbeAddr: "127.0.0.1:0"})
	require.Error(t, err)
	assert.True(t, strings.Contains(err.Error(), "load serving certificate"), err.Error())
}

// crRegistry is controller-runtime's registry, where its webhook server keeps its metrics.
func crRegistry() prometheus.Gatherer { return crmetrics.Registry }

// TestInFlightBudget: with the in-flight budget taken by a review being evaluated, a review that
// does not fit waits for the apiserver's timeout (?timeout=) and is refused with 429 and
// Retry-After; once the budget is free, reviews are answered again.
func TestInFlightBudget(t *testing.T) {
	slow := &slowHandler{delay: 1500 * time.Millisecond, started: make(chan struct{})}
	body := review(t)
	f := start(t, func(h admission.Handler) admission.Handler { slow.next = h; return slow },
		server.Options{MaxInFlightBytes: int64(len(body)) + 1}) // room for one review at a time
	first := make(chan error, 1)
	go func() {
		_, err := f.review(t, f.client())
		first <- err
	}()
	<-slow.started

	start := time.Now()
	resp, err := f.client().Post(f.url+"?timeout=300ms", "application/json", bytes.NewReader(body))
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	assert.Equal(t, http.StatusTooManyRequests, resp.StatusCode, "%s", raw)
	assert.Equal(t, "1", resp.Header.Get("Retry-After"))
	var st metav1.Status
	require.NoError(t, json.Unmarshal(raw, &st))
	assert.Equal(t, metav1.StatusReasonTooManyRequests, st.Reason)
	waited := time.Since(start)
	assert.GreaterOrEqual(t, waited, 300*time.Millisecond, "waited for the budget")
	assert.Less(t, waited, 1200*time.Millisecond, "as long as the apiserver's timeout, not the slow review")

	require.NoError(t, <-first, "the review holding the budget is answered")
	r, err := f.review(t, f.client())
	require.NoError(t, err)
	assert.False(t, r.Allowed)
}
