package server

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"sigs.k8s.io/controller-runtime/pkg/certwatcher"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	crwebhook "sigs.k8s.io/controller-runtime/pkg/webhook"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"
)

// Defaults of Options.
const (
	DefaultPath            = "/validate"
	DefaultPort            = 9443
	DefaultProbeAddr       = ":8080"
	DefaultShutdownTimeout = 30 * time.Second
	DefaultCertName        = "tls.crt"
	DefaultKeyName         = "tls.key"
	// DefaultMaxRequestBytes is the largest AdmissionReview accepted, controller-runtime's own
	// limit (it refuses 7 MiB or more): an UPDATE carries two objects of at most 3 MiB each (the
	// apiserver's request body limit) plus the request's other fields.
	DefaultMaxRequestBytes = 7<<20 - 1
	// DefaultMaxInFlightBytes is the request body bytes read and evaluated at once. Evaluating
	// a review of many small values takes several times its size (Rego's copy of the object):
	// measured on 2 cores, 20 ConfigMaps of 3 MiB (64-byte values) at once peak at ~70 MiB RSS
	// with 4 MiB (one at a time), ~105 MiB with 8 MiB, ~410 MiB unbounded. Ordinary reviews (a
	// few KiB, counted as 32 KiB) run 128 at once before any waits.
	DefaultMaxInFlightBytes = 4 << 20
)

// Options configure a Server.
type Options struct {
	// Handler decides on each AdmissionReview.
	Handler admission.Handler
	// Path the handler is served on (DefaultPath).
	Path string
	// Host and Port of the TLS listener ("" = all addresses; 0 = DefaultPort).
	Host string
	Port int
	// CertDir holds CertName and KeyName (tls.crt, tls.key), re-read when they change.
	CertDir, CertName, KeyName string
	// CertPollInterval is how often the certificate is re-read besides file events (10 s).
	CertPollInterval time.Duration
	// ProbeAddr is the plain-HTTP listener for /healthz, /readyz and /metrics (DefaultProbeAddr;
	// ":0" picks a free port, see ProbeAddr).
	ProbeAddr string
	// Gatherer is served on /metrics; nil serves no metrics.
	Gatherer prometheus.Gatherer
	// ShutdownDelay is how long /readyz fails before the TLS listener closes, so the endpoints
	// controller takes the pod out of the Service first.
	ShutdownDelay time.Duration
	// ShutdownTimeout bounds the drain of in-flight reviews (DefaultShutdownTimeout).
	ShutdownTimeout time.Duration
	// EnableHTTP2 offers h2 on the TLS listener; off by default (HTTP/2 rapid-reset hardening).
	EnableHTTP2 bool
	// MaxRequestBytes is the largest request body accepted (DefaultMaxRequestBytes, which is also
	// the most controller-runtime reads); a larger one is refused with 413 and not kept.
	MaxRequestBytes int64
	// MaxInFlightBytes bounds the request bodies read and evaluated at once, the webhook's memory
	// (DefaultMaxInFlightBytes); a request that does not fit waits up to the apiserver's timeout
	// for the ones before it, then gets 429. One request always fits, however large.
	MaxInFlightBytes int64
	// Logger receives the server's own lines; nil discards.
	Logger *slog.Logger
}

// Server runs the webhook and probe listeners until its context ends.
type Server struct {
	opts     Options
	certs    *certwatcher.CertWatcher
	webhook  *http.Server // serves controller-runtime's instrumented webhook mux over TLS
	ln       net.Listener
	conns    connTracker
	budget   *budget
	probeLn  net.Listener
	probe    *http.Server
	serving  atomic.Bool
	draining atomic.Bool
	closing  atomic.Bool // the TLS listener is being closed on purpose
	log      *slog.Logger
}

// New validates opts, loads the serving certificate and opens the webhook and probe listeners.
func New(opts Options) (*Server, error) {
	if opts.Handler == nil {
		return nil, errors.New("webhook server: a handler is required")
	}
	if opts.CertDir == "" {
		return nil, errors.New("webhook server: a certificate directory is required")
	}
	if opts.Path == "" {
		opts.Path = DefaultPath
	}
	if opts.Port == 0 {
		opts.Port = DefaultPort
	}
	if opts.CertName == "" {
		opts.CertName = DefaultCertName
	}
	if opts.KeyName == "" {
		opts.KeyName = DefaultKeyName
	}
	if opts.ProbeAddr == "" {
		opts.ProbeAddr = DefaultProbeAddr
	}
	if opts.ShutdownTimeout <= 0 {
		opts.ShutdownTimeout = DefaultShutdownTimeout
	}
	if opts.MaxRequestBytes <= 0 || opts.MaxRequestBytes > DefaultMaxRequestBytes {
		opts.MaxRequestBytes = DefaultMaxRequestBytes
	}
	if opts.MaxInFlightBytes <= 0 {
		opts.MaxInFlightBytes = DefaultMaxInFlightBytes
	}
	s := &Server{opts: opts, log: opts.Logger, budget: newBudget(opts.MaxInFlightBytes)}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}

	certPath, keyPath := filepath.Join(opts.CertDir, opts.CertName), filepath.Join(opts.CertDir, opts.KeyName)
	certs, err := certwatcher.New(certPath, keyPath)
	if err != nil {
		return nil, fmt.Errorf("load serving certificate from %s: %w", opts.CertDir, err)
	}
	if opts.CertPollInterval > 0 {
		certs = certs.WithWatchInterval(opts.CertPollInterval)
	}
	certs.RegisterCallback(func(c tls.Certificate) {
		attrs := []any{slog.String("cert", certPath)}
		if leaf, err := x509.ParseCertificate(c.Certificate[0]); err == nil {
			attrs = append(attrs, slog.String("subject", leaf.Subject.String()), slog.Time("not_after", leaf.NotAfter), slog.String("serial", leaf.SerialNumber.Text(16)))
		}
		s.log.Info("serving certificate loaded", attrs...)
	})
	s.certs = certs

	tlsCfg := &tls.Config{GetCertificate: certs.GetCertificate, MinVersion: tls.VersionTLS12, NextProtos: []string{"h2", "http/1.1"}}
	if !opts.EnableHTTP2 {
		tlsCfg.NextProtos = []string{"http/1.1"}
	}
	// controller-runtime's webhook server instruments the handler (its request, latency and
	// in-flight metrics); its mux is served here on a listener and an http.Server of our own, so
	// the shutdown can close the listener first and still answer what was accepted (see Run).
	wh := crwebhook.NewServer(crwebhook.Options{})
	// A handler that serves its own AdmissionReviews (webhook.Handler: it decodes only what it
	// reads) is served as it is; any other through controller-runtime's admission.Webhook.
	review, ok := opts.Handler.(http.Handler)
	if !ok {
		review = &admission.Webhook{Handler: opts.Handler}
	}
	wh.Register(opts.Path, s.guard(review))
	s.webhook = &http.Server{
		Handler:           wh.WebhookMux(),
		TLSConfig:         tlsCfg,
		MaxHeaderBytes:    1 << 20,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second, // the apiserver waits at most 30 s for a webhook
		IdleTimeout:       90 * time.Second,
		ConnState:         s.conns.track,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn), // e.g. TLS handshake errors: a caBundle that does not match
	}
	s.ln, err = net.Listen("tcp", net.JoinHostPort(opts.Host, strconv.Itoa(opts.Port)))
	if err != nil {
		return nil, fmt.Errorf("webhook listener: %w", err)
	}

	s.probeLn, err = net.Listen("tcp", opts.ProbeAddr)
	if err != nil {
		s.ln.Close()
		return nil, fmt.Errorf("probe listener %s: %w", opts.ProbeAddr, err)
	}
	mux := http.NewServeMux()
	mux.Handle("/healthz", http.StripPrefix("/healthz", &healthz.Handler{Checks: map[string]healthz.Checker{"ping": healthz.Ping}}))
	mux.Handle("/healthz/", http.StripPrefix("/healthz", &healthz.Handler{Checks: map[string]healthz.Checker{"ping": healthz.Ping}}))
	ready := &healthz.Handler{Checks: map[string]healthz.Checker{
		"webhook":  s.started,
		"shutdown": s.notDraining,
	}}
	mux.Handle("/readyz", http.StripPrefix("/readyz", ready))
	mux.Handle("/readyz/", http.StripPrefix("/readyz", ready))
	if opts.Gatherer != nil {
		mux.Handle("/metrics", promhttp.HandlerFor(opts.Gatherer, promhttp.HandlerOpts{}))
	}
	s.probe = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	return s, nil
}

// ProbeAddr is the address the probe listener is bound to.
func (s *Server) ProbeAddr() string { return s.probeLn.Addr().String() }

// WebhookAddr is the address the TLS listener is bound to.
func (s *Server) WebhookAddr() string { return s.ln.Addr().String() }

func (s *Server) started(*http.Request) error {
	if !s.serving.Load() {
		return errors.New("webhook server has not been started yet")
	}
	return nil
}

func (s *Server) notDraining(*http.Request) error {
	if s.draining.Load() {
		return errors.New("shutting down")
	}
	return nil
}

// Run serves until ctx ends, then shuts down gracefully:
//
//  1. /readyz fails, and every response from now on closes its connection, for ShutdownDelay
//     (the endpoints controller takes the pod out of the Service; clients reconnect elsewhere);
//  2. the TLS listener closes: new connections are refused;
//  3. the connections accepted before are still served: each sends its request, gets its
//     answer and is closed (net/http's own Shutdown would drop a request it reads after the
//     shutdown began), until only connections idle for a second or more remain;
//  4. the server shuts down: idle connections close, the reviews in flight finish.
//
// Steps 2 to 4 take at most ShutdownTimeout. Run returns an error when a listener fails or the
// drain does not finish in time.
func (s *Server) Run(ctx context.Context) error {
	certCtx, stopCerts := context.WithCancel(context.WithoutCancel(ctx))
	defer stopCerts()
	go func() {
		if err := s.certs.Start(certCtx); err != nil {
			s.log.Error("certificate watcher stopped", slog.String("error", err.Error()))
		}
	}()

	errc := make(chan error, 2)
	serveDone := make(chan struct{})
	go func() {
		defer close(serveDone)
		err := s.webhook.Serve(tls.NewListener(s.ln, s.webhook.TLSConfig))
		if errors.Is(err, http.ErrServerClosed) || (err != nil && s.closing.Load()) {
			return
		}
		errc <- fmt.Errorf("webhook server: %w", err)
	}()
	go func() {
		if err := s.probe.Serve(s.probeLn); err != nil && !errors.Is(err, http.ErrServerClosed) {
			errc <- fmt.Errorf("probe server: %w", err)
		}
	}()
	s.serving.Store(true)
	s.log.Info("serving", slog.String("webhook", s.WebhookAddr()), slog.String("path", s.opts.Path), slog.String("probes", s.ProbeAddr()))

	var runErr error
	select {
	case <-ctx.Done():
	case runErr = <-errc:
	}

	s.draining.Store(true)
	if runErr == nil && s.opts.ShutdownDelay > 0 {
		s.log.Info("shutting down: not ready, waiting for the endpoints to drop this pod", slog.Duration("delay", s.opts.ShutdownDelay))
		select {
		case <-time.After(s.opts.ShutdownDelay):
		case runErr = <-errc:
		}
	}
	s.log.Info("shutting down: closing the webhook listener and draining reviews in flight", slog.Duration("timeout", s.opts.ShutdownTimeout))
	drainCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.opts.ShutdownTimeout)
	defer cancel()
	s.closing.Store(true)
	if err := s.ln.Close(); err != nil && runErr == nil {
		runErr = fmt.Errorf("close the webhook listener: %w", err)
	}
	// Serve returns once its Accept fails on the closed listener; until then http.Server still
	// tracks the listener, and Shutdown would close it a second time and report that error
	// ("use of closed network connection") as if the drain had failed.
	select {
	case <-serveDone:
	case <-drainCtx.Done():
	}
	// Answer what was accepted: every response now closes its connection, so this ends once
	// each connection that is reading or serving a request has answered it.
	for s.conns.busy() > 0 && drainCtx.Err() == nil {
		time.Sleep(5 * time.Millisecond)
	}
	if err := s.webhook.Shutdown(drainCtx); err != nil && runErr == nil {
		switch {
		case errors.Is(err, net.ErrClosed):
			// The listener was closed above; nothing was left in flight.
		case drainCtx.Err() != nil:
			runErr = fmt.Errorf("reviews still in flight after %s", s.opts.ShutdownTimeout)
		default:
			runErr = fmt.Errorf("webhook server shutdown: %w", err)
		}
	}
	stopCerts()
	probeCtx, cancelProbe := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancelProbe()
	if err := s.probe.Shutdown(probeCtx); err != nil && runErr == nil {
		runErr = fmt.Errorf("probe server shutdown: %w", err)
	}
	if runErr == nil {
		s.log.Info("stopped")
	}
	return runErr
}

// connTracker knows the state of every connection of the webhook listener (http.Server's
// ConnState hook).
type connTracker struct {
	mu    sync.Mutex
	conns map[net.Conn]connState
}

type connState struct {
	state http.ConnState
	since time.Time
}

func (c *connTracker) track(conn net.Conn, state http.ConnState) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.conns == nil {
		c.conns = map[net.Conn]connState{}
	}
	switch state {
	case http.StateClosed, http.StateHijacked:
		delete(c.conns, conn)
	default:
		c.conns[conn] = connState{state, time.Now()}
	}
}

// idleGrace is how long a keep-alive connection must have been idle before the shutdown closes
// it: one that has just answered is likely to carry its client's next request (which then gets
// its answer and "Connection: close"); closing it could cut that request in the middle.
const idleGrace = time.Second

// busy counts the connections serving a request, about to send their first one (a new
// connection that has sent nothing for 5 s counts as idle, as in net/http's Shutdown), or idle
// for less than idleGrace. An HTTP/2 connection never leaves the new state here (net/http runs
// no hooks for it): it counts for its first 5 s, then the Shutdown's GOAWAY drains it.
func (c *connTracker) busy() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, st := range c.conns {
		switch age := time.Since(st.since); st.state {
		case http.StateActive:
			n++
		case http.StateNew:
			if age < 5*time.Second {
				n++
			}
		case http.StateIdle:
			if age < idleGrace {
				n++
			}
		}
	}
	return n
}
