// Package server serves an admission handler over TLS: the certificate from a directory,
// reloaded when the files change (certwatcher); /healthz, /readyz and Prometheus /metrics on a
// separate plain-HTTP listener; request bodies bounded before they are read; and a graceful
// shutdown that first turns not-ready, then stops accepting connections and answers every
// request it accepted (see Server.Run).
//
// The handler is registered on controller-runtime's webhook server, which instruments it
// (controller_runtime_webhook_* metrics); its mux is served by an http.Server of this package, so
// that the shutdown controls the listener and the connections itself.
//
// `ova-lint serve` (internal/cli/serve.go) wires it to webhook.Handler; the Helm chart in chart/
// deploys it. The reviews in flight survive the drain because the handler evaluates on a context
// detached from the request's.
package server
