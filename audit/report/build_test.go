package report

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/runtime/schema"
	sigsyaml "sigs.k8s.io/yaml"

	"github.com/openova-io/ova-lint/audit"
	"github.com/openova-io/ova-lint/linter/engine"
	"github.com/openova-io/ova-lint/linter/finding"
)

var updateGolden = flag.Bool("update", false, "rewrite the golden files under testdata/")

// rules are a small catalogue: two Kustomization rules, a GitRepository rule, a rule for
// every kind, a disabled one and one with no kinds (produced in Go).
var rules = []*engine.Rule{
	{ID: "kustomization-prune", Title: "Flux Kustomization prunes what Git no longer holds", Severity: "error", Kinds: []string{"Kustomization"}},
	{ID: "sync-interval", Title: "Flux objects reconcile at the platform's sync interval", Severity: "warning", Kinds: []string{"GitRepository", "Kustomization"}},
	{ID: "gitea-url", Title: "GitRepository URL follows the Sovereign Gitea pattern", Severity: "error", Kinds: []string{"GitRepository"}},
	{ID: "no-sops", Title: "No SOPS anywhere", Severity: "error"},
	{ID: "sealed-secret", Title: "No SealedSecret objects", Severity: "error", Kinds: []string{"SealedSecret", "Kustomization"}, Disabled: true},
	{ID: "waiver-invalid", Title: "Waiver is well-formed", Severity: "error", Kinds: []string{}},
}

func result() *audit.Result {
	return &audit.Result{
		Objects: []audit.Object{
			{APIVersion: "source.toolkit.fluxcd.io/v1", Kind: "GitRepository", Namespace: "flux-system", Name: "clean", UID: "0b7c1a52-7f0e-4d5e-9a57-000000000001"},
			{APIVersion: "kustomize.toolkit.fluxcd.io/v1", Kind: "Kustomization", Namespace: "apps", Name: "bad", UID: "0b7c1a52-7f0e-4d5e-9a57-000000000002"},
			{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "ClusterRole", Name: "applied", UID: "0b7c1a52-7f0e-4d5e-9a57-000000000003"},
			{APIVersion: "v1", Kind: "ConfigMap", Namespace: "apps", Name: "no-uid"},
		},
		Findings: []finding.Finding{
			{Rule: "kustomization-prune", Severity: "error", Kind: "Kustomization", Namespace: "apps", Name: "bad", Path: "spec.prune",
				Message: "Kustomization bad has spec.prune false; fix: set spec.prune: true [source: platform Flux README]"},
			{Rule: "sync-interval", Severity: "warning", Kind: "Kustomization", Namespace: "apps", Name: "bad", Path: "spec.interval",
				Message: "Kustomization bad reconciles every 1h, not 10m; fix: set spec.interval: 10m [source: platform Flux README]"},
			{Rule: "schema", Severity: "info", Kind: "Kustomization", Namespace: "apps", Name: "bad", Message: "an info note is not a result"},
		},
		Skipped: []audit.Skipped{{GroupVersionResource: schema.GroupVersionResource{Group: "bitnami.com", Version: "v1alpha1", Resource: "sealedsecrets"}, Kind: "SealedSecret", Reason: "forbidden"}},
	}
}

func TestBuild(t *testing.T) {
	now := time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name string
		opts Options
		// dropped reports and results, truncated reports
		reports, results, truncated int
	}{
		{name: "openreports", opts: Options{Rules: rules, Now: now}, reports: 1},
		{name: "wgpolicyk8s", opts: Options{API: WGPolicy, Rules: rules, Now: now}, reports: 1},
		// Two reports, one result each: the violating Kustomization first, then by namespace.
		{name: "limits", opts: Options{Rules: rules, Now: now, ReportLimit: 2, ResultLimit: 1}, reports: 2, results: 2, truncated: 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			set, err := Build(result(), tc.opts)
			require.NoError(t, err)
			assert.Equal(t, 4, set.Objects)
			assert.Equal(t, tc.reports, set.DroppedReports, "dropped reports (the object without a uid, and the report limit)")
			assert.Equal(t, tc.results, set.DroppedResults)
			assert.Equal(t, tc.truncated, set.TruncatedReports)
			assert.Equal(t, map[schema.GroupKind]bool{{Group: "bitnami.com", Kind: "SealedSecret"}: true}, set.Keep)
			var docs []string
			for i := range set.Len() {
				r, err := set.Report(i)
				require.NoError(t, err)
				ns, name := set.Key(i)
				assert.Equal(t, [2]string{ns, name}, [2]string{r.GetNamespace(), r.GetName()})
				b, err := sigsyaml.Marshal(r.Object)
				require.NoError(t, err)
				docs = append(docs, string(b))
			}
			got := "# " + set.String() + "\n" + strings.Join(docs, "---\n")
			golden := filepath.Join("testdata", tc.name+".yaml")
			if *updateGolden {
				require.NoError(t, os.WriteFile(golden, []byte(got), 0o644))
			}
			want, err := os.ReadFile(golden)
			require.NoError(t, err)
			assert.Equal(t, string(want), got, "go test ./audit/report -update rewrites %s", golden)
		})
	}
}

func TestBuildRejectsUnknownAPI(t *testing.T) {
	_, err := Build(result(), Options{API: "policy.k8s.io"})
	assert.ErrorContains(t, err, `report API "policy.k8s.io": want openreports or wgpolicyk8s`)
}

func TestParseAPI(t *testing.T) {
	for in, want := range map[string]API{"openreports": OpenReports, "wgpolicyk8s": WGPolicy} {
		got, err := ParseAPI(in)
		require.NoError(t, err)
		assert.Equal(t, want, got)
	}
	_, err := ParseAPI("")
	assert.Error(t, err)
}

func TestResource(t *testing.T) {
	for _, tc := range []struct {
		api        API
		namespaced bool
		resource   string
		kind       string
	}{
		{OpenReports, true, "openreports.io/v1alpha1, Resource=reports", "Report"},
		{OpenReports, false, "openreports.io/v1alpha1, Resource=clusterreports", "ClusterReport"},
		{WGPolicy, true, "wgpolicyk8s.io/v1alpha2, Resource=policyreports", "PolicyReport"},
		{WGPolicy, false, "wgpolicyk8s.io/v1alpha2, Resource=clusterpolicyreports", "ClusterPolicyReport"},
	} {
		gvr, kind := tc.api.Resource(tc.namespaced)
		assert.Equal(t, tc.resource, gvr.String())
		assert.Equal(t, tc.kind, kind)
	}
}

// TestDigest: the digest annotation ignores the results' timestamps (a rerun of a steady
// cluster writes nothing) and follows every other change.
func TestDigest(t *testing.T) {
	digests := func(res *audit.Result, now time.Time) []string {
		set, err := Build(res, Options{Rules: rules, Now: now})
		require.NoError(t, err)
		var out []string
		for i := range set.Len() {
			r, err := set.Report(i)
			require.NoError(t, err)
			out = append(out, r.GetAnnotations()[DigestAnnotation])
		}
		return out
	}
	now := time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)
	first := digests(result(), now)
	assert.Equal(t, first, digests(result(), now.Add(time.Hour)), "a later run of the same findings")
	changed := result()
	changed.Findings[0].Path = "spec.prune.x"
	second := digests(changed, now)
	assert.Equal(t, first[0], second[0], "the ClusterRole's report")
	assert.NotEqual(t, first[1], second[1], "the Kustomization's report follows its finding")
	assert.Equal(t, first[2], second[2], "the GitRepository's report")
}
