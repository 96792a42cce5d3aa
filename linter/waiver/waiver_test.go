package waiver_test

import (
	"context"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/openova-io/ova-lint/linter/config"
	"github.com/openova-io/ova-lint/linter/engine"
	"github.com/openova-io/ova-lint/linter/finding"
	"github.com/openova-io/ova-lint/linter/loader"
	"github.com/openova-io/ova-lint/linter/waiver"
)

var (
	engOnce sync.Once
	eng     *engine.Engine
	engErr  error
)

func testEngine(t *testing.T) *engine.Engine {
	t.Helper()
	engOnce.Do(func() { eng, engErr = engine.New(context.Background(), engine.Options{}) })
	require.NoError(t, engErr)
	return eng
}

var today = time.Date(2026, 6, 15, 12, 0, 0, 0, time.UTC)

func TestParse(t *testing.T) {
	tests := []struct {
		name, value string
		want        *waiver.Waiver
		err         string
	}{
		{"one rule", "sync-interval; reason=vendor chart", &waiver.Waiver{Rules: []string{"sync-interval"}, Reason: "vendor chart"}, ""},
		{"two rules and until", " sync-interval , gitea-url ;reason= mirror during bootstrap ; until=2026-07-01",
			&waiver.Waiver{Rules: []string{"sync-interval", "gitea-url"}, Reason: "mirror during bootstrap", Until: "2026-07-01"}, ""},
		{"until first", "no-sops; until=2026-07-01; reason=migrating to ESO",
			&waiver.Waiver{Rules: []string{"no-sops"}, Reason: "migrating to ESO", Until: "2026-07-01"}, ""},
		{"semicolon in reason", "no-sops; reason=see ticket OPS-1; OPS-2; until=2026-07-01",
			&waiver.Waiver{Rules: []string{"no-sops"}, Reason: "see ticket OPS-1; OPS-2", Until: "2026-07-01"}, ""},
		{"key case-insensitive", "no-sops; Reason=x", &waiver.Waiver{Rules: []string{"no-sops"}, Reason: "x"}, ""},
		{"no reason", "sync-interval", nil, "needs a reason"},
		{"empty reason", "sync-interval; reason=  ", nil, "needs a reason"},
		{"only until", "sync-interval; until=2026-01-01", nil, "needs a reason"},
		{"no rules", "; reason=x", nil, "no rule id"},
		{"empty", "", nil, "no rule id"},
		{"bad rule id", "Sync_Interval; reason=x", nil, "not a rule id"},
		{"bad date", "no-sops; reason=x; until=01/07/2026", nil, "not a date"},
		{"unknown field", "no-sops; reason=x; owner=me", nil, `unknown field "owner"`},
		{"duplicate field", "no-sops; reason=x; reason=y", nil, "given twice"},
		{"stray text", "no-sops; forever; reason=x", nil, "not a key=value"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := waiver.Parse(tt.value)
			if tt.err != "" {
				require.ErrorContains(t, err, tt.err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want.Rules, got.Rules)
			require.Equal(t, tt.want.Reason, got.Reason)
			require.Equal(t, tt.want.Until, got.Until)
		})
	}
}

func TestExpired(t *testing.T) {
	tests := []struct {
		until string
		now   time.Time
		want  bool
	}{
		{"", today, false},
		{"2026-06-15", today, false}, // valid through its last day
		{"2026-06-15", time.Date(2026, 6, 15, 23, 59, 59, 0, time.UTC), false},
		{"2026-06-15", time.Date(2026, 6, 16, 0, 0, 0, 0, time.UTC), true},
		{"2026-06-14", today, true},
		{"2026-06-15", time.Date(2026, 6, 16, 1, 0, 0, 0, time.FixedZone("CEST", 2*3600)), false}, // 23:00 UTC
	}
	for _, tt := range tests {
		t.Run(tt.until+"@"+tt.now.String(), func(t *testing.T) {
			w, err := waiver.Parse("no-sops; reason=x; until=" + tt.until)
			require.NoError(t, err)
			require.Equal(t, tt.want, w.Expired(tt.now))
		})
	}
}

func TestCheck(t *testing.T) {
	e := testEngine(t)
	tests := []struct{ value, err string }{
		{"sync-interval,no-sops; reason=x", ""},
		{"no-such-rule; reason=x", "unknown rule no-such-rule"},
		{"waiver-expired; reason=x", "cannot be waived"},
	}
	for _, tt := range tests {
		t.Run(tt.value, func(t *testing.T) {
			w, err := waiver.Parse(tt.value)
			require.NoError(t, err)
			err = w.Check(e)
			if tt.err == "" {
				require.NoError(t, err)
			} else {
				require.ErrorContains(t, err, tt.err)
			}
		})
	}
}

func object(annotation any) map[string]any {
	md := map[string]any{"name": "podinfo", "namespace": "flux-system"}
	if annotation != nil {
		md["annotations"] = map[string]any{waiver.Annotation: annotation}
	}
	return map[string]any{"apiVersion": "source.toolkit.fluxcd.io/v1", "kind": "GitRepository", "metadata": md}
}

// TestAdmission is the webhook's call: one object, the violations the engine found for it.
func TestAdmission(t *testing.T) {
	e := testEngine(t)
	vs := []engine.Violation{
		{Rule: e.Rule("sync-interval"), Path: []any{"spec", "interval"}, Message: "interval 5m"},
		{Rule: e.Rule("gitea-url"), Path: []any{"spec", "url"}, Message: "not gitea"},
	}
	tests := []struct {
		name       string
		annotation any
		want       []string // rule ids that stand
	}{
		{"no annotation", nil, []string{"sync-interval", "gitea-url"}},
		{"waives one", "sync-interval; reason=vendor default", []string{"gitea-url"}},
		{"waives both until tomorrow", "sync-interval,gitea-url; reason=bootstrap; until=2026-06-16", nil},
		{"waives through today", "sync-interval,gitea-url; reason=bootstrap; until=2026-06-15", nil},
		{"expired", "sync-interval; reason=bootstrap; until=2026-06-14", []string{"sync-interval", "gitea-url", "waiver-expired"}},
		{"no reason", "sync-interval", []string{"sync-interval", "gitea-url", "waiver-invalid"}},
		{"unknown rule", "sync-intervals; reason=typo", []string{"sync-interval", "gitea-url", "waiver-invalid"}},
		{"not a string", 42, []string{"sync-interval", "gitea-url", "waiver-invalid"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := waiver.Admission(e, object(tt.annotation), vs, today)
			var ids []string
			for _, v := range out {
				ids = append(ids, v.Rule.ID)
				if v.Rule.ID == waiver.RuleInvalid || v.Rule.ID == waiver.RuleExpired {
					require.Equal(t, waiver.AnnotationPath(), v.Path)
					require.NotEmpty(t, v.Message)
					require.NotEmpty(t, v.Fix)
				}
			}
			require.Equal(t, tt.want, ids)
		})
	}
}

func TestJudgeConfigWaivers(t *testing.T) {
	e := testEngine(t)
	fs := []finding.Finding{
		{Rule: "sync-interval", Severity: "error", File: "clusters/staging/a.yaml", Line: 3, Column: 1},
		{Rule: "gitea-url", Severity: "error", File: "clusters/prod/b.yaml", Line: 3, Column: 1},
	}
	tests := []struct {
		name         string
		waivers      []config.Waiver
		reportUnused bool
		partial      bool
		want         []string
	}{
		{"none", nil, false, false, []string{"sync-interval", "gitea-url"}},
		{"glob waives one", []config.Waiver{{Path: "clusters/staging/**", Rules: []string{"sync-interval"}, Reason: "r"}}, false, false, []string{"gitea-url"}},
		{"wrong rule", []config.Waiver{{Path: "clusters/staging/**", Rules: []string{"gitea-url"}, Reason: "r"}}, false, false, []string{"sync-interval", "gitea-url"}},
		{"basename glob", []config.Waiver{{Path: "b.yaml", Rules: []string{"gitea-url"}, Reason: "r", Until: "2026-12-31"}}, false, false, []string{"sync-interval"}},
		{"expired", []config.Waiver{{Path: "**", Rules: []string{"sync-interval"}, Reason: "r", Until: "2026-01-01"}}, false, false, []string{"sync-interval", "gitea-url", "waiver-expired"}},
		{"unknown rule", []config.Waiver{{Path: "**", Rules: []string{"nope"}, Reason: "r"}}, false, false, []string{"sync-interval", "gitea-url", "waiver-invalid"}},
		{"bad date", []config.Waiver{{Path: "**", Rules: []string{"no-sops"}, Reason: "r", Until: "soon"}}, false, false, []string{"sync-interval", "gitea-url", "waiver-invalid"}},
		{"no rules", []config.Waiver{{Path: "**", Reason: "r"}}, false, false, []string{"sync-interval", "gitea-url", "waiver-invalid"}},
		{"unused not asked", []config.Waiver{{Path: "**", Rules: []string{"no-sops"}, Reason: "r"}}, false, false, []string{"sync-interval", "gitea-url"}},
		{"unused asked", []config.Waiver{{Path: "**", Rules: []string{"no-sops", "gitea-url"}, Reason: "r"}}, true, false, []string{"sync-interval", "waiver-unused"}},
		{"unused asked, partial run", []config.Waiver{{Path: "**", Rules: []string{"no-sops"}, Reason: "r"}}, true, true, []string{"sync-interval", "gitea-url"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := &config.Config{Waivers: tt.waivers}
			j := waiver.New(e, cfg, waiver.Options{Now: func() time.Time { return today }, ReportUnused: tt.reportUnused, Partial: tt.partial})
			out := j.Apply(append([]finding.Finding(nil), fs...), nil, nil)
			var ids []string
			for _, f := range out {
				ids = append(ids, f.Rule)
				if f.Rule == waiver.RuleUnused {
					require.Contains(t, f.Message, "no-sops")
					require.NotContains(t, f.Message, "gitea-url")
				}
			}
			require.Equal(t, tt.want, ids)
		})
	}
}

// TestJudgeAnnotationScope: an annotation covers the findings of its own document only.
func TestJudgeAnnotationScope(t *testing.T) {
	e := testEngine(t)
	src := `apiVersion: v1
kind: ConfigMap
metadata:
  name: first
  annotations:
    ova-lint.openova.io/waive: "no-sops; reason=test"
data:
  a: |
    line one
    line two
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: second
data:
  b: x
`
	docs, synErr := loader.Parse([]byte(src), loader.DefaultLimits())
	require.Nil(t, synErr)
	var sites []waiver.Site
	for _, d := range docs {
		if s, ok := waiver.SiteOf("f.yaml", d.Node, d.Object, "ConfigMap", "", "x"); ok {
			sites = append(sites, s)
		}
	}
	require.Len(t, sites, 1)
	require.Equal(t, 1, sites[0].FromLine)
	require.Equal(t, 10, sites[0].ToLine, "a block scalar's lines belong to its document")
	require.Equal(t, 6, sites[0].Line)
	require.Equal(t, 5, sites[0].Column)

	fs := []finding.Finding{
		{Rule: "no-sops", Severity: "error", File: "f.yaml", Line: 9, Column: 1},  // first document
		{Rule: "no-sops", Severity: "error", File: "f.yaml", Line: 16, Column: 1}, // second document
		{Rule: "no-sops", Severity: "error", File: "g.yaml", Line: 2, Column: 1},  // another file
	}
	out := waiver.New(e, nil, waiver.Options{}).Apply(fs, sites, nil)
	var lines []string
	for _, f := range out {
		lines = append(lines, f.File+":"+strconv.Itoa(f.Line))
	}
	require.Equal(t, []string{"f.yaml:16", "g.yaml:2"}, lines)
}
