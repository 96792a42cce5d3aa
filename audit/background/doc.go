// Package background runs the audit inside `ova-lint serve`: every Options.Interval, on the one
// replica that holds a coordination.k8s.io Lease (client-go leader election), it audits the
// cluster (audit.Run), builds one report per audited object (report.Build) and writes them
// (report.Sync), and publishes the outcome as Prometheus metrics. Admission does not depend on
// it: every replica keeps serving whether it leads, waits or fails to audit.
package background
