package e2e

import (
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/engine"
	"helm.sh/helm/v3/pkg/releaseutil"
	sigsyaml "sigs.k8s.io/yaml"
)

// chartDir is the Helm chart under test.
const chartDir = "../../chart"

// rendered is one rendering of the chart: each manifest as YAML and as an object.
type rendered struct {
	manifests []string
	objects   []map[string]any
}

// renderChart renders the chart as `helm template --namespace ns release chart --values` does
// (no cluster: lookup finds nothing), with values (YAML) merged over values.yaml.
func renderChart(t testing.TB, release, namespace, values string) (*rendered, error) {
	t.Helper()
	chrt, err := loader.LoadDir(chartDir)
	require.NoError(t, err)
	vals := map[string]any{}
	if values != "" {
		require.NoError(t, sigsyaml.Unmarshal([]byte(values), &vals))
	}
	caps := chartutil.DefaultCapabilities.Copy()
	caps.KubeVersion = chartutil.KubeVersion{Version: "v1.36.4", Major: "1", Minor: "36"}
	top, err := chartutil.ToRenderValues(chrt, vals, chartutil.ReleaseOptions{Name: release, Namespace: namespace, Revision: 1, IsInstall: true}, caps)
	if err != nil {
		return nil, err
	}
	files, err := engine.Render(chrt, top)
	if err != nil {
		return nil, err
	}
	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	sort.Strings(names)
	out := &rendered{}
	for _, name := range names {
		if strings.HasSuffix(name, "NOTES.txt") || strings.HasPrefix(filepath.Base(name), "_") {
			continue
		}
		docs := releaseutil.SplitManifests(files[name])
		keys := make([]string, 0, len(docs))
		for k := range docs {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			doc := strings.TrimSpace(docs[k])
			var obj map[string]any
			require.NoError(t, sigsyaml.Unmarshal([]byte(doc), &obj), "%s:\n%s", name, doc)
			if len(obj) == 0 {
				continue
			}
			out.manifests = append(out.manifests, doc)
			out.objects = append(out.objects, obj)
		}
	}
	return out, nil
}

// find returns the rendered objects of a kind.
func (r *rendered) find(kind string) []map[string]any {
	var out []map[string]any
	for _, o := range r.objects {
		if o["kind"] == kind {
			out = append(out, o)
		}
	}
	return out
}

// one returns the single rendered object of a kind.
func (r *rendered) one(t testing.TB, kind string) map[string]any {
	t.Helper()
	objs := r.find(kind)
	require.Len(t, objs, 1, "rendered %s objects", kind)
	return objs[0]
}

// write puts every manifest in its own file under dir, as `helm template --output-dir` would.
func (r *rendered) write(t testing.TB, dir string) {
	t.Helper()
	for i, m := range r.manifests {
		name := filepath.Join(dir, strings.ToLower(r.objects[i]["kind"].(string))+"-"+strconv.Itoa(i)+".yaml")
		require.NoError(t, os.WriteFile(name, []byte(m+"\n"), 0o644))
	}
}

// get walks obj along path (map keys, or ints for list indexes).
func get(obj any, path ...any) any {
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, ok := obj.(map[string]any)
			if !ok {
				return nil
			}
			obj = m[k]
		case int:
			l, ok := obj.([]any)
			if !ok || k >= len(l) {
				return nil
			}
			obj = l[k]
		}
	}
	return obj
}
