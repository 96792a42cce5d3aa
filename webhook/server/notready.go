package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
)

// NotReady serves the probes of a webhook that must not take traffic, such as one started with
// an invalid configuration: /healthz passes (the process is alive, restarting it would not
// help), /readyz fails with reason, and /metrics serves gatherer. There is no webhook listener.
// In a Deployment with maxUnavailable 0, the rollout stops at the first such pod and the pods
// of the previous ReplicaSet keep answering.
type NotReady struct {
	ln     net.Listener
	srv    *http.Server
	reason error
}

// NewNotReady opens the probe listener at probeAddr (DefaultProbeAddr when empty). gatherer may
// be nil.
func NewNotReady(probeAddr string, reason error, gatherer prometheus.Gatherer) (*NotReady, error) {
	if reason == nil {
		return nil, errors.New("not-ready server: a reason is required")
	}
	if probeAddr == "" {
		probeAddr = DefaultProbeAddr
	}
	ln, err := net.Listen("tcp", probeAddr)
	if err != nil {
		return nil, fmt.Errorf("probe listener %s: %w", probeAddr, err)
	}
	n := &NotReady{ln: ln, reason: reason}
	live := &healthz.Handler{Checks: map[string]healthz.Checker{"ping": healthz.Ping}}
	ready := &healthz.Handler{Checks: map[string]healthz.Checker{"config": func(*http.Request) error { return n.reason }}}
	mux := http.NewServeMux()
	mux.Handle("/healthz", http.StripPrefix("/healthz", live))
	mux.Handle("/healthz/", http.StripPrefix("/healthz", live))
	mux.Handle("/readyz", http.StripPrefix("/readyz", ready))
	mux.Handle("/readyz/", http.StripPrefix("/readyz", ready))
	if gatherer != nil {
		mux.Handle("/metrics", promhttp.HandlerFor(gatherer, promhttp.HandlerOpts{}))
	}
	n.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	return n, nil
}

// ProbeAddr is the address the probe listener is bound to.
func (n *NotReady) ProbeAddr() string { return n.ln.Addr().String() }

// Run serves the probes until ctx ends.
func (n *NotReady) Run(ctx context.Context, logger *slog.Logger) error {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	errc := make(chan error, 1)
	go func() { errc <- n.srv.Serve(n.ln) }()
	logger.Info("serving probes only, never ready", slog.String("probe_addr", n.ProbeAddr()))
	select {
	case err := <-errc:
		return fmt.Errorf("probe server: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	return n.srv.Shutdown(sctx)
}
