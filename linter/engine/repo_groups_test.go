package engine

import (
	"context"
	"testing"
)

// TestRepoGroups: the repo pass gives each rule package the facts it reads through
// data.ova.lib.repo.facts (in its rules and the libraries they use), and every fact to a package
// that reads them any other way.
func TestRepoGroups(t *testing.T) {
	e, err := New(context.Background(), Options{PolicyDirs: []string{"testdata/repopolicies"}})
	if err != nil {
		t.Fatal(err)
	}
	group := map[string]repoGroup{}
	for _, g := range compiledOf(t, e).repo {
		for _, p := range g.packages {
			if _, dup := group[p]; dup {
				t.Errorf("%s is in two groups", p)
			}
			group[p] = g
		}
	}
	for _, r := range e.Rules() {
		if _, ok := group[r.Package]; !ok {
			t.Errorf("%s is in no group: the repo pass would not evaluate it", r.Package)
		}
	}
	tests := []struct {
		pkg   string
		facts []string // nil: every fact
	}{
		{"single_gitea", []string{"single_gitea"}},
		{"flux_source_ref", []string{"flux_source_ref"}},
		{"helmrelease_chart", []string{"helmrelease_chart"}},
		{"helmrelease_chart_version", []string{"helmrelease_chart"}}, // through data.ova.lib.charts
		{"no_sops", []string{}},
		{"custom_scan_all", nil},
		{"custom_dynamic", nil},
	}
	for _, tc := range tests {
		g, ok := group[tc.pkg]
		if !ok {
			t.Errorf("%s: no group", tc.pkg)
			continue
		}
		if (tc.facts == nil) != (g.facts == nil) {
			t.Errorf("%s: every fact = %v, want %v", tc.pkg, g.facts == nil, tc.facts == nil)
			continue
		}
		if len(g.facts) != len(tc.facts) {
			t.Errorf("%s reads %v, want %v", tc.pkg, g.facts, tc.facts)
		}
		for _, f := range tc.facts {
			if !g.facts[f] {
				t.Errorf("%s reads %v, want %v", tc.pkg, g.facts, tc.facts)
			}
		}
	}
	if group["helmrelease_chart"].packages[0] != group["helmrelease_chart_version"].packages[0] {
		t.Error("helmrelease_chart and helmrelease_chart_version read the same facts but are evaluated apart")
	}
}
