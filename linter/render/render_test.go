package render

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

var update = flag.Bool("update", false, "rewrite golden files")

// rel returns a Release for a chart under testdata/charts; the repository
// root is testdata.
func rel(chart string) Release {
	return Release{
		ChartDir:  filepath.Join("testdata", "charts", chart),
		ChartRel:  "charts/" + chart,
		Name:      "web",
		Namespace: "apps",
	}
}

func mustRender(t *testing.T, r Release) *Result {
	t.Helper()
	res, err := Render(context.Background(), r)
	if err != nil {
		t.Fatalf("Render(%s): %v", r.ChartRel, err)
	}
	return res
}

// find returns the rendered object of that kind and name, or nil.
func find(res *Result, kind, name string) *Object {
	for i := range res.Objects {
		o := res.Objects[i].Object
		md, _ := o["metadata"].(map[string]any)
		if o["kind"] == kind && md["name"] == name {
			return &res.Objects[i]
		}
	}
	return nil
}

func names(res *Result) []string {
	var out []string
	for _, o := range res.Objects {
		md, _ := o.Object["metadata"].(map[string]any)
		out = append(out, o.Object["kind"].(string)+"/"+md["name"].(string))
	}
	return out
}

// helmReleaseLayer reads spec.values of testdata/helmrelease.yaml as a
// values layer, with its node for line positions.
func helmReleaseLayer(t *testing.T) ValuesLayer {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "helmrelease.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	node := lookupNode(doc.Content[0], "spec", "values")
	if node == nil {
		t.Fatal("no spec.values in testdata/helmrelease.yaml")
	}
	var vals map[string]any
	if err := node.Decode(&vals); err != nil {
		t.Fatal(err)
	}
	return ValuesLayer{Values: vals, File: "helmrelease.yaml", Node: node, Via: "HelmRelease values"}
}

func lookupNode(n *yaml.Node, keys ...string) *yaml.Node {
	for _, k := range keys {
		if n.Kind != yaml.MappingNode {
			return nil
		}
		var next *yaml.Node
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == k {
				next = n.Content[i+1]
			}
		}
		if next == nil {
			return nil
		}
		n = next
	}
	return n
}

func TestRenderGeneratedSecret(t *testing.T) {
	res := mustRender(t, rel("generated"))
	if got := names(res); !reflect.DeepEqual(got, []string{"Secret/web-credentials"}) {
		t.Fatalf("objects = %v, want only the Secret (no NOTES.txt, no partials)", got)
	}
	s := res.Objects[0]
	if s.Template != "charts/generated/templates/credentials.yaml" {
		t.Errorf("Template = %q", s.Template)
	}
	if s.Line != 19 {
		t.Errorf("Line = %d, want 19 (the literal kind: Secret)", s.Line)
	}
	md := s.Object["metadata"].(map[string]any)
	if md["namespace"] != "apps" {
		t.Errorf("namespace = %v, want the release namespace", md["namespace"])
	}
	if l := md["labels"].(map[string]any); l["app.kubernetes.io/instance"] != "web" {
		t.Errorf("labels = %v, want the release name", l)
	}
	key, _ := s.Object["stringData"].(map[string]any)["api-key"].(string)
	if len(key) != 32 {
		t.Errorf("api-key has %d characters, want 32 from randAlphaNum", len(key))
	}
	if s.GitValues == nil || len(s.GitValues) != 0 {
		t.Errorf("GitValues = %v, want an empty map: lookup/randAlphaNum values are not in Git", s.GitValues)
	}
}

func TestRenderProvenance(t *testing.T) {
	r := rel("provenance")
	r.Values = []ValuesLayer{
		{Values: map[string]any{"replicas": 5}, Via: "valuesFrom ConfigMap apps/defaults"},
		helmReleaseLayer(t),
	}
	res := mustRender(t, r)

	want := []string{
		"Job/web-migrate", // pre-install hook kept, test hook dropped
		"Secret/web-provenance",
		"ConfigMap/web-settings",
		"Deployment/web-provenance",
	}
	if got := names(res); !reflect.DeepEqual(got, want) {
		t.Fatalf("objects = %v, want %v", got, want)
	}

	sec := find(res, "Secret", "web-provenance")
	wantGit := map[string]Position{
		"stringData.from-values":   {File: "charts/provenance/values.yaml", Line: 4, Column: 13, Via: "values.yaml"},
		"stringData.from-layer":    {File: "helmrelease.yaml", Line: 12, Column: 14, Via: "HelmRelease values"},
		"stringData.from-template": {File: "charts/provenance/templates/secret.yaml", Line: 10, Column: 19, Via: "template"},
		"data.encoded-values":      {File: "charts/provenance/values.yaml", Line: 4, Column: 13, Via: "values.yaml"},
	}
	if !reflect.DeepEqual(sec.GitValues, wantGit) {
		t.Errorf("GitValues:\n got %v\nwant %v", sec.GitValues, wantGit)
	}

	dep := find(res, "Deployment", "web-provenance")
	if got := dep.Object["spec"].(map[string]any)["replicas"]; got != int64(3) {
		t.Errorf("replicas = %#v, want int64(3): the later layer wins", got)
	}
	cm := find(res, "ConfigMap", "web-settings")
	if ns := cm.Object["metadata"].(map[string]any)["namespace"]; ns != "apps" {
		t.Errorf("ConfigMap namespace = %v", ns)
	}
	if find(res, "Pod", "web-test") != nil {
		t.Error("the helm.sh/hook: test Pod was rendered")
	}

	// Golden: everything but the random value.
	sec.Object["data"].(map[string]any)["encoded-random"] = "<random>"
	checkGolden(t, "provenance.json", res)
}

func checkGolden(t *testing.T, name string, res *Result) {
	t.Helper()
	got, err := json.MarshalIndent(res, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, '\n')
	file := filepath.Join("testdata", "golden", name)
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
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the render (go test -update rewrites it):\n%s", file, got)
	}
}

func TestRenderDependencies(t *testing.T) {
	res := mustRender(t, rel("deps"))
	if !reflect.DeepEqual(res.MissingDependencies, []string{"absent"}) {
		t.Errorf("MissingDependencies = %v, want [absent]", res.MissingDependencies)
	}
	wantTemplates := map[string]string{
		"CustomResourceDefinition/widgets.example.org": "charts/deps/crds/widgets.yaml",
		"CustomResourceDefinition/gadgets.example.org": "charts/deps/charts/sub/crds/gadgets.yaml",
		"ConfigMap/web-parent":                         "charts/deps/templates/configmap.yaml",
		"ConfigMap/web-sub":                            "charts/deps/charts/sub/templates/configmap.yaml",
		"Secret/web-sub":                               "charts/deps/charts/sub/templates/secret.yaml",
	}
	checkTemplates(t, res, wantTemplates)
	sub := find(res, "ConfigMap", "web-sub")
	if g := sub.Object["data"].(map[string]any)["greeting"]; g != "hello-from-parent" {
		t.Errorf("subchart greeting = %v, want the parent's value for it", g)
	}
	sec := find(res, "Secret", "web-sub")
	want := Position{File: "charts/deps/charts/sub/values.yaml", Line: 2, Column: 12, Via: "values.yaml"}
	if got := sec.GitValues["stringData.token"]; got != want {
		t.Errorf("subchart Secret token at %+v, want %+v", got, want)
	}
}

func checkTemplates(t *testing.T, res *Result, want map[string]string) {
	t.Helper()
	got := map[string]string{}
	for _, o := range res.Objects {
		md, _ := o.Object["metadata"].(map[string]any)
		got[o.Object["kind"].(string)+"/"+md["name"].(string)] = o.Template
		if o.Line < 1 {
			t.Errorf("%s: Line %d", o.Template, o.Line)
		}
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("objects and templates:\n got %v\nwant %v", got, want)
	}
}

// TestRenderTgzSubchart packs the deps chart's subchart into charts/sub-0.2.0.tgz.
func TestRenderTgzSubchart(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "deps")
	copyDir(t, filepath.Join("testdata", "charts", "deps"), dir)
	subDir := filepath.Join(dir, "charts", "sub")
	writeTgz(t, subDir, filepath.Join(dir, "charts", "sub-0.2.0.tgz"))
	if err := os.RemoveAll(subDir); err != nil {
		t.Fatal(err)
	}
	res := mustRender(t, Release{ChartDir: dir, ChartRel: "apps/deps", Name: "web", Namespace: "apps"})
	checkTemplates(t, res, map[string]string{
		"CustomResourceDefinition/widgets.example.org": "apps/deps/crds/widgets.yaml",
		"CustomResourceDefinition/gadgets.example.org": "apps/deps/charts/sub-0.2.0.tgz/crds/gadgets.yaml",
		"ConfigMap/web-parent":                         "apps/deps/templates/configmap.yaml",
		"ConfigMap/web-sub":                            "apps/deps/charts/sub-0.2.0.tgz/templates/configmap.yaml",
		"Secret/web-sub":                               "apps/deps/charts/sub-0.2.0.tgz/templates/secret.yaml",
	})
	sec := find(res, "Secret", "web-sub")
	want := Position{File: "apps/deps/charts/sub-0.2.0.tgz/values.yaml", Line: 2, Column: 12, Via: "values.yaml"}
	if got := sec.GitValues["stringData.token"]; got != want {
		t.Errorf("tgz subchart Secret token at %+v, want %+v", got, want)
	}
	if !reflect.DeepEqual(res.MissingDependencies, []string{"absent"}) {
		t.Errorf("MissingDependencies = %v", res.MissingDependencies)
	}
}

func copyDir(t *testing.T, from, to string) {
	t.Helper()
	err := filepath.WalkDir(from, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(from, p)
		dst := filepath.Join(to, rel)
		if d.IsDir() {
			return os.MkdirAll(dst, 0o755)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(dst, data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// writeTgz packs a chart directory as Helm does: every file under a top
// directory named after the chart.
func writeTgz(t *testing.T, dir, file string) {
	t.Helper()
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		hdr := &tar.Header{Name: "sub/" + filepath.ToSlash(rel), Mode: 0o644, Size: int64(len(data)), Typeflag: tar.TypeReg}
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		_, err = tw.Write(data)
		return err
	})
	if err == nil {
		err = tw.Close()
	}
	if err == nil {
		err = gz.Close()
	}
	if err == nil {
		err = os.WriteFile(file, buf.Bytes(), 0o644)
	}
	if err != nil {
		t.Fatal(err)
	}
}

func TestRenderHelmignore(t *testing.T) {
	res := mustRender(t, rel("ignored"))
	if got := names(res); !reflect.DeepEqual(got, []string{"ConfigMap/kept"}) {
		t.Errorf("objects = %v, want only ConfigMap/kept: .helmignore'd files must not render", got)
	}
}

func TestRenderCapabilities(t *testing.T) {
	tests := []struct {
		name        string
		kubeVersion string
		apiVersions []string
		wantCluster bool
		wantVersion string
		wantModern  bool
	}{
		{name: "defaults", wantVersion: "v1.20.0"},
		{name: "cnpg served", kubeVersion: "1.31", apiVersions: []string{"postgresql.cnpg.io/v1"}, wantCluster: true, wantVersion: "v1.31.0", wantModern: true},
		{name: "other group only", kubeVersion: "v1.28.3", apiVersions: []string{"example.org/v1", "example.org/v1/Widget"}, wantVersion: "v1.28.3"},
		{name: "kind-qualified cnpg", apiVersions: []string{"postgresql.cnpg.io/v1/Cluster"}, wantVersion: "v1.20.0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := rel("caps")
			r.KubeVersion = tt.kubeVersion
			r.APIVersions = tt.apiVersions
			res := mustRender(t, r)
			if got := find(res, "Cluster", "web-db") != nil; got != tt.wantCluster {
				t.Errorf("Cluster rendered = %v, want %v", got, tt.wantCluster)
			}
			info := find(res, "ConfigMap", "web-info")
			data := info.Object["data"].(map[string]any)
			if data["kubeVersion"] != tt.wantVersion {
				t.Errorf("kubeVersion = %v, want %v", data["kubeVersion"], tt.wantVersion)
			}
			if got := data["modern"] == "true"; got != tt.wantModern {
				t.Errorf("modern = %v, want %v", got, tt.wantModern)
			}
		})
	}
}

// writeChart writes a small chart from file contents into a temporary directory.
func writeChart(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

const chartYAML = "apiVersion: v2\nname: broken\nversion: 0.1.0\n"

func TestRenderErrors(t *testing.T) {
	tests := []struct {
		name        string
		files       map[string]string
		kubeVersion string
		values      map[string]any
		want        string // in the message
		notWant     string // never in the message
	}{
		{
			name:  "required value",
			files: map[string]string{"Chart.yaml": chartYAML, "templates/cm.yaml": "kind: ConfigMap\nhost: {{ required \"db.host is required\" .Values.host }}\n"},
			want:  "db.host is required",
		},
		{
			name:  "parse error",
			files: map[string]string{"Chart.yaml": chartYAML, "templates/cm.yaml": "kind: ConfigMap\nx: {{ .Values.x \n"},
			want:  "unclosed action started at broken/templates/cm.yaml:2",
		},
		{
			name:  "execution error",
			files: map[string]string{"Chart.yaml": chartYAML, "templates/cm.yaml": "kind: ConfigMap\nx: {{ include \"nope\" . }}\n"},
			want:  `error calling include: template: no template "nope"`,
		},
		{
			name:    "fail with a secret value",
			files:   map[string]string{"Chart.yaml": chartYAML, "templates/cm.yaml": "{{ fail (printf \"password %s is too short\" .Values.auth.password) }}\n"},
			values:  map[string]any{"auth": map[string]any{"password": "hunter2-secret"}},
			want:    "password [redacted] is too short",
			notWant: "hunter2-secret",
		},
		{
			name:  "rendered YAML invalid",
			files: map[string]string{"Chart.yaml": chartYAML, "templates/cm.yaml": "kind: ConfigMap\n  bad: indentation\n: x\n"},
			want:  "YAML parse error on broken/templates/cm.yaml",
		},
		{
			name:  "rendered document not a mapping",
			files: map[string]string{"Chart.yaml": chartYAML, "templates/cm.yaml": "- just\n- a list\n"},
			want:  "YAML parse error on broken/templates/cm.yaml",
		},
		{
			name:  "no Chart.yaml",
			files: map[string]string{"templates/cm.yaml": "kind: ConfigMap\n"},
			want:  "load chart charts/broken",
		},
		{
			name:        "kubeVersion constraint",
			files:       map[string]string{"Chart.yaml": chartYAML + "kubeVersion: \">=1.30.0-0\"\n", "templates/cm.yaml": "kind: ConfigMap\n"},
			kubeVersion: "1.29",
			want:        "chart requires kubeVersion: >=1.30.0-0 which is incompatible with Kubernetes v1.29.0",
		},
		{
			name:        "bad kube version",
			files:       map[string]string{"Chart.yaml": chartYAML, "templates/cm.yaml": "kind: ConfigMap\n"},
			kubeVersion: "banana",
			want:        `kube version "banana"`,
		},
		{
			name: "schema violation",
			files: map[string]string{
				"Chart.yaml":         chartYAML,
				"values.schema.json": `{"type":"object","properties":{"replicas":{"type":"integer"}}}`,
				"templates/cm.yaml":  "kind: ConfigMap\n",
			},
			values: map[string]any{"replicas": "three"},
			want:   "values don't meet the specifications of the schema",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := writeChart(t, tt.files)
			r := Release{ChartDir: dir, ChartRel: "charts/broken", Name: "web", Namespace: "apps", KubeVersion: tt.kubeVersion}
			if tt.values != nil {
				r.Values = []ValuesLayer{{Values: tt.values, File: "hr.yaml", Via: "HelmRelease values"}}
			}
			res, err := Render(context.Background(), r)
			if err == nil {
				t.Fatalf("no error; objects %v", names(res))
			}
			msg := err.Error()
			if !strings.Contains(msg, tt.want) {
				t.Errorf("error %q does not contain %q", msg, tt.want)
			}
			if tt.notWant != "" && strings.Contains(msg, tt.notWant) {
				t.Errorf("error %q contains %q", msg, tt.notWant)
			}
			if strings.Contains(msg, "\n") {
				t.Errorf("error is not one line: %q", msg)
			}
		})
	}
}

func TestRenderMissingDir(t *testing.T) {
	_, err := Render(context.Background(), Release{ChartDir: filepath.Join(t.TempDir(), "nope"), ChartRel: "x/chart"})
	if err == nil || !strings.Contains(err.Error(), "load chart x/chart") {
		t.Errorf("err = %v", err)
	}
}

func TestRenderCanceled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := Render(ctx, rel("provenance"))
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
}

// TestRenderConcurrent renders the same charts at once: no shared state.
func TestRenderConcurrent(t *testing.T) {
	for _, c := range []string{"provenance", "deps", "generated", "caps"} {
		for i := 0; i < 3; i++ {
			t.Run(c, func(t *testing.T) {
				t.Parallel()
				mustRender(t, rel(c))
			})
		}
	}
}

func TestTemplateLine(t *testing.T) {
	deployment := `apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .Release.Name }}
  labels:
    {{- include "x.labels" . | nindent 4 }}
spec:
  replicas: {{ .Values.replicas }}
  template:
    metadata:
      labels:
        app: x
    spec:
      {{- with .Values.nodeSelector }}
      nodeSelector:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      containers:
      - name: app
        image: "{{ .Values.image }}"
        securityContext:
          runAsNonRoot: true
        "ports":
          - containerPort: 80
      volumes: []
`
	tests := []struct {
		name string
		text string
		path []any
		want int
	}{
		{"top-level key", deployment, []any{"spec"}, 7},
		{"nested key", deployment, []any{"spec", "replicas"}, 8},
		{"through a list index", deployment, []any{"spec", "template", "spec", "containers", int64(0), "securityContext", "runAsNonRoot"}, 22},
		{"quoted key", deployment, []any{"spec", "template", "spec", "containers", 0, "ports", 0, "containerPort"}, 24},
		{"templated labels fall back to the parent", deployment, []any{"metadata", "labels", "app.kubernetes.io/name"}, 5},
		{"not searched outside the parent's block", deployment, []any{"metadata", "replicas"}, 3},
		{"second metadata under template", deployment, []any{"spec", "template", "metadata", "labels", "app"}, 12},
		{"absent", deployment, []any{"status"}, 0},
		{"empty path", deployment, nil, 0},
		{"empty text", "", []any{"spec"}, 0},
		{"comment and action lines ignored", "# spec: no\n{{/* spec: */}}\nspec:\n  x: 1\n", []any{"spec", "x"}, 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := TemplateLine(tt.text, tt.path); got != tt.want {
				t.Errorf("TemplateLine(%v) = %d, want %d", tt.path, got, tt.want)
			}
		})
	}
}

func TestTemplateLineFrom(t *testing.T) {
	text := "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: b\n"
	tests := []struct {
		from int
		path []any
		want int
	}{
		{2, []any{"metadata", "name"}, 4},
		{7, []any{"metadata", "name"}, 9},
		{7, []any{"apiVersion"}, 6},
		{0, []any{"metadata", "name"}, 4},
		{99, []any{"metadata"}, 3},
	}
	for _, tt := range tests {
		if got := TemplateLineFrom(text, tt.from, tt.path); got != tt.want {
			t.Errorf("TemplateLineFrom(from %d, %v) = %d, want %d", tt.from, tt.path, got, tt.want)
		}
	}
}

func TestKindLine(t *testing.T) {
	multi := "apiVersion: v1\nkind: ConfigMap\n---\nkind: Secret\n---\nkind: ConfigMap\n"
	ranged := "{{- range .Values.items }}\n---\nkind: \"ConfigMap\"\n{{- end }}\n"
	tests := []struct {
		text string
		kind string
		n    int
		want int
	}{
		{multi, "ConfigMap", 0, 2},
		{multi, "ConfigMap", 1, 6},
		{multi, "Secret", 0, 4},
		{ranged, "ConfigMap", 2, 3},
		{"kind: {{ .Values.kind }}\n", "Widget", 0, 1},
		{"metadata: {}\nkind: {{ .Values.kind }}\n", "Widget", 0, 2},
		{"items:\n- kind: Pod\n", "Pod", 0, 2},
		{"", "Pod", 0, 1},
	}
	for _, tt := range tests {
		if got := kindLine(tt.text, tt.kind, tt.n); got != tt.want {
			t.Errorf("kindLine(%q, %s, %d) = %d, want %d", tt.text, tt.kind, tt.n, got, tt.want)
		}
	}
}

// panicker panics when a template calls its method.
type panicker struct{}

// Boom panics.
func (panicker) Boom() string { panic("boom") }

func TestRenderPanicBecomesError(t *testing.T) {
	dir := writeChart(t, map[string]string{"Chart.yaml": chartYAML, "templates/cm.yaml": "kind: ConfigMap\nx: {{ .Values.p.Boom }}\n"})
	r := Release{ChartDir: dir, ChartRel: "charts/broken", Name: "web", Namespace: "apps",
		Values: []ValuesLayer{{Values: map[string]any{"p": panicker{}}}}}
	var err error
	func() {
		defer func() {
			if p := recover(); p != nil {
				t.Fatalf("Render panicked: %v", p)
			}
		}()
		_, err = Render(context.Background(), r)
	}()
	if err == nil || !strings.Contains(err.Error(), "boom") {
		t.Errorf("err = %v, want the panic as an error", err)
	}
}

// TestRenderAlias renders one vendored subchart twice under an alias: both
// copies point at the subchart's own template file.
func TestRenderAlias(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "deps")
	copyDir(t, filepath.Join("testdata", "charts", "deps"), dir)
	chartFile := filepath.Join(dir, "Chart.yaml")
	data, err := os.ReadFile(chartFile)
	if err != nil {
		t.Fatal(err)
	}
	data = append(data, "  - name: sub\n    alias: second\n    version: \">=0.1.0\"\n"...)
	if err := os.WriteFile(chartFile, data, 0o644); err != nil {
		t.Fatal(err)
	}
	res := mustRender(t, Release{ChartDir: dir, ChartRel: "charts/deps", Name: "web", Namespace: "apps"})
	var greetings []string
	for _, o := range res.Objects {
		if o.Template == "charts/deps/charts/sub/templates/configmap.yaml" {
			greetings = append(greetings, o.Object["data"].(map[string]any)["greeting"].(string))
		}
	}
	sort.Strings(greetings)
	if want := []string{"hello", "hello-from-parent"}; !reflect.DeepEqual(greetings, want) {
		t.Errorf("subchart ConfigMaps greetings = %v, want %v (alias and original)", greetings, want)
	}
	if !reflect.DeepEqual(res.MissingDependencies, []string{"absent"}) {
		t.Errorf("MissingDependencies = %v", res.MissingDependencies)
	}
}
