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
	// Logger receives the server's own lines; nil discards.
	Logger *slog.Logger
}

// Server runs the webhook and probe listeners until its context ends.
type Server struct {
	opts     Options
	webhook  crwebhook.Server
	certs    *certwatcher.CertWatcher
	probeLn  net.Listener
	probe    *http.Server
	draining atomic.Bool
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

	tlsOpts := []func(*tls.Config){func(c *tls.Config) {
		c.GetCertificate = certs.GetCertificate
		c.MinVersion = tls.VersionTLS12
		if !opts.EnableHTTP2 {
			c.NextProtos = []string{"http/1.1"}
		}
	}}
	s.webhook = crwebhook.NewServer(crwebhook.Options{
		Host:     opts.Host,
		Port:     opts.Port,
		CertDir:  opts.CertDir,
		CertName: opts.CertName,
		KeyName:  opts.KeyName,
		TLSOpts:  tlsOpts,
	})
	s.webhook.Register(opts.Path, &admission.Webhook{Handler: opts.Handler})

	s.probeLn, err = net.Listen("tcp", opts.ProbeAddr)
	if err != nil {
		return nil, fmt.Errorf("probe listener %s: %w", opts.ProbeAddr, err)
	}
	mux := http.NewServeMux()
	mux.Handle("/healthz", http.StripPrefix("/healthz", &healthz.Handler{Checks: map[string]healthz.Checker{"ping": healthz.Ping}}))
	mux.Handle("/healthz/", http.StripPrefix("/healthz", &healthz.Handler{Checks: map[string]healthz.Checker{"ping": healthz.Ping}}))
	ready := &healthz.Handler{Checks: map[string]healthz.Checker{
		"webhook":  s.webhook.StartedChecker(),
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

// WebhookAddr is the address the TLS listener binds to.
func (s *Server) WebhookAddr() string {
	return net.JoinHostPort(s.opts.Host, fmt.Sprint(s.opts.Port))
}

func (s *Server) notDraining(*http.Request) error {
	if s.draining.Load() {
		return errors.New("shutting down")
	}
	return nil
}

// Run serves until ctx ends, then shuts down gracefully: /readyz fails for ShutdownDelay, the TLS
// listener closes and the reviews in flight finish (up to ShutdownTimeout). It returns an error
// when a listener fails or the drain does not finish in time.
func (s *Server) Run(ctx context.Context) error {
	// The webhook server gets its own context: cancelling it is the start of the drain, which
	// must come after the shutdown delay, not with the signal.
	whCtx, stopWebhook := context.WithCancel(context.WithoutCancel(ctx))
	defer stopWebhook()

	errc := make(chan error, 3)
	go func() {
		if err := s.certs.Start(whCtx); err != nil {
			s.log.Error("certificate watcher stopped", slog.String("error", err.Error()))
		}
	}()
	go func() {
		if err := s.webhook.Start(whCtx); err != nil {
			errc <- fmt.Errorf("webhook server: %w", err)
			return
		}
		errc <- nil
	}()
	go func() {
		if err := s.probe.Serve(s.probeLn); err != nil && !errors.Is(err, http.ErrServerClosed) {
			errc <- fmt.Errorf("probe server: %w", err)
		}
	}()
	s.log.Info("serving", slog.String("webhook", s.WebhookAddr()), slog.String("path", s.opts.Path), slog.String("probes", s.ProbeAddr()))

	var runErr error
	select {
	case <-ctx.Done():
	case runErr = <-errc:
		if runErr == nil {
			runErr = errors.New("webhook server stopped unexpectedly")
		}
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
	stopWebhook()
	if runErr == nil {
		select {
		case runErr = <-errc:
		case <-time.After(s.opts.ShutdownTimeout):
			runErr = fmt.Errorf("reviews still in flight after %s", s.opts.ShutdownTimeout)
		}
	}
	probeCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := s.probe.Shutdown(probeCtx); err != nil && runErr == nil {
		runErr = fmt.Errorf("probe server shutdown: %w", err)
	}
	if runErr == nil {
		s.log.Info("stopped")
	}
	return runErr
}
