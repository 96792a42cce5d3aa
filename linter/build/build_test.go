package build

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"sigs.k8s.io/kustomize/api/provider"
	"sigs.k8s.io/kustomize/api/resource"
	"sigs.k8s.io/kustomize/kyaml/filesys"
)

var update = flag.Bool("update", false, "rewrite golden files")

// fluxKS returns a Flux Kustomization in flux-system with the given spec.
func fluxKS(spec map[string]any) map[string]any {
	return map[string]any{
		"apiVersion": "kustomize.toolkit.fluxcd.io/v1",
		"kind":       "Kustomization",
		"metadata":   map[string]any{"name": "apps", "namespace": "flux-system"},
		"spec":       spec,
	}
}

// substObjects are the ConfigMap and Secret the substitution tests find in the tree.
func substObjects() []map[string]any {
	return []map[string]any{
		{"apiVersion": "v1", "kind": "ConfigMap", "metadata": map[string]any{"name": "vars", "namespace": "flux-system"},
			"data": map[string]any{"BOTH": "from-cm", "FROM_CM": "cm-value", "CM_AND_FALLBACK": "from-cm"}},
		{"apiVersion": "v1", "kind": "Secret", "metadata": map[string]any{"name": "secret-vars", "namespace": "flux-system"},
			"stringData": map[string]any{"FROM_SECRET": "s3cr3t-value"}},
		// Same name in another namespace: not the one the Kustomization reads.
		{"apiVersion": "v1", "kind": "ConfigMap", "metadata": map[string]any{"name": "vars", "namespace": "other"},
			"data": map[string]any{"FROM_CM": "wrong"}},
		{"apiVersion": "apps/v1", "kind": "Deployment", "metadata": map[string]any{"name": "ignored"}},
	}
}

func substSpec(extraFrom ...any) map[string]any {
	from := []any{
		map[string]any{"kind": "ConfigMap", "name": "vars"},
		map[string]any{"kind": "Secret", "name": "secret-vars"},
		map[string]any{"kind": "Secret", "name": "not-in-repo", "optional": true},
	}
	return map[string]any{
		"path": "./subst",
		"postBuild": map[string]any{
			"substitute":     map[string]any{"INLINE": "inline-value", "BOTH": "from-inline"},
			"substituteFrom": append(from, extraFrom...),
		},
	}
}

// find returns the built object with the given kind and name.
func find(t *testing.T, res *Result, kind, name string) Object {
	t.Helper()
	for _, o := range res.Objects {
		meta, _ := o.Object["metadata"].(map[string]any)
		if o.Object["kind"] == kind && meta["name"] == name {
			return o
		}
	}
	t.Fatalf("no %s/%s among %d objects", kind, name, len(res.Objects))
	return Object{}
}

func field(obj map[string]any, path ...string) any {
	var v any = obj
	for _, p := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[p]
	}
	return v
}

func TestBuild(t *testing.T) {
	tests := []struct {
		name   string
		req    Request
		golden string // testdata/golden/<golden>.json, the whole Result
		check  func(t *testing.T, res *Result)
	}{
		{
			name:   "plain root: base and overlay with patch, namePrefix, namespace, component",
			req:    Request{RepoRoot: "testdata/overlay", Path: "./prod"},
			golden: "overlay-prod",
			check: func(t *testing.T, res *Result) {
				if res.Generated {
					t.Error("Generated for a directory with a kustomization.yaml")
				}
				d := find(t, res, "Deployment", "prod-web")
				if d.Origin != "base/deploy.yaml" || d.OriginalName != "web" || d.OriginalNamespace != "" {
					t.Errorf("deployment origin %q %q/%q", d.Origin, d.OriginalNamespace, d.OriginalName)
				}
				if r := field(d.Object, "spec", "replicas"); r != int64(3) {
					t.Errorf("replicas %#v (%T), want int64 3 from the patch", r, r)
				}
				if ns := field(d.Object, "metadata", "namespace"); ns != "prod" {
					t.Errorf("namespace %v", ns)
				}
				h := find(t, res, "Service", "prod-web-headless")
				if h.Origin != "base/service.yaml" || h.OriginalName != "web-headless" {
					t.Errorf("headless origin %q name %q", h.Origin, h.OriginalName)
				}
				cm := res.Objects[3]
				if cm.Origin != "base/kustomization.yaml" || cm.OriginalName != "settings" {
					t.Errorf("generated ConfigMap origin %q name %q", cm.Origin, cm.OriginalName)
				}
				p := find(t, res, "PodDisruptionBudget", "prod-web")
				if p.Origin != "components/extra/pdb.yaml" {
					t.Errorf("component origin %q", p.Origin)
				}
				for _, o := range res.Objects {
					anns, _ := field(o.Object, "metadata", "annotations").(map[string]any)
					if _, ok := anns[originAnnotation]; ok {
						t.Errorf("%v keeps the origin annotation", o.Object["kind"])
					}
					if anns != nil && len(anns) == 0 {
						t.Errorf("%v has an empty annotations map", o.Object["kind"])
					}
				}
			},
		},
		{
			name:   "directory without kustomization.yaml: generated, every YAML included",
			req:    Request{RepoRoot: "testdata", Path: "plain"},
			golden: "plain",
			check: func(t *testing.T, res *Result) {
				if !res.Generated {
					t.Error("Generated is false")
				}
				if _, err := os.Stat("testdata/plain/kustomization.yaml"); !errors.Is(err, os.ErrNotExist) {
					t.Errorf("the working tree was written: %v", err)
				}
				got := map[string]string{}
				for _, o := range res.Objects {
					got[field(o.Object, "metadata", "name").(string)] = o.Origin + "#" + o.OriginalName
				}
				want := map[string]string{"a": "plain/a.yaml#a", "b": "plain/sub/b.yml#b", "c": "plain/sub/b.yml#c", "n-d": "plain/nested/d.yaml#d"}
				if !reflect.DeepEqual(got, want) {
					t.Errorf("objects %v, want %v", got, want)
				}
			},
		},
		{
			name: "Flux Kustomization: substitute, substituteFrom, Fallback precedence and Missing",
			req: Request{RepoRoot: "testdata", Path: "subst", Kustomization: fluxKS(substSpec()), Objects: substObjects(),
				Fallback: map[string]string{"FALLBACK_ONLY": "from-fallback", "CM_AND_FALLBACK": "from-fallback", "BOTH": "from-fallback"}},
			golden: "subst",
			check: func(t *testing.T, res *Result) {
				app := find(t, res, "ConfigMap", "app")
				want := map[string]any{
					"inline":         "inline-value",
					"both":           "from-inline", // inline > substituteFrom > Fallback
					"fromcm":         "cm-value",
					"fromsecret":     "s3cr3t-value", // Secret stringData honoured
					"fallback":       "from-fallback",
					"cmoverfallback": "from-cm", // substituteFrom > Fallback
					"defaulted":      "default",
					"escaped":        "${ESCAPED}",
					"unset":          "prefix-",
				}
				if got := app.Object["data"]; !reflect.DeepEqual(got, want) {
					t.Errorf("data %v\nwant %v", got, want)
				}
				if want := []MissingVar{{Name: "UNSET", Path: []any{"data", "unset"}}}; !reflect.DeepEqual(app.Missing, want) {
					t.Errorf("Missing %v, want %v", app.Missing, want)
				}
				w := find(t, res, "Deployment", "worker")
				if want := []MissingVar{{Name: "UNSET", Path: []any{"spec", "template", "spec", "containers", 0, "args", 1}}}; !reflect.DeepEqual(w.Missing, want) {
					t.Errorf("Missing %v, want %v", w.Missing, want)
				}
				if img := field(w.Object, "spec", "template", "spec", "containers").([]any)[0].(map[string]any)["image"]; img != "registry.example/worker:1.0" {
					t.Errorf("image %v", img)
				}
				d := find(t, res, "ConfigMap", "disabled")
				if raw := field(d.Object, "data", "raw"); raw != "${INLINE} ${UNSET}" || d.Missing != nil {
					t.Errorf("substitute: disabled not honoured: %v, Missing %v", raw, d.Missing)
				}
			},
		},
		{
			name: "without postBuild nothing is substituted and nothing is missing",
			req: Request{RepoRoot: "testdata", Path: "subst", Kustomization: fluxKS(map[string]any{"path": "./subst"}),
				Objects: substObjects(), Fallback: map[string]string{"UNSET": "x", "INLINE": "y"}},
			check: func(t *testing.T, res *Result) {
				app := find(t, res, "ConfigMap", "app")
				if v := field(app.Object, "data", "unset"); v != "prefix-${UNSET}" {
					t.Errorf("unset %v", v)
				}
				if v := field(app.Object, "data", "escaped"); v != "$${ESCAPED}" {
					t.Errorf("escaped %v", v)
				}
				for _, o := range res.Objects {
					if o.Missing != nil {
						t.Errorf("Missing %v without postBuild", o.Missing)
					}
				}
			},
		},
		{
			name: "targetNamespace, namePrefix, spec.patches and commonMetadata",
			req: Request{RepoRoot: "testdata", Path: "plain", Kustomization: fluxKS(map[string]any{
				"targetNamespace": "team-a",
				"namePrefix":      "x-",
				"patches": []any{map[string]any{
					"patch":  "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\ndata:\n  k: patched\n",
					"target": map[string]any{"kind": "ConfigMap", "name": "a"},
				}},
				"commonMetadata": map[string]any{
					"labels":      map[string]any{"team": "a", "owner": "flux"},
					"annotations": map[string]any{"note": "common"},
				},
			})},
			check: func(t *testing.T, res *Result) {
				if len(res.Objects) != 4 {
					t.Fatalf("%d objects", len(res.Objects))
				}
				for _, o := range res.Objects {
					if ns := field(o.Object, "metadata", "namespace"); ns != "team-a" {
						t.Errorf("namespace %v", ns)
					}
					if l := field(o.Object, "metadata", "labels"); !reflect.DeepEqual(l, map[string]any{"team": "a", "owner": "flux"}) {
						t.Errorf("labels %v", l)
					}
					if a := field(o.Object, "metadata", "annotations"); !reflect.DeepEqual(a, map[string]any{"note": "common"}) {
						t.Errorf("annotations %v", a)
					}
					if n := field(o.Object, "metadata", "name").(string); !strings.HasPrefix(n, "x-") {
						t.Errorf("name %s without the prefix", n)
					}
				}
				a := find(t, res, "ConfigMap", "x-a")
				if v := field(a.Object, "data", "k"); v != "patched" {
					t.Errorf("spec.patches not applied: %v", v)
				}
				if a.OriginalName != "a" || a.OriginalNamespace != "" || a.Origin != "plain/a.yaml" {
					t.Errorf("origin %q %q/%q", a.Origin, a.OriginalNamespace, a.OriginalName)
				}
				d := find(t, res, "ConfigMap", "x-n-d")
				if d.OriginalName != "d" {
					t.Errorf("nested original name %q", d.OriginalName)
				}
			},
		},
		{
			name: "Fallback alone, with an empty substituteFrom",
			req: Request{RepoRoot: "testdata", Path: "subst",
				Kustomization: fluxKS(map[string]any{"postBuild": map[string]any{}}),
				Fallback:      map[string]string{"UNSET": "filled", "INLINE": "fb"}},
			check: func(t *testing.T, res *Result) {
				app := find(t, res, "ConfigMap", "app")
				if v := field(app.Object, "data", "unset"); v != "prefix-filled" {
					t.Errorf("unset %v", v)
				}
				var names []string
				for _, m := range app.Missing {
					names = append(names, m.Name)
				}
				want := []string{"BOTH", "CM_AND_FALLBACK", "FALLBACK_ONLY", "FROM_CM", "FROM_SECRET"}
				if !reflect.DeepEqual(names, want) {
					t.Errorf("Missing %v, want %v", names, want)
				}
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, err := Build(context.Background(), tc.req)
			if err != nil {
				t.Fatalf("Build: %v", err)
			}
			tc.check(t, res)
			if tc.golden != "" {
				compareGolden(t, tc.golden, res)
			}
		})
	}
}

func compareGolden(t *testing.T, name string, res *Result) {
	t.Helper()
	got, err := json.MarshalIndent(res, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, '\n')
	file := filepath.Join("testdata", "golden", name+".json")
	if *update {
		if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(file, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("golden file (run with -update): %v", err)
	}
	if string(got) != string(want) {
		t.Errorf("result differs from %s (run with -update to rewrite):\n%s", file, got)
	}
}

func TestBuildErrors(t *testing.T) {
	root, err := filepath.Abs("testdata")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		req   Request
		check func(t *testing.T, err error)
	}{
		{
			name: "non-optional substituteFrom missing from the tree",
			req: Request{RepoRoot: "testdata", Path: "subst", Objects: substObjects(),
				Kustomization: fluxKS(substSpec(map[string]any{"kind": "ConfigMap", "name": "cluster-settings"}))},
			check: func(t *testing.T, err error) {
				for _, want := range []string{"ConfigMap flux-system/cluster-settings", "--substitute-from", "--substitute"} {
					if !strings.Contains(err.Error(), want) {
						t.Errorf("error %q does not contain %q", err, want)
					}
				}
			},
		},
		{
			name: "duplicate id in one root",
			req:  Request{RepoRoot: "testdata", Path: "dup"},
			check: func(t *testing.T, err error) {
				var dup *DuplicateError
				if !errors.As(err, &dup) {
					t.Fatalf("%T %v, want *DuplicateError", err, err)
				}
				if dup.Group != "" || dup.Kind != "ConfigMap" || dup.Namespace != "" || dup.Name != "same" {
					t.Errorf("id %q %q %q %q", dup.Group, dup.Kind, dup.Namespace, dup.Name)
				}
				want := []Declaration{{File: "dup/one.yaml", Index: 1}, {File: "dup/two.yaml", Index: 0}}
				if !reflect.DeepEqual(dup.Declarations, want) {
					t.Errorf("declarations %v, want %v", dup.Declarations, want)
				}
				if !strings.Contains(err.Error(), "may not add resource with an already registered id") {
					t.Errorf("message %q", err)
				}
			},
		},
		{
			name: "duplicate id between a generated root and a subdirectory, with a target namespace",
			req:  Request{RepoRoot: "testdata", Path: "dupgen", Kustomization: fluxKS(map[string]any{"targetNamespace": "t"})},
			check: func(t *testing.T, err error) {
				var dup *DuplicateError
				if !errors.As(err, &dup) {
					t.Fatalf("%T %v, want *DuplicateError", err, err)
				}
				want := []Declaration{{File: "dupgen/a.yaml", Index: 0}, {File: "dupgen/sub/b.yaml", Index: 2}}
				if !reflect.DeepEqual(dup.Declarations, want) {
					t.Errorf("declarations %v, want %v", dup.Declarations, want)
				}
			},
		},
		{
			name: "missing resource file",
			req:  Request{RepoRoot: "testdata", Path: "broken"},
			check: func(t *testing.T, err error) {
				msg := err.Error()
				if strings.Contains(msg, root) || strings.Contains(msg, "\n") {
					t.Errorf("message not relative or not one line: %q", msg)
				}
				if !strings.Contains(msg, "broken/missing.yaml") {
					t.Errorf("message %q does not name the file", msg)
				}
			},
		},
		{
			name: "path outside the root",
			req:  Request{RepoRoot: "testdata/overlay", Path: "../dup"},
			check: func(t *testing.T, err error) {
				if !strings.Contains(err.Error(), "leaves the repository root") {
					t.Errorf("error %q", err)
				}
			},
		},
		{
			name: "resource outside the root",
			req:  Request{RepoRoot: "testdata/overlay", Path: "escape"},
			check: func(t *testing.T, err error) {
				if strings.Contains(err.Error(), root) {
					t.Errorf("message not relative: %q", err)
				}
			},
		},
		{
			name: "directory that does not exist",
			req:  Request{RepoRoot: "testdata", Path: "nowhere"},
			check: func(t *testing.T, err error) {
				if strings.Contains(err.Error(), root) {
					t.Errorf("message not relative: %q", err)
				}
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, err := Build(context.Background(), tc.req)
			if err == nil {
				t.Fatalf("no error; %d objects", len(res.Objects))
			}
			t.Log(err)
			tc.check(t, err)
		})
	}
}

func TestBuildCanceled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Build(ctx, Request{RepoRoot: "testdata/overlay", Path: "prod"}); !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v, want context.Canceled", err)
	}
}

func TestBuildKeepsUserOriginAnnotations(t *testing.T) {
	// A Kustomization that asks for origin annotations itself gets them, as from Flux.
	res, err := Build(context.Background(), Request{RepoRoot: "testdata", Path: "plain",
		Kustomization: fluxKS(map[string]any{"buildMetadata": []any{"originAnnotations"}})})
	if err != nil {
		t.Fatal(err)
	}
	a := find(t, res, "ConfigMap", "a")
	if v := field(a.Object, "metadata", "annotations", originAnnotation); v != "path: a.yaml\n" {
		t.Errorf("origin annotation %q", v)
	}
	if a.Origin != "plain/a.yaml" {
		t.Errorf("Origin %q", a.Origin)
	}
}

func TestKustomizationFiles(t *testing.T) {
	tests := []struct {
		root, dir string
		want      KustomizationInfo
	}{
		{"testdata/overlay", "prod", KustomizationInfo{
			File: "prod/kustomization.yaml", Resources: []string{"base"}, Components: []string{"components/extra"},
			Patches: []string{"prod/replicas.yaml"}}},
		{"testdata/overlay", "./components/extra", KustomizationInfo{
			File: "components/extra/kustomization.yaml", Component: true,
			Resources: []string{"components/extra/pdb.yaml"}, Patches: []string{"components/extra/json-patch.yaml"}}},
		{"testdata", "kfiles/app", KustomizationInfo{
			File:       "kfiles/app/kustomization.yml",
			Resources:  []string{"kfiles/app/deploy.yaml", "kfiles/shared"},
			Components: []string{"kfiles/comp"},
			Patches:    []string{"kfiles/app/patches/p1.yaml", "kfiles/app/patches/psm.yaml", "kfiles/app/patches/json.yaml"}}},
	}
	for _, tc := range tests {
		t.Run(tc.dir, func(t *testing.T) {
			got, err := KustomizationFiles(tc.root, tc.dir)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got  %+v\nwant %+v", got, tc.want)
			}
		})
	}
	if _, err := KustomizationFiles("testdata", "plain"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("no kustomization file: %v, want os.ErrNotExist", err)
	}
	if _, err := KustomizationFiles("testdata", "../.."); err == nil {
		t.Error("a directory above the root is accepted")
	}
}

func TestFindMissing(t *testing.T) {
	obj := map[string]any{
		"a": "${A} ${B:=b} ${C:-c} $${D} ${E}",
		"l": []any{"x", map[string]any{"k": "${F:=${G}}"}},
		"n": int64(1),
		"s": "${unclosed",
	}
	got := findMissing(obj, map[string]bool{"E": true})
	want := []MissingVar{{Name: "A", Path: []any{"a"}}, {Name: "G", Path: []any{"l", 1, "k"}}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

func TestSanitizer(t *testing.T) {
	s := newSanitizer("/repo/root")
	s.addSecrets(map[string]string{"K": "hunter2"})
	got := s.message("open /repo/root/a/b.yaml:\n value hunter2 in /repo/root; read '/repo/other/x.yaml': patch /spec/replicas")
	if want := "open a/b.yaml: value [redacted] in .; read '../other/x.yaml': patch /spec/replicas"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

// BenchmarkBuild builds the small overlay tree (5 objects, a base, a component, a generator).
// kustomize.Build holds a process-wide mutex, so parallel builds are serialised.
func BenchmarkBuild(b *testing.B) {
	req := Request{RepoRoot: "testdata/overlay", Path: "prod"}
	for b.Loop() {
		if _, err := Build(context.Background(), req); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkBuildSubstitute builds the substitution tree with a fake client and Fallback.
func BenchmarkBuildSubstitute(b *testing.B) {
	req := Request{RepoRoot: "testdata", Path: "subst", Kustomization: fluxKS(substSpec()), Objects: substObjects(),
		Fallback: map[string]string{"FALLBACK_ONLY": "x"}}
	for b.Loop() {
		if _, err := Build(context.Background(), req); err != nil {
			b.Fatal(err)
		}
	}
}

func TestOriginRemote(t *testing.T) {
	rf := provider.NewDefaultDepProvider().GetResourceFactory()
	res, err := rf.FromMap(map[string]any{"apiVersion": "v1", "kind": "ConfigMap", "metadata": map[string]any{"name": "p-x", "namespace": "n"}})
	if err != nil {
		t.Fatal(err)
	}
	o := newOriginResolver(filesys.MakeFsInMemory(), "/repo", "/repo/apps")
	file, name, ns := o.resolve(res, &resource.Origin{Path: "deploy/cm.yaml", Repo: "https://github.com/example/repo", Ref: "v1"})
	if file != "" || name != "p-x" || ns != "n" {
		t.Errorf("remote origin: %q %q/%q", file, ns, name)
	}
	if file, _, _ := o.resolve(res, nil); file != "" {
		t.Errorf("no origin: %q", file)
	}
}

// TestObjectValuesAreJSONLike checks that built objects hold only JSON-like values.
func TestObjectValuesAreJSONLike(t *testing.T) {
	res, err := Build(context.Background(), Request{RepoRoot: "testdata/overlay", Path: "prod"})
	if err != nil {
		t.Fatal(err)
	}
	var walk func(v any, p string)
	walk = func(v any, p string) {
		switch x := v.(type) {
		case map[string]any:
			for k, e := range x {
				walk(e, p+"."+k)
			}
		case []any:
			for _, e := range x {
				walk(e, p+"[]")
			}
		case string, int64, float64, bool, nil:
		default:
			t.Errorf("%s: %T", p, v)
		}
	}
	for _, o := range res.Objects {
		walk(o.Object, "")
	}
}

// TestBuildConcurrent runs builds from several goroutines (the library serialises them).
func TestBuildConcurrent(t *testing.T) {
	want, err := Build(context.Background(), Request{RepoRoot: "testdata/overlay", Path: "prod"})
	if err != nil {
		t.Fatal(err)
	}
	errs := make(chan error, 4)
	for i := 0; i < 4; i++ {
		go func() {
			got, err := Build(context.Background(), Request{RepoRoot: "testdata/overlay", Path: "prod"})
			if err == nil && !reflect.DeepEqual(got, want) {
				err = errors.New("different result")
			}
			errs <- err
		}()
	}
	for i := 0; i < 4; i++ {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}
