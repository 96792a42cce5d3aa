// Package report turns an audit (audit.Result) into policy reports and keeps them in the cluster.
//
// Build makes one report per audited object, violating or clean: an OpenReports
// (openreports.io/v1alpha1) Report for a namespaced object and a ClusterReport for a
// cluster-scoped one, or with API WGPolicy the wgpolicyk8s.io/v1alpha2 PolicyReport and
// ClusterPolicyReport that older readers (Policy Reporter, the Trivy operator) expect. Each report
// is named from its object's uid, scoped to it and owned by it (ownerReferences), so the garbage
// collector deletes it with the object; it is labelled app.kubernetes.io/managed-by=ova-lint.
// Results are capped per report and reports per run, and what was dropped is counted.
//
// Sync writes a built set: it creates the missing reports, updates only those whose content
// changed (a steady cluster makes no writes), and deletes the stale ones (objects no longer
// audited, reports left from an earlier run), except for kinds the audit could not list.
package report
