package report

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	orv1alpha1 "github.com/openreports/reports-api/apis/openreports.io/v1alpha1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/openova-io/ova-lint/audit"
	"github.com/openova-io/ova-lint/linter/engine"
	"github.com/openova-io/ova-lint/linter/finding"
)

// API is the report API written.
type API string

// The report APIs.
const (
	// OpenReports writes openreports.io/v1alpha1 Report and ClusterReport.
	OpenReports API = "openreports"
	// WGPolicy writes wgpolicyk8s.io/v1alpha2 PolicyReport and ClusterPolicyReport.
	WGPolicy API = "wgpolicyk8s"
)

// Defaults of Options.
const (
	DefaultResultLimit = 100
	DefaultReportLimit = 10000
)

// Labels, annotations and names of the reports.
const (
	// Source is the source of every report and result.
	Source = "ova-lint"
	// ManagedByLabel marks the reports ova-lint writes (value Source); Sync only ever touches
	// reports carrying it.
	ManagedByLabel = "app.kubernetes.io/managed-by"
	// NamePrefix and the object's uid make the report's name.
	NamePrefix = "ova-lint-"
	// ResultsDroppedAnnotation counts the results left out of a report by the result limit.
	ResultsDroppedAnnotation = "ova-lint.openova.io/results-dropped"
	// PathProperty is the result property holding the live object's field path.
	PathProperty = "path"
)

// Severities of findings and rules.
const (
	severityError   = "error"
	severityWarning = "warning"
)

// ParseAPI checks a --report-api value.
func ParseAPI(s string) (API, error) {
	switch API(s) {
	case OpenReports, WGPolicy:
		return API(s), nil
	}
	return "", fmt.Errorf("report API %q: want %s or %s", s, OpenReports, WGPolicy)
}

// Resource returns the resource and kind of the API's report for a namespaced object
// (namespaced true) or a cluster-scoped one.
func (a API) Resource(namespaced bool) (schema.GroupVersionResource, string) {
	switch {
	case a == WGPolicy && namespaced:
		return schema.GroupVersionResource{Group: "wgpolicyk8s.io", Version: "v1alpha2", Resource: "policyreports"}, "PolicyReport"
	case a == WGPolicy:
		return schema.GroupVersionResource{Group: "wgpolicyk8s.io", Version: "v1alpha2", Resource: "clusterpolicyreports"}, "ClusterPolicyReport"
	case namespaced:
		return orv1alpha1.SchemeGroupVersion.WithResource("reports"), "Report"
	}
	return orv1alpha1.SchemeGroupVersion.WithResource("clusterreports"), "ClusterReport"
}

// Options say how to build the reports.
type Options struct {
	// API is the report API; "" means OpenReports.
	API API
	// ResultLimit caps the results of one report (failures first, then warnings, then passes);
	// 0 means DefaultResultLimit. The summary counts every result.
	ResultLimit int
	// ReportLimit caps the reports of one run (objects with failures first, then warnings, then
	// clean ones, each by namespace, kind and name); 0 means DefaultReportLimit.
	ReportLimit int
	// Rules are the rules the audit evaluated: one that applies to an object's kind and found
	// nothing there is a pass in that object's report.
	Rules []*engine.Rule
	// Now stamps the results (Sync keeps the stamp of a result that did not change); zero means
	// time.Now().
	Now time.Time
}

// Set is the reports of one audit, and what the limits left out.
type Set struct {
	API API
	// Reports are sorted by namespace and name.
	Reports []*unstructured.Unstructured
	// Objects counts the objects audited.
	Objects int
	// DroppedReports counts the objects left without a report by the report limit (their old
	// reports are deleted as stale: an out-of-date report is worse than none).
	DroppedReports int
	// DroppedResults counts the results left out by the result limit, over all reports;
	// TruncatedReports counts the reports that lost results.
	DroppedResults, TruncatedReports int
	// Keep are the kinds (group/Kind) the audit could not list: their reports are not stale.
	Keep map[schema.GroupKind]bool
}

// objectKey matches findings to objects (findings name kind, namespace and name).
type objectKey struct{ kind, namespace, name string }

// Build makes the reports of res.
func Build(res *audit.Result, opts Options) (*Set, error) {
	if opts.API == "" {
		opts.API = OpenReports
	}
	if _, err := ParseAPI(string(opts.API)); err != nil {
		return nil, err
	}
	if opts.ResultLimit <= 0 {
		opts.ResultLimit = DefaultResultLimit
	}
	if opts.ReportLimit <= 0 {
		opts.ReportLimit = DefaultReportLimit
	}
	if opts.Now.IsZero() {
		opts.Now = time.Now()
	}
	set := &Set{API: opts.API, Objects: len(res.Objects), Keep: map[schema.GroupKind]bool{}}
	for _, s := range res.Skipped {
		if s.Kind != "" {
			set.Keep[schema.GroupKind{Group: s.GroupVersionResource.Group, Kind: s.Kind}] = true
		}
	}
	byObject := map[objectKey][]finding.Finding{}
	for _, f := range res.Findings {
		if f.Severity != severityError && f.Severity != severityWarning {
			continue // info findings are notes, not results (as in lint's text output)
		}
		k := objectKey{f.Kind, f.Namespace, f.Name}
		byObject[k] = append(byObject[k], f)
	}

	type candidate struct {
		obj     audit.Object
		results []orv1alpha1.ReportResult
		summary orv1alpha1.ReportSummary
	}
	var cands []candidate
	for _, o := range res.Objects {
		if o.UID == "" {
			set.DroppedReports++
			continue
		}
		rs, sum := results(o, byObject[objectKey{o.Kind, o.Namespace, o.Name}], opts)
		cands = append(cands, candidate{o, rs, sum})
	}
	rank := func(s orv1alpha1.ReportSummary) int {
		switch {
		case s.Fail > 0:
			return 0
		case s.Warn > 0:
			return 1
		}
		return 2
	}
	slices.SortStableFunc(cands, func(a, b candidate) int {
		return cmp.Or(cmp.Compare(rank(a.summary), rank(b.summary)),
			cmp.Compare(a.obj.Namespace, b.obj.Namespace), cmp.Compare(a.obj.Kind, b.obj.Kind),
			cmp.Compare(a.obj.Name, b.obj.Name), cmp.Compare(a.obj.UID, b.obj.UID))
	})
	if len(cands) > opts.ReportLimit {
		set.DroppedReports += len(cands) - opts.ReportLimit
		cands = cands[:opts.ReportLimit]
	}
	for _, c := range cands {
		rs := c.results
		dropped := 0
		if len(rs) > opts.ResultLimit {
			dropped = len(rs) - opts.ResultLimit
			rs = rs[:opts.ResultLimit]
			set.DroppedResults += dropped
			set.TruncatedReports++
		}
		u, err := makeReport(c.obj, rs, c.summary, dropped, opts)
		if err != nil {
			return nil, err
		}
		set.Reports = append(set.Reports, u)
	}
	slices.SortFunc(set.Reports, func(a, b *unstructured.Unstructured) int {
		return cmp.Or(cmp.Compare(a.GetNamespace(), b.GetNamespace()), cmp.Compare(a.GetName(), b.GetName()))
	})
	return set, nil
}

// results are the object's results, failures first, then warnings, then passes, and their
// summary.
func results(o audit.Object, fs []finding.Finding, opts Options) ([]orv1alpha1.ReportResult, orv1alpha1.ReportSummary) {
	var sum orv1alpha1.ReportSummary
	stamp := metav1.Timestamp{Seconds: opts.Now.Unix()}
	var out []orv1alpha1.ReportResult
	found := map[string]bool{}
	for _, f := range fs {
		found[f.Rule] = true
		r := orv1alpha1.ReportResult{
			Source: Source, Policy: f.Rule, Rule: f.Rule, Timestamp: stamp,
			Result: "fail", Severity: "high", Description: f.Message,
		}
		if f.Severity == severityWarning {
			r.Result, r.Severity = "warn", "medium"
			sum.Warn++
		} else {
			sum.Fail++
		}
		if f.Path != "" {
			r.Properties = map[string]string{PathProperty: f.Path}
		}
		out = append(out, r)
	}
	for _, rule := range opts.Rules {
		if found[rule.ID] || rule.Disabled || !applies(rule, o.Kind) {
			continue
		}
		out = append(out, orv1alpha1.ReportResult{
			Source: Source, Policy: rule.ID, Rule: rule.ID, Timestamp: stamp,
			Result: "pass", Severity: severity(rule.Severity), Description: rule.Title,
		})
		sum.Pass++
	}
	order := map[orv1alpha1.Result]int{"fail": 0, "warn": 1, "pass": 2}
	slices.SortStableFunc(out, func(a, b orv1alpha1.ReportResult) int {
		return cmp.Or(cmp.Compare(order[a.Result], order[b.Result]), cmp.Compare(a.Policy, b.Policy),
			cmp.Compare(a.Properties[PathProperty], b.Properties[PathProperty]), cmp.Compare(a.Description, b.Description))
	})
	return out, sum
}

// applies says whether rule looks at objects of kind: no kinds listed means every kind.
func applies(rule *engine.Rule, kind string) bool {
	return rule.Kinds == nil || slices.Contains(rule.Kinds, kind)
}

// severity maps a rule's severity to the reports' scale.
func severity(s string) orv1alpha1.ResultSeverity {
	switch s {
	case severityError:
		return "high"
	case severityWarning:
		return "medium"
	}
	return "info"
}

// Name is the report name of the object with this uid.
func Name(uid string) string { return NamePrefix + uid }

func makeReport(o audit.Object, rs []orv1alpha1.ReportResult, sum orv1alpha1.ReportSummary, dropped int, opts Options) (*unstructured.Unstructured, error) {
	namespaced := o.Namespace != ""
	gvr, kind := opts.API.Resource(namespaced)
	rep := &orv1alpha1.Report{
		TypeMeta: metav1.TypeMeta{APIVersion: gvr.GroupVersion().String(), Kind: kind},
		ObjectMeta: metav1.ObjectMeta{
			Name:      Name(string(o.UID)),
			Namespace: o.Namespace,
			Labels:    map[string]string{ManagedByLabel: Source},
			OwnerReferences: []metav1.OwnerReference{{
				APIVersion: o.APIVersion, Kind: o.Kind, Name: o.Name, UID: o.UID,
			}},
		},
		Source: Source,
		Scope: &corev1.ObjectReference{
			APIVersion: o.APIVersion, Kind: o.Kind, Namespace: o.Namespace, Name: o.Name, UID: o.UID,
		},
		Configuration: &orv1alpha1.ReportConfiguration{Limits: orv1alpha1.Limits{MaxResults: opts.ResultLimit}},
		Summary:       sum,
		Results:       rs,
	}
	if dropped > 0 {
		rep.Annotations = map[string]string{ResultsDroppedAnnotation: strconv.Itoa(dropped)}
	}
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(rep)
	if err != nil {
		return nil, fmt.Errorf("report of %s %s/%s: %w", o.Kind, o.Namespace, o.Name, err)
	}
	delete(m["metadata"].(map[string]any), "creationTimestamp")
	if opts.API == WGPolicy {
		// v1alpha2 has neither a report-level source nor a configuration.
		delete(m, "source")
		delete(m, "configuration")
	}
	return &unstructured.Unstructured{Object: m}, nil
}

// String summarises the set for a log line.
func (s *Set) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d objects, %d reports", s.Objects, len(s.Reports))
	if s.DroppedReports > 0 {
		fmt.Fprintf(&b, ", %d reports dropped (report limit)", s.DroppedReports)
	}
	if s.DroppedResults > 0 {
		fmt.Fprintf(&b, ", %d results dropped from %d reports (result limit)", s.DroppedResults, s.TruncatedReports)
	}
	return b.String()
}
