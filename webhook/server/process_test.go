package server_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptrace"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	admissionv1 "k8s.io/api/admission/v1"
)

// The tests in this file's company run the real `ova-lint-webhook serve` binary (what the
// container image runs; the same serve command as `ova-lint serve`), built once per test binary
// (TestMain removes it), on loopback only.

var (
	buildOnce sync.Once
	builtBin  string
	buildErr  error
	buildDir  string
)

func TestMain(m *testing.M) {
	code := m.Run()
	if buildDir != "" {
		_ = os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

// serveBinary builds ./cmd/ova-lint-webhook once.
func serveBinary(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		var gomod []byte
		if gomod, buildErr = exec.Command("go", "env", "GOMOD").Output(); buildErr != nil {
			return
		}
		if buildDir, buildErr = os.MkdirTemp("", "ova-lint-serve-"); buildErr != nil {
			return
		}
		builtBin = filepath.Join(buildDir, "ova-lint-webhook")
		cmd := exec.Command("go", "build", "-o", builtBin, "./cmd/ova-lint-webhook")
		cmd.Dir = filepath.Dir(strings.TrimSpace(string(gomod)))
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build: %v: %s", err, out)
		}
	})
	require.NoError(t, buildErr)
	return builtBin
}

// syncBuffer is a bytes.Buffer the child's output and the test share.
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

// serveProc is `ova-lint serve` running as a child process with a certificate from its own CA.
type serveProc struct {
	cmd     *exec.Cmd
	pid     int
	port    int
	url     string // the webhook's URL
	probe   string // host:port of /healthz, /readyz, /metrics
	certDir string
	ca      *x509.Certificate
	caKey   *ecdsa.PrivateKey
	caPEM   []byte
	pool    *x509.CertPool // the CA: what the clients trust
	logs    *syncBuffer
	exited  chan struct{}
	exitErr error
}

// startServe starts the binary on 127.0.0.1 with args added to the defaults and waits until
// /readyz answers 200. writeCerts lays out the first certificate (serial 1) in the directory.
func startServe(t *testing.T, writeCerts func(testing.TB, string, certPair), args ...string) *serveProc {
	t.Helper()
	bin := serveBinary(t)
	ca, caKey, caPEM := newCA(t)
	p := &serveProc{certDir: t.TempDir(), ca: ca, caKey: caKey, caPEM: caPEM, logs: &syncBuffer{}, exited: make(chan struct{})}
	if writeCerts == nil {
		writeCerts = writeRenamed
	}
	writeCerts(t, p.certDir, newServingCert(t, ca, caKey, caPEM, 1))
	p.pool = x509.NewCertPool()
	p.pool.AppendCertsFromPEM(caPEM)
	p.port, p.probe = freePort(t), fmt.Sprintf("127.0.0.1:%d", freePort(t))
	p.url = fmt.Sprintf("https://127.0.0.1:%d/validate", p.port)

	all := append([]string{"serve", "--cert-dir", p.certDir, "--host", "127.0.0.1", "--port", strconv.Itoa(p.port),
		"--probe-addr", p.probe, "--namespace", "ova-lint"}, args...)
	p.cmd = exec.Command(bin, all...)
	p.cmd.Env = append(os.Environ(), strings.Fields(os.Getenv("OVA_LINT_LOADTEST_SERVER_ENV"))...)
	p.cmd.Stdout, p.cmd.Stderr = p.logs, p.logs
	require.NoError(t, p.cmd.Start())
	p.pid = p.cmd.Process.Pid
	go func() {
		p.exitErr = p.cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(func() {
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.exited:
		case <-time.After(40 * time.Second):
			_ = p.cmd.Process.Kill()
			<-p.exited
		}
		if t.Failed() {
			t.Logf("server log (tail):\n%s", tail(p.logs.String(), 30))
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for p.readyz() != http.StatusOK {
		select {
		case <-p.exited:
			t.Fatalf("serve exited before ready (%v):\n%s", p.exitErr, p.logs.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve not ready:\n%s", p.logs.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	return p
}

// readyz is the status of /readyz, 0 when it does not answer.
func (p *serveProc) readyz() int {
	c := http.Client{Timeout: time.Second}
	resp, err := c.Get("http://" + p.probe + "/readyz")
	if err != nil {
		return 0
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode
}

// wait waits up to d for the process to exit and returns its error.
func (p *serveProc) wait(t *testing.T, d time.Duration) error {
	t.Helper()
	select {
	case <-p.exited:
		return p.exitErr
	case <-time.After(d):
		t.Fatalf("serve did not exit within %s", d)
		return nil
	}
}

// servedSerial is the serial of the certificate a new TLS handshake gets, verified against the CA.
func (p *serveProc) servedSerial(t testing.TB) int64 {
	t.Helper()
	conn, err := tls.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", p.port), &tls.Config{RootCAs: p.pool, ServerName: "127.0.0.1"})
	require.NoError(t, err)
	defer conn.Close()
	return conn.ConnectionState().PeerCertificates[0].SerialNumber.Int64()
}

// writeRenamed writes the pair as files renamed into place one after the other (tls.key first),
// as a plain volume or a `kubectl cp` would: between the two renames the directory holds a new
// key and the old certificate.
func writeRenamed(t testing.TB, dir string, c certPair) {
	t.Helper()
	for _, f := range []struct {
		name string
		data []byte
	}{{"tls.key", c.keyPEM}, {"tls.crt", c.certPEM}} {
		tmp := filepath.Join(dir, "."+f.name+".tmp")
		require.NoError(t, os.WriteFile(tmp, f.data, 0o600))
		require.NoError(t, os.Rename(tmp, filepath.Join(dir, f.name)))
	}
}

// writeAtomic lays the pair out as the kubelet does for a Secret volume (AtomicWriter): the files
// in a timestamped directory, ..data a symlink to it, tls.crt and tls.key symlinks into ..data.
// An update writes a new directory, swaps ..data by renaming a new symlink over it and removes
// the old directory.
func writeAtomic(t testing.TB, dir string, c certPair) {
	t.Helper()
	ts := filepath.Join(dir, fmt.Sprintf("..%s.%d", time.Now().UTC().Format("2006_01_02_15_04_05"), time.Now().UnixNano()))
	require.NoError(t, os.Mkdir(ts, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(ts, "tls.crt"), c.certPEM, 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(ts, "tls.key"), c.keyPEM, 0o600))
	old, _ := os.Readlink(filepath.Join(dir, "..data"))
	tmp := filepath.Join(dir, "..data_tmp")
	require.NoError(t, os.Symlink(filepath.Base(ts), tmp))
	require.NoError(t, os.Rename(tmp, filepath.Join(dir, "..data")))
	for _, name := range []string{"tls.crt", "tls.key"} {
		if _, err := os.Lstat(filepath.Join(dir, name)); errors.Is(err, os.ErrNotExist) {
			require.NoError(t, os.Symlink(filepath.Join("..data", name), filepath.Join(dir, name)))
		}
	}
	if old != "" {
		require.NoError(t, os.RemoveAll(filepath.Join(dir, old)))
	}
}

// outcome is how one review ended, seen from the client.
type outcome int

const (
	// answered: HTTP 200 and an AdmissionReview answering the request's uid.
	answered outcome = iota
	// refused: no connection was established (the TCP connect or the TLS handshake failed), so
	// not one byte of the request reached the server; a client may send it elsewhere.
	refused
	// dropped: the request went out on an established connection and no valid answer came back.
	dropped
)

// attempt is one review sent by a load client.
type attempt struct {
	start, end time.Time
	outcome    outcome
	err        string
	serial     int64 // the certificate of the connection it went out on
	reused     bool  // it went out on a connection an earlier review used
}

// sendReview posts one AdmissionReview and classifies what happened. uid is the request's uid
// inside body.
func sendReview(ctx context.Context, c *http.Client, url string, body []byte, uid string) attempt {
	a := attempt{start: time.Now()}
	var (
		mu        sync.Mutex
		connected bool
	)
	trace := &httptrace.ClientTrace{
		GetConn: func(string) { mu.Lock(); connected = false; mu.Unlock() }, // a retry starts over
		GotConn: func(info httptrace.GotConnInfo) {
			mu.Lock()
			defer mu.Unlock()
			connected = true
			a.reused = info.Reused
			if tc, ok := info.Conn.(*tls.Conn); ok {
				if certs := tc.ConnectionState().PeerCertificates; len(certs) > 0 {
					a.serial = certs[0].SerialNumber.Int64()
				}
			}
		},
	}
	req, err := http.NewRequestWithContext(httptrace.WithClientTrace(ctx, trace), http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		panic(err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.Do(req)
	a.end = time.Now()
	mu.Lock()
	defer mu.Unlock()
	if err != nil {
		a.outcome = dropped
		if !connected {
			a.outcome = refused
		}
		a.err = err.Error()
		return a
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	a.end = time.Now()
	a.outcome = dropped
	var review admissionv1.AdmissionReview
	switch {
	case err != nil:
		a.err = "reading the response: " + err.Error()
	case resp.StatusCode != http.StatusOK:
		a.err = fmt.Sprintf("HTTP %s: %s", resp.Status, raw)
	case json.Unmarshal(raw, &review) != nil || review.Response == nil:
		a.err = fmt.Sprintf("not an AdmissionReview: %.200s", raw)
	case string(review.Response.UID) != uid:
		a.err = fmt.Sprintf("answers uid %q, not %q", review.Response.UID, uid)
	default:
		a.outcome = answered
	}
	return a
}

// uidOf is the request uid inside an AdmissionReview body.
func uidOf(t testing.TB, body []byte) string {
	t.Helper()
	var review admissionv1.AdmissionReview
	require.NoError(t, json.Unmarshal(body, &review))
	return string(review.Request.UID)
}
