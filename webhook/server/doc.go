// Package server serves an admission handler on controller-runtime's webhook server: TLS from a
// certificate directory, reloaded when the files change (certwatcher); /healthz, /readyz and
// Prometheus /metrics on a separate plain-HTTP listener; and a graceful shutdown that first turns
// not-ready, then stops accepting connections and drains the reviews in flight.
//
// `ova-lint serve` (internal/cli/serve.go) wires it to webhook.Handler; the Helm chart in chart/
// deploys it. The reviews in flight survive the drain because the handler evaluates on a context
// detached from the request's (controller-runtime cancels the server's base context first).
package server
