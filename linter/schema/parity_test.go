package schema

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/yannh/kubeconform/pkg/resource"
	"github.com/yannh/kubeconform/pkg/validator"

	"github.com/openova-io/ova-lint/linter/schema/internal/convert"
)

// kubeconformLocation is the only schema location kubeconform is ever
// given: a local directory (never the network default, which an empty list
// would select). Full-group template, as DESIGN.md §5 asks: the short
// suffix would make Flux's Kustomization and kustomize's collide.
const kubeconformLocation = "{{ .Group }}/{{ .ResourceKind }}_{{ .ResourceAPIVersion }}.json"

// exportForKubeconform writes the catalog selected by opts (plus the given
// CRDs) as a local kubeconform schema directory and returns the schema
// location template. Catalog documents are written as they are, with the
// mem:// base rewritten to file://; every kind gets a small file that
// $refs its definition.
func exportForKubeconform(tb testing.TB, v *Validator, crdFiles ...string) string {
	tb.Helper()
	dir := tb.TempDir()
	catDir := filepath.Join(dir, "catalogs")
	require.NoError(tb, os.MkdirAll(catDir, 0o755))
	base := "file://" + filepath.ToSlash(catDir) + "/"

	kinds := map[string]string{} // KindKey -> absolute file URL of its definition
	write := func(resource string, defs map[string]any) {
		raw, err := json.Marshal(map[string]any{"definitions": defs})
		require.NoError(tb, err)
		raw = []byte(strings.ReplaceAll(string(raw), convert.CatalogBase, base))
		require.NoError(tb, os.WriteFile(filepath.Join(catDir, resource), raw, 0o644))
	}
	for _, name := range []string{"kubernetes-" + v.KubernetesVersion(), "extra", "flux-" + v.FluxVersion()} {
		c, err := readCatalog(name)
		require.NoError(tb, err)
		res := resourceName(name)
		write(res, c.definitions)
		for k, def := range c.kinds {
			kinds[k] = base + res + "#/definitions/" + convert.PointerEscape(def)
		}
	}
	crdDefs := map[string]any{}
	for _, f := range crdFiles {
		norm, err := jsonValue(loadDoc(tb, f))
		require.NoError(tb, err)
		vers, err := convert.CRD(norm.(map[string]any), convert.ObjectMetaRef)
		require.NoError(tb, err)
		for _, ver := range vers {
			key := convert.KindKey(ver.APIVersion, ver.Kind)
			crdDefs[key] = ver.Schema
			kinds[key] = base + "crds.json#/definitions/" + convert.PointerEscape(key)
		}
	}
	write("crds.json", crdDefs)

	for key, ref := range kinds {
		apiVersion, kind, _ := cutKindKey(key)
		group, version := apiVersion, apiVersion // kubeconform: "v1" -> group "v1"
		if i := strings.LastIndex(apiVersion, "/"); i >= 0 {
			group, version = apiVersion[:i], apiVersion[i+1:]
		}
		p := filepath.Join(dir, "schemas", group, strings.ToLower(kind)+"_"+version+".json")
		require.NoError(tb, os.MkdirAll(filepath.Dir(p), 0o755))
		raw, _ := json.Marshal(map[string]any{"$ref": ref})
		require.NoError(tb, os.WriteFile(p, raw, 0o644))
	}
	return filepath.Join(dir, "schemas") + "/" + kubeconformLocation
}

func newKubeconform(tb testing.TB, location string) validator.Validator {
	tb.Helper()
	require.False(tb, strings.HasPrefix(location, "http"), "kubeconform must only get local schema locations")
	kc, err := validator.New([]string{location}, validator.Opts{Strict: true})
	require.NoError(tb, err)
	return kc
}

func hasNull(v any) bool {
	switch v := v.(type) {
	case nil:
		return true
	case map[string]any:
		for _, x := range v {
			if hasNull(x) {
				return true
			}
		}
	case []any:
		for _, x := range v {
			if hasNull(x) {
				return true
			}
		}
	}
	return false
}

// TestKubeconformParity runs kubeconform v0.8.0's own pkg/validator (strict,
// local schemas only) over the test documents with the same schemas and
// checks that it reaches the same verdicts: valid, invalid (every path
// kubeconform reports is a prefix of one this package reports), or no schema.
// Documents with null values are left out: this package treats them as
// absent, as the API server does, kubeconform does not.
func TestKubeconformParity(t *testing.T) {
	files, err := filepath.Glob("testdata/*/*.yaml")
	require.NoError(t, err)
	for _, opts := range []Options{flux24, flux29, kube36} {
		v := newValidator(t, opts, widgetCRD)
		kc := newKubeconform(t, exportForKubeconform(t, v, widgetCRD))
		compared := 0
		for _, f := range files {
			f = filepath.ToSlash(f)
			obj := loadDoc(t, f)
			if fileMode(f) == "chart" || obj["apiVersion"] == nil || obj["kind"] == nil || hasNull(obj) {
				continue
			}
			raw, err := os.ReadFile(f)
			require.NoError(t, err)
			res := kc.ValidateResource(resource.Resource{Path: f, Bytes: raw})
			errs, err := v.Validate(obj)
			compared++
			switch {
			case err != nil:
				assert.Equal(t, validator.Error, res.Status, "%v %s: ours: %v; kubeconform: %v", opts, f, err, res.Err)
				if res.Err != nil {
					assert.Contains(t, res.Err.Error(), "could not find schema", "%v %s", opts, f)
				}
			case len(errs) == 0:
				assert.Equal(t, validator.Valid, res.Status, "%v %s: ours valid; kubeconform: %v %v", opts, f, res.Err, res.ValidationErrors)
			default:
				assert.Equal(t, validator.Invalid, res.Status, "%v %s: ours: %v; kubeconform: %v", opts, f, errs, res.Err)
				ours := make([]string, len(errs))
				for i, e := range errs {
					ours[i] = "/" + strings.Join(e.Path, "/")
				}
				for _, kerr := range res.ValidationErrors {
					found := false
					for _, o := range ours {
						if kerr.Path == "" || o == kerr.Path || strings.HasPrefix(o, kerr.Path+"/") {
							found = true
							break
						}
					}
					assert.True(t, found, "%v %s: kubeconform reports %s (%s), we report %v", opts, f, kerr.Path, kerr.Msg, ours)
				}
			}
		}
		t.Logf("%+v: %d documents compared", opts, compared)
		assert.Greater(t, compared, 20)
	}
}
