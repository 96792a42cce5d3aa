package server_test

import (
	"context"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/openova-io/ova-lint/webhook/server"
)

// slowListener lets its Accept return late once the listener is closed, as a Serve goroutine
// that the scheduler has not run yet: http.Server still tracks the listener until then.
type slowListener struct {
	net.Listener
	delay time.Duration
}

func (l slowListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		time.Sleep(l.delay)
	}
	return c, err
}

// TestShutdownWaitsForServe: a shutdown that runs before Serve has let go of the closed
// listener is still clean. Shutdown used to close that listener a second time and report
// "use of closed network connection" as reviews still in flight (serve exited 1 in CI).
func TestShutdownWaitsForServe(t *testing.T) {
	dir := t.TempDir()
	ca, caKey, caPEM := newCA(t)
	newServingCert(t, ca, caKey, caPEM, 1).write(t, dir)
	allow := admission.HandlerFunc(func(context.Context, admission.Request) admission.Response {
		return admission.Allowed("")
	})
	s, err := server.New(server.Options{Handler: allow, Host: "127.0.0.1", Port: freePort(t), CertDir: dir, ProbeAddr: "127.0.0.1:0"})
	require.NoError(t, err)
	server.WrapListener(s, func(l net.Listener) net.Listener { return slowListener{Listener: l, delay: 300 * time.Millisecond} })
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	require.Eventually(t, func() bool {
		resp, err := http.Get("http://" + s.ProbeAddr() + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}, 10*time.Second, 10*time.Millisecond, "server never became ready")
	cancel()
	select {
	case err := <-done:
		require.NoError(t, err, "nothing was in flight")
	case <-time.After(30 * time.Second):
		t.Fatal("Run did not return")
	}
}
