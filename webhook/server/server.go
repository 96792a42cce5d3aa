package server

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
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
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
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
	// DefaultMaxRequestBytes is the largest AdmissionReview read, controller-runtime's own limit:
	// an UPDATE carries two objects of at most 3 MiB each (the apiserver's request body limit)
	// plus the request's other fields.
	DefaultMaxRequestBytes = 7 << 20
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
	// the most controller-runtime reads); a larger one is refused with 413 before it is read.
	MaxRequestBytes int64
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
	probeLn  net.Listener
	probe    *http.Server
	serving  atomic.Bool
	draining atomic.Bool
	closing  atomic.Bool // the TLS listener is being closed on purpose
	log      *slog.Logger
}

// New validates opts, loads the serving certificate and opens the probe listener.
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
	s := &Server{opts: opts, log: opts.Logger}
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
	wh.Register(opts.Path, s.guard(&admission.Webhook{Handler: opts.Handler}))
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

// guard is what the webhook listener serves in front of the admission handler:
//
//   - A body over MaxRequestBytes is refused with 413 before it is read (controller-runtime
//     would read 7 MiB of it into memory first); a body of unknown length (chunked) is read up
//     to the limit, then refused the same way.
//   - While draining, every response closes its connection ("Connection: close"): the client
//     opens its next connection to a ready replica, instead of reusing one that the listener's
//     shutdown closes under a request it is writing (an accepted request that gets no answer).
func (s *Server) guard(next http.Handler) http.Handler {
	limit := s.opts.MaxRequestBytes
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.draining.Load() {
			w.Header().Set("Connection", "close")
		}
		if r.ContentLength > limit {
			s.tooLarge(w, r, r.ContentLength)
			return
		}
		if r.ContentLength < 0 && r.Body != nil && r.Body != http.NoBody {
			body, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
			if err != nil {
				w.Header().Set("Connection", "close")
				writeStatus(w, http.StatusBadRequest, metav1.StatusReasonBadRequest, "reading the request body failed")
				return
			}
			if int64(len(body)) > limit {
				s.tooLarge(w, r, -1)
				return
			}
			r.Body, r.ContentLength = io.NopCloser(bytes.NewReader(body)), int64(len(body))
		}
		next.ServeHTTP(w, r)
	})
}

// tooLarge refuses a request body over the limit (size -1: of unknown length) without reading it,
// and closes the connection.
func (s *Server) tooLarge(w http.ResponseWriter, r *http.Request, size int64) {
	s.log.Warn("request refused: body over the limit", slog.String("remote", r.RemoteAddr),
		slog.Int64("bytes", size), slog.Int64("limit", s.opts.MaxRequestBytes))
	w.Header().Set("Connection", "close")
	what := "the request body"
	if size >= 0 {
		what = fmt.Sprintf("the request body of %d bytes", size)
	}
	writeStatus(w, http.StatusRequestEntityTooLarge, metav1.StatusReasonRequestEntityTooLarge,
		fmt.Sprintf("%s is over the limit of %d bytes", what, s.opts.MaxRequestBytes))
}

// writeStatus answers with a Kubernetes Status, which the apiserver reads from a failed webhook
// call.
func writeStatus(w http.ResponseWriter, code int32, reason metav1.StatusReason, msg string) {
	body, _ := json.Marshal(metav1.Status{
		TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Status"},
		Status:   metav1.StatusFailure, Code: code, Reason: reason, Message: msg,
	})
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(int(code))
	_, _ = w.Write(body)
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
//     shutdown began), until only idle connections remain;
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
	go func() {
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
	// Answer what was accepted: every response now closes its connection, so this ends once
	// each connection that is reading or serving a request has answered it.
	for s.conns.busy() > 0 && drainCtx.Err() == nil {
		time.Sleep(5 * time.Millisecond)
	}
	if err := s.webhook.Shutdown(drainCtx); err != nil && runErr == nil {
		runErr = fmt.Errorf("reviews still in flight after %s", s.opts.ShutdownTimeout)
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

// busy counts the connections serving a request or about to send their first one (a new
// connection that has sent nothing for 5 s counts as idle, as in net/http's Shutdown). An HTTP/2
// connection never leaves the new state here (net/http runs no hooks for it): it counts for its
// first 5 s, then the Shutdown's GOAWAY drains it.
func (c *connTracker) busy() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, st := range c.conns {
		if st.state == http.StateActive || (st.state == http.StateNew && time.Since(st.since) < 5*time.Second) {
			n++
		}
	}
	return n
}
