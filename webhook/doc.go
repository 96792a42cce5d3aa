// Package webhook is ova-lint's admission door: a controller-runtime admission.Handler that
// evaluates an AdmissionReview's object with exactly the linter's engine and configuration, and
// turns the verdict into an admission response (DESIGN.md §1, §3, §4).
//
// What it decides:
//
//   - Flux custom resources (GitRepository, OCIRepository, HelmRepository, Kustomization,
//     HelmRelease) are checked whoever writes them; any other object only when Flux applied it,
//     recognised by the kustomize-controller or helm-controller name label.
//   - CREATE and UPDATE are checked, dry-run requests too; DELETE and CONNECT are never blocked.
//   - An error finding denies the request with a message naming the rule id, the object and the
//     fix (and one status cause per finding, Type "ova-lint/<rule-id>", Field the field path); a
//     warning finding is an admission warning; an info finding is only logged and counted.
//   - Only rules whose METADATA runs include "admission" count; repo-scope rules among them run
//     on the facts config supplies (single-gitea against params.gitea.host).
//   - Never checked: kube-system, the webhook's own namespace, any namespace listed as exempt,
//     and Secrets that controllers create (Helm release storage, service-account and bootstrap
//     tokens, Secrets with a controller ownerReference such as ESO targets, cert-manager and ESO
//     Secrets that do not carry Flux's labels).
//   - An UPDATE is not blocked for an error that the stored object already had (same rule, field
//     and message): it comes back as a warning, so Flux can still add finalizers, annotate for a
//     reconcile or suspend an object that predates the webhook. A new error is denied.
//
// The evaluation is detached from the HTTP request's cancellation (with its own timeout), so a
// graceful shutdown drains in-flight reviews instead of failing them. Logs name the request
// (uid, operation, kind, namespace, name) and the rule ids, never object data or messages.
//
// The server that serves the handler over TLS is in the sibling package webhook/server.
package webhook
