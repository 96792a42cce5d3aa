// Package audit lints what is already stored in a cluster: the objects the admission webhook
// guards (Flux's custom resources, and the objects Flux's controllers applied), listed with
// client-go (discovery, paged lists, client-side rate limits) and evaluated with the same engine,
// configuration, origin and scoping as the webhook. The repo-scope rules that can run on live
// objects (single-gitea, flux-depends-on, flux-source-ref) run over the whole listing.
//
// A finding names the object (kind, namespace, name) and the field path instead of a file and a
// line. Secret values are replaced by placeholders as soon as an object is decoded (see Scrub):
// no value reaches a finding, a log or a report.
//
// One file per job: discover.go finds what to list, list.go lists it page by page, scrub.go
// drops Secret values, evaluate.go runs the engine on one object, repo.go runs the repo-scope
// rules over the facts of every object, transport.go counts API requests.
package audit
