package schema

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/yannh/kubeconform/pkg/resource"
	"github.com/yannh/kubeconform/pkg/validator"
)

// exportForKubeconform writes v's catalogue plus the CRD files for kubeconform (see
// ExportForKubeconform) into a temporary directory.
func exportForKubeconform(tb testing.TB, v *Validator, crdFiles ...string) string {
	tb.Helper()
	var crds []map[string]any
	for _, f := range crdFiles {
		crds = append(crds, loadDoc(tb, f))
	}
	loc, err := v.ExportForKubeconform(tb.TempDir(), crds...)
	require.NoError(tb, err)
	return loc
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
