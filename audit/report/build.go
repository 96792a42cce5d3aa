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
	// DigestAnnotation sums up a report's content (but the results' timestamps): Sync compares
	// it from a metadata-only list and rewrites only the reports whose content changed.
	DigestAnnotation = "ova-lint.openova.io/digest"
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

// Set is the reports of one audit, and what the limits left out. It holds each report in a
// compact form (its object and findings) and makes the API object only when asked (Report),
// so a run over many objects does not hold every report as a map at once.
type Set struct {
	API API
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

	opts    Options
	reports []built // by namespace and name
}

// built is one report before it is made: the object, its error and warning findings, and the
// summary over every result.
type built struct {
	obj      audit.Object
	name     string
	findings []*finding.Finding
	summary  orv1alpha1.ReportSummary
}

// Len is the number of reports.
func (s *Set) Len() int { return len(s.reports) }

// Key is the namespace and name of report i.
func (s *Set) Key(i int) (namespace, name string) {
	return s.reports[i].obj.Namespace, s.reports[i].name
}

// Report makes report i: an OpenReports or wgpolicyk8s object, results capped.
func (s *Set) Report(i int) (*unstructured.Unstructured, error) {
	b := s.reports[i]
	rs := results(b, s.opts)
	dropped := 0
	if len(rs) > s.opts.ResultLimit {
		dropped = len(rs) - s.opts.ResultLimit
		rs = rs[:s.opts.ResultLimit]
	}
	return makeReport(b, rs, dropped, s.opts)
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
	set := &Set{API: opts.API, Objects: len(res.Objects), Keep: map[schema.GroupKind]bool{}, opts: opts}
	for _, s := range res.Skipped {
		if s.Kind != "" {
			set.Keep[schema.GroupKind{Group: s.GroupVersionResource.Group, Kind: s.Kind}] = true
		}
	}
	byObject := map[objectKey][]*finding.Finding{}
	for i := range res.Findings {
		f := &res.Findings[i]
		if f.Severity != severityError && f.Severity != severityWarning {
			continue // info findings are notes, not results (as in lint's text output)
		}
		k := objectKey{f.Kind, f.Namespace, f.Name}
		byObject[k] = append(byObject[k], f)
	}

	for _, o := range res.Objects {
		if o.UID == "" {
			set.DroppedReports++
			continue
		}
		b := built{obj: o, name: Name(string(o.UID)), findings: byObject[objectKey{o.Kind, o.Namespace, o.Name}]}
		found := map[string]bool{}
		for _, f := range b.findings {
			found[f.Rule] = true
			if f.Severity == severityWarning {
				b.summary.Warn++
			} else {
				b.summary.Fail++
			}
		}
		for _, rule := range opts.Rules {
			if passes(rule, o.Kind, found) {
				b.summary.Pass++
			}
		}
		set.reports = append(set.reports, b)
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
	slices.SortStableFunc(set.reports, func(a, b built) int {
		return cmp.Or(cmp.Compare(rank(a.summary), rank(b.summary)),
			cmp.Compare(a.obj.Namespace, b.obj.Namespace), cmp.Compare(a.obj.Kind, b.obj.Kind),
			cmp.Compare(a.obj.Name, b.obj.Name), cmp.Compare(a.obj.UID, b.obj.UID))
	})
	if len(set.reports) > opts.ReportLimit {
		set.DroppedReports += len(set.reports) - opts.ReportLimit
		set.reports = slices.Clip(set.reports[:opts.ReportLimit])
	}
	for _, b := range set.reports {
		if n := b.summary.Fail + b.summary.Warn + b.summary.Pass; n > opts.ResultLimit {
			set.DroppedResults += n - opts.ResultLimit
			set.TruncatedReports++
		}
	}
	slices.SortFunc(set.reports, func(a, b built) int {
		return cmp.Or(cmp.Compare(a.obj.Namespace, b.obj.Namespace), cmp.Compare(a.name, b.name))
	})
	return set, nil
}

// passes says whether rule is a pass on an object of kind whose failing rules are found.
func passes(rule *engine.Rule, kind string, found map[string]bool) bool {
	return !found[rule.ID] && !rule.Disabled && applies(rule, kind)
}

// results are the object's results, failures first, then warnings, then passes.
func results(b built, opts Options) []orv1alpha1.ReportResult {
	stamp := metav1.Timestamp{Seconds: opts.Now.Unix()}
	out := make([]orv1alpha1.ReportResult, 0, b.summary.Fail+b.summary.Warn+b.summary.Pass)
	found := map[string]bool{}
	for _, f := range b.findings {
		found[f.Rule] = true
		r := orv1alpha1.ReportResult{
			Source: Source, Policy: f.Rule, Rule: f.Rule, Timestamp: stamp,
			Result: "fail", Severity: "high", Description: f.Message,
		}
		if f.Severity == severityWarning {
			r.Result, r.Severity = "warn", "medium"
		}
		if f.Path != "" {
			r.Properties = map[string]string{PathProperty: f.Path}
		}
		out = append(out, r)
	}
	for _, rule := range opts.Rules {
		if passes(rule, b.obj.Kind, found) {
			out = append(out, orv1alpha1.ReportResult{
				Source: Source, Policy: rule.ID, Rule: rule.ID, Timestamp: stamp,
				Result: "pass", Severity: severity(rule.Severity), Description: rule.Title,
			})
		}
	}
	order := map[orv1alpha1.Result]int{"fail": 0, "warn": 1, "pass": 2}
	slices.SortStableFunc(out, func(a, b orv1alpha1.ReportResult) int {
		return cmp.Or(cmp.Compare(order[a.Result], order[b.Result]), cmp.Compare(a.Policy, b.Policy),
			cmp.Compare(a.Properties[PathProperty], b.Properties[PathProperty]), cmp.Compare(a.Description, b.Description))
	})
	return out
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

func makeReport(b built, rs []orv1alpha1.ReportResult, dropped int, opts Options) (*unstructured.Unstructured, error) {
	o := b.obj
	namespaced := o.Namespace != ""
	gvr, kind := opts.API.Resource(namespaced)
	rep := &orv1alpha1.Report{
		TypeMeta: metav1.TypeMeta{APIVersion: gvr.GroupVersion().String(), Kind: kind},
		ObjectMeta: metav1.ObjectMeta{
			Name:      b.name,
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
		Summary:       b.summary,
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
	u := &unstructured.Unstructured{Object: m}
	ann := u.GetAnnotations()
	if ann == nil {
		ann = map[string]string{}
	}
	ann[DigestAnnotation] = digest(u)
	u.SetAnnotations(ann)
	return u, nil
}

// String summarises the set for a log line.
func (s *Set) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d objects, %d reports", s.Objects, len(s.reports))
	if s.DroppedReports > 0 {
		fmt.Fprintf(&b, ", %d reports dropped (report limit)", s.DroppedReports)
	}
	if s.DroppedResults > 0 {
		fmt.Fprintf(&b, ", %d results dropped from %d reports (result limit)", s.DroppedResults, s.TruncatedReports)
	}
	return b.String()
}
