package webhook_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	admissionv1 "k8s.io/api/admission/v1"

	"github.com/openova-io/ova-lint/fixtures"
	"github.com/openova-io/ova-lint/linter"
	"github.com/openova-io/ova-lint/linter/config"
	"github.com/openova-io/ova-lint/linter/engine"
	"github.com/openova-io/ova-lint/linter/finding"
	"github.com/openova-io/ova-lint/linter/input"
	"github.com/openova-io/ova-lint/linter/loader"
)

// Parity (DESIGN.md §7): every fixture case states its verdict once, in its expected.json (the
// CLI's golden report). For the object-scope rules that run at admission, that one expectation
// is checked both ways: the CLI's findings on the case directory, and the admission responses to
// an AdmissionReview (JSON, through controller-runtime's handler) for every object of the case.
//
// The admission door sees objects as they arrive in the cluster: applied by Flux (so they carry
// kustomize-controller's labels) and without file paths, so an environment the CLI selects by
// path is recognised by the labels of that environment's selector (what the overlay's
// commonLabels put on its objects). Documents that are not Kubernetes objects (a .sops.yaml, a
// Chart.yaml) cannot be admitted; their findings are checked through the CLI only and listed.

// messageGaps are rules whose admission message is known to differ from the CLI's while the
// verdict (rule, severity, object) is the same. The verdict is still checked; the message is
// checked the day the gap closes (the test then asks for the entry to go).
var messageGaps = map[string]string{}

// withoutGapMessages blanks the messages of the rules in messageGaps.
func withoutGapMessages(ks []key) []key {
	out := make([]key, len(ks))
	for i, k := range ks {
		if _, gap := messageGaps[k.Rule]; gap {
			k.Message = ""
		}
		out[i] = k
	}
	return sortKeys(out)
}

func fixtureCases(t *testing.T) []fixtures.Case {
	t.Helper()
	cases, err := fixtures.Cases("../fixtures/rules")
	require.NoError(t, err)
	return cases
}

// key is one finding in the terms both doors share.
type key struct {
	Rule, Severity, Kind, Namespace, Name, Message string
}

func (k key) String() string {
	return fmt.Sprintf("%s %s %s %s/%s: %s", k.Severity, k.Rule, k.Kind, k.Namespace, k.Name, k.Message)
}

func sortKeys(ks []key) []key {
	sort.Slice(ks, func(i, j int) bool { return ks[i].String() < ks[j].String() })
	return ks
}

// admissionRules are the object-scope rules that decide at admission.
func admissionRules(eng *engine.Engine) map[string]bool {
	out := map[string]bool{}
	for _, r := range eng.Rules() {
		if r.Scope == engine.ScopeObject && r.RunsAt(engine.RunsAdmission) {
			out[r.ID] = true
		}
	}
	return out
}

// cliFindings lints a case directory the way the CLI does (from inside it).
func cliFindings(t *testing.T, e *env, dir string) []finding.Finding {
	t.Helper()
	t.Chdir(dir)
	rep, err := linter.New(e.engine, e.cfg, linter.Options{}).Lint(context.Background(), []string{"."})
	require.NoError(t, err)
	return rep.Findings
}

// admissionVerdicts sends every Kubernetes object of a case directory through the webhook, as a
// CREATE and as a dry-run CREATE (which must agree), and collects the findings it answers with.
func admissionVerdicts(t *testing.T, e *env, dir string, want func(rule string) bool) (got []key, objects int, skipped []string) {
	t.Helper()
	walked, err := loader.Walk(context.Background(), []string{dir}, e.cfg.Exclude)
	require.NoError(t, err)
	for _, f := range walked.Files {
		data, err := os.ReadFile(f.OSPath)
		require.NoError(t, err)
		rel, err := filepath.Rel(dir, f.OSPath)
		require.NoError(t, err)
		rel = filepath.ToSlash(rel)
		docs, synErr := loader.Parse(data, loader.DefaultLimits())
		if synErr != nil {
			skipped = append(skipped, rel+" (not YAML)")
		}
		for _, doc := range docs {
			obj, ok := doc.Object.(map[string]any)
			kind, _, name := input.Identity(doc.Object)
			apiVersion, _ := obj["apiVersion"].(string)
			if !ok || kind == "" || apiVersion == "" || name == "" {
				skipped = append(skipped, fmt.Sprintf("%s#%d (not a Kubernetes object)", rel, doc.Index))
				continue
			}
			objects++
			obj = fluxApplied(obj)
			if envName := e.cfg.EnvironmentFor(rel, nil, ""); envName != "" {
				obj = withLabels(obj, environmentLabels(t, e.cfg, envName))
			}
			resp := e.send(t, request{op: admissionv1.Create, obj: obj})
			dry := e.send(t, request{op: admissionv1.Create, obj: obj, dryRun: true})
			assert.Equal(t, verdicts(t, resp), verdicts(t, dry), "a dry run gets the same verdict")
			_, ns, _ := input.Identity(obj)
			for _, v := range verdicts(t, resp) {
				if want(v.Rule) {
					got = append(got, key{v.Rule, v.Severity, kind, ns, name, v.Message})
				}
			}
			errors := 0
			for _, v := range verdicts(t, resp) {
				if v.Severity == config.SeverityError {
					errors++
				}
			}
			assert.Equal(t, errors == 0, resp.Allowed, "denied exactly when there is an error finding")
		}
	}
	return sortKeys(got), objects, skipped
}

func containsKey(ks []key, k key) bool {
	for _, x := range ks {
		if x == k {
			return true
		}
	}
	return false
}

func environmentLabels(t *testing.T, cfg *config.Config, name string) map[string]string {
	t.Helper()
	for _, env := range cfg.Environments {
		if env.Name == name {
			require.NotEmptyf(t, env.Labels, "environment %s has no label selector: the admission door could not recognise it", name)
			return env.Labels
		}
	}
	t.Fatalf("no environment %s", name)
	return nil
}

// caseEnv is e, or, for a case with its own .ova-lint.yaml or whose tree pins a Flux version
// (gotk-components.yaml, the flux2 chart), an env configured so: a cluster's webhook is given
// its configuration, and its Flux version as fluxVersion, since admission sees no tree.
func caseEnv(t *testing.T, e *env, dir string) *env {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(dir, config.FileName))
	if err != nil && !os.IsNotExist(err) {
		require.NoError(t, err)
	}
	t.Chdir(dir)
	rep, err := linter.New(e.engine, e.cfg, linter.Options{}).Lint(context.Background(), []string{"."})
	require.NoError(t, err)
	if rep.Summary.FluxVersion != "" {
		raw = append(raw, fmt.Sprintf("\nfluxVersion: %q\n", rep.Summary.FluxVersion)...)
	}
	if len(raw) == 0 {
		return e
	}
	return newEnv(t, string(raw))
}

func TestParity(t *testing.T) {
	shared := newEnv(t, "")
	decide := admissionRules(shared.engine)
	seen := map[string]bool{} // rules whose finding went through admission
	for _, c := range fixtureCases(t) {
		t.Run(c.Rule+"/"+c.Name, func(t *testing.T) {
			e := caseEnv(t, shared, c.Dir)
			var golden finding.Report
			raw, err := os.ReadFile(filepath.Join(c.Dir, "expected.json"))
			require.NoError(t, err)
			require.NoError(t, json.Unmarshal(raw, &golden))

			// the one expectation: the golden findings of the rules that decide at admission
			var want, wantAdmission []key
			for _, f := range golden.Findings {
				if !decide[f.Rule] {
					continue
				}
				k := key{f.Rule, f.Severity, f.Kind, f.Namespace, f.Name, f.Message}
				want = append(want, k)
				if f.Kind != "" {
					wantAdmission = append(wantAdmission, k)
				}
			}
			sortKeys(want)
			sortKeys(wantAdmission)

			// the CLI way
			var cli []key
			for _, f := range cliFindings(t, e, c.Dir) {
				if decide[f.Rule] {
					cli = append(cli, key{f.Rule, f.Severity, f.Kind, f.Namespace, f.Name, f.Message})
				}
			}
			assert.Equal(t, want, sortKeys(cli), "CLI verdict")

			// the admission way
			got, objects, skipped := admissionVerdicts(t, e, c.Dir, func(rule string) bool { return decide[rule] })
			if assert.Equal(t, withoutGapMessages(wantAdmission), withoutGapMessages(got), "admission verdict") {
				for _, k := range got {
					if gap, ok := messageGaps[k.Rule]; ok {
						if containsKey(wantAdmission, k) {
							t.Errorf("the %s message gap has closed (%s): remove it from messageGaps", k.Rule, gap)
						} else {
							t.Logf("known message gap for %s (%s): admission says %q", k.Rule, gap, k.Message)
						}
					}
				}
			}
			for _, k := range got {
				seen[k.Rule] = true
			}
			t.Logf("%d objects admitted as AdmissionReviews, %d findings; not admissible: %v", objects, len(got), skipped)
			if len(want) != len(wantAdmission) {
				t.Logf("checked through the CLI only (not Kubernetes objects): %d findings", len(want)-len(wantAdmission))
			}
		})
	}
	// every rule that decides at admission had a finding go through the admission door
	for id := range decide {
		if strings.HasPrefix(id, "waiver-") {
			continue // made by the waiver pass, tested in TestWaiverAnnotation
		}
		assert.Truef(t, seen[id], "no fixture case exercised rule %s through admission", id)
	}
}

// TestParityConfiguredGiteaHost: with params.gitea.host set, single-gitea (a repo-scope rule)
// judges each object on its own, so the CLI and admission verdicts agree for it too.
func TestParityConfiguredGiteaHost(t *testing.T) {
	e := newEnv(t, "params: {gitea: {host: gitea.fsn1.acme.example}}")
	only := func(rule string) bool { return rule == "single-gitea" }
	denied := 0
	for _, c := range fixtureCases(t) {
		if c.Rule != "single-gitea" {
			continue
		}
		t.Run(c.Name, func(t *testing.T) {
			var cli []key
			for _, f := range cliFindings(t, e, c.Dir) {
				if only(f.Rule) {
					cli = append(cli, key{f.Rule, f.Severity, f.Kind, f.Namespace, f.Name, f.Message})
				}
			}
			got, _, _ := admissionVerdicts(t, e, c.Dir, only)
			assert.Equal(t, sortKeys(cli), got)
			denied += len(got)
		})
	}
	assert.Positive(t, denied, "the two-hosts case is denied at admission")
}
