package schema

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const widgetCRD = "testdata/crd/widget-crd.yaml"

var (
	flux24 = Options{}                   // defaults: Kubernetes 1.31, Flux 2.4
	flux29 = Options{FluxVersion: "2.9"} // current Flux line
	kube36 = Options{KubernetesVersion: "1.36"}
)

func TestValidate(t *testing.T) {
	cases := []struct {
		name     string
		file     string
		opts     Options
		crds     []string
		want     []string // render() of the expected errors; empty: valid
		noSchema string   // expected NoSchemaError text
	}{
		// Core Kubernetes.
		{name: "deployment valid", file: "testdata/core/deployment-valid.yaml"},
		{name: "deployment valid 1.36", file: "testdata/core/deployment-valid.yaml", opts: kube36},
		{name: "deployment invalid", file: "testdata/core/deployment-invalid.yaml", want: []string{
			"spec.replicas type",
			"spec.strategyy additionalProperties",
			"spec.template.spec.containers.0 required",
			"spec.template.spec.containers.0.imagePullPolicyy additionalProperties",
			"spec.template.spec.containers.0.ports.0.containerPort type",
		}},
		{name: "service int-or-string, null timestamp, empty status", file: "testdata/core/service-valid.yaml"},
		{name: "kind only in 1.36: no schema under 1.31", file: "testdata/core/deviceclass-1.36.yaml",
			noSchema: "no schema for resource.k8s.io/v1/DeviceClass (schemas exist for resource.k8s.io/v1alpha3)"},
		{name: "kind only in 1.36: valid under 1.36", file: "testdata/core/deviceclass-1.36.yaml", opts: kube36},
		{name: "secret with invalid values", file: "testdata/core/leak.yaml", want: []string{
			"data.password type", "immutable type", "stringData.token type",
		}},

		// Flux: the done-when check, both lines.
		{name: "disableTakeOwnership flagged under Flux 2.4 (default)", file: "testdata/flux/helmrelease-disable-take-ownership.yaml",
			want: []string{"spec.install.disableTakeOwnership additionalProperties"}},
		{name: "disableTakeOwnership accepted under Flux 2.9", file: "testdata/flux/helmrelease-disable-take-ownership.yaml", opts: flux29},
		{name: "helmrelease valid 2.4", file: "testdata/flux/helmrelease-valid.yaml"},
		{name: "helmrelease valid 2.9", file: "testdata/flux/helmrelease-valid.yaml", opts: flux29},
		{name: "helmrelease invalid", file: "testdata/flux/helmrelease-invalid.yaml", want: []string{
			"spec.chart.spec.sourceRef.kind enum",
			"spec.install.crds enum",
			"spec.interval pattern",
			"spec.valuesFile additionalProperties",
		}},
		{name: "helmrelease v2beta1 served by Flux 2.4", file: "testdata/flux/helmrelease-v2beta1.yaml"},
		{name: "helmrelease v2beta1 gone in Flux 2.9", file: "testdata/flux/helmrelease-v2beta1.yaml", opts: flux29,
			noSchema: "no schema for helm.toolkit.fluxcd.io/v2beta1/HelmRelease (schemas exist for helm.toolkit.fluxcd.io/v2)"},
		{name: "gitrepository valid", file: "testdata/flux/gitrepository-valid.yaml"},
		{name: "gitrepository invalid", file: "testdata/flux/gitrepository-invalid.yaml", want: []string{
			"spec.interval pattern", "spec.ref.brnach additionalProperties",
		}},
		{name: "flux kustomization valid", file: "testdata/flux/kustomization-valid.yaml"},
		{name: "flux kustomization valid 2.9", file: "testdata/flux/kustomization-valid.yaml", opts: flux29},
		{name: "flux kustomization invalid", file: "testdata/flux/kustomization-invalid.yaml", want: []string{
			"spec.prune type", "spec.sourceRef required",
		}},

		// External Secrets Operator and cert-manager.
		{name: "externalsecret valid", file: "testdata/eso/externalsecret-valid.yaml"},
		{name: "externalsecret invalid", file: "testdata/eso/externalsecret-invalid.yaml", want: []string{
			"spec.data.0.remoteRef required",
			"spec.data.0.remoteRef.kee additionalProperties",
			"spec.target.creationPolicy enum",
		}},
		{name: "clustersecretstore valid", file: "testdata/eso/clustersecretstore-valid.yaml"},
		{name: "clusterissuer valid", file: "testdata/certmanager/clusterissuer-valid.yaml"},
		{name: "certificate invalid", file: "testdata/certmanager/certificate-invalid.yaml", want: []string{
			"spec required", "spec.dnsNames type",
		}},

		// Blueprint (hand-written schemas).
		{name: "blueprint v1alpha1 valid", file: "testdata/blueprint/v1alpha1-valid.yaml"},
		{name: "blueprint v1 valid", file: "testdata/blueprint/v1-valid.yaml"},
		{name: "blueprint invalid", file: "testdata/blueprint/invalid.yaml", want: []string{
			"spec.card required",
			"spec.card.colour additionalProperties",
			"spec.depends.0.verison additionalProperties",
			"spec.placementSchema.modes.1 enum",
			"spec.version pattern",
			"spec.visibility enum",
		}},

		// Helm Chart.yaml.
		{name: "chart valid", file: "testdata/chart/Chart.yaml"},
		{name: "chart invalid", file: "testdata/chart/Chart-invalid.yaml", want: []string{
			"$ required",
			"apiVersion enum",
			"appVersion type",
			"dependencies.0.repo additionalProperties",
			"maintainers.0 required",
			"type enum",
		}},

		// kustomize's kustomization.yaml, checked as kustomize config.
		{name: "kustomization valid", file: "testdata/kustomize/kustomization.yaml"},
		{name: "kustomization valid 2.9", file: "testdata/kustomize/kustomization.yaml", opts: flux29},
		{name: "kustomization without apiVersion", file: "testdata/kustomize/kustomization-no-apiversion.yaml"},
		{name: "kustomization invalid", file: "testdata/kustomize/kustomization-invalid.yaml", want: []string{
			"patches type", "replicas.0.count type", "resource additionalProperties",
		}},
		{name: "component valid", file: "testdata/kustomize/component.yaml"},

		// A CRD found in the linted tree.
		{name: "CRD document itself", file: widgetCRD},
		{name: "custom resource without its CRD", file: "testdata/crd/widget-valid.yaml",
			noSchema: "no schema for example.openova.io/v1/Widget"},
		{name: "custom resource valid", file: "testdata/crd/widget-valid.yaml", crds: []string{widgetCRD}},
		{name: "custom resource invalid", file: "testdata/crd/widget-invalid.yaml", crds: []string{widgetCRD}, want: []string{
			"extra additionalProperties",
			"metadata.namespce additionalProperties",
			"spec.colour enum",
			"spec.labels.a type",
			"spec.port type",
			"spec.shape additionalProperties",
			"spec.size maximum",
		}},
	}
	validators := map[string]*Validator{}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			key := fmt.Sprintf("%+v %v", tc.opts, tc.crds)
			v := validators[key]
			if v == nil {
				v = newValidator(t, tc.opts, tc.crds...)
				validators[key] = v
			}
			errs, err := validateFile(v, tc.file, loadDoc(t, tc.file))
			if tc.noSchema != "" {
				require.Error(t, err)
				assert.True(t, errors.Is(err, ErrNoSchema), "errors.Is(err, ErrNoSchema)")
				var nse *NoSchemaError
				require.True(t, errors.As(err, &nse))
				assert.Equal(t, tc.noSchema, err.Error())
				return
			}
			require.NoError(t, err)
			if len(tc.want) == 0 {
				assert.Empty(t, errs, "expected a valid document, got %v", errs)
				return
			}
			assert.Equal(t, tc.want, render(errs), "errors: %v", errs)
		})
	}
}

func TestErrorMessages(t *testing.T) {
	v := newValidator(t, flux24, widgetCRD)
	errs, err := v.Validate(loadDoc(t, "testdata/crd/widget-invalid.yaml"))
	require.NoError(t, err)
	got := map[string]string{}
	for _, e := range errs {
		got[strings.Join(e.Path, ".")] = e.Message
	}
	assert.Equal(t, map[string]string{
		"extra":             `unknown field "extra"`,
		"metadata.namespce": `unknown field "namespce"`,
		"spec.colour":       `unsupported value; must be one of "red", "green", "blue"`,
		"spec.labels.a":     `invalid type: got number, want string`,
		"spec.port":         `invalid type: got number, want integer or string`,
		"spec.shape":        `unknown field "shape"`,
		"spec.size":         `must be less than or equal to 10`,
	}, got)

	errs, err = v.Validate(loadDoc(t, "testdata/flux/gitrepository-invalid.yaml"))
	require.NoError(t, err)
	require.Len(t, errs, 2)
	assert.Equal(t, []string{"spec", "interval"}, errs[0].Path)
	assert.Equal(t, `does not match the pattern ^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$`, errs[0].Message)
	assert.Equal(t, "spec.ref.brnach: unknown field \"brnach\"", errs[1].String())

	errs, err = v.Validate(loadDoc(t, "testdata/core/deployment-invalid.yaml"))
	require.NoError(t, err)
	assert.Contains(t, errs, Error{
		Path:    []string{"spec", "template", "spec", "containers", "0"},
		Message: `missing required field "name"`, Keyword: "required",
	})
}

// Messages must never carry document values: they may be secrets.
func TestMessagesNeverContainValues(t *testing.T) {
	const secret = "s3cr3t"
	v := newValidator(t, flux24, widgetCRD)
	docs := map[string]map[string]any{
		"leak.yaml": loadDoc(t, "testdata/core/leak.yaml"),
		"pattern": {
			"apiVersion": "source.toolkit.fluxcd.io/v1", "kind": "GitRepository",
			"metadata": map[string]any{"name": "x", "namespace": "y"},
			"spec": map[string]any{
				"interval": secret + "-interval", "url": secret + "://u",
				"ref": map[string]any{"branch": 1},
			},
		},
		"enum": {
			"apiVersion": "helm.toolkit.fluxcd.io/v2", "kind": "HelmRelease",
			"metadata": map[string]any{"name": "x"},
			"spec": map[string]any{
				"interval": "1m", "chart": map[string]any{"spec": map[string]any{"chart": "c",
					"sourceRef": map[string]any{"kind": secret + "-kind", "name": "n"}}},
				"install": map[string]any{"crds": secret + "-crds", "remediation": map[string]any{"retries": secret}},
			},
		},
		"format and bounds": {
			"apiVersion": "example.openova.io/v1", "kind": "Widget",
			"metadata": map[string]any{"name": "x", "creationTimestamp": secret + "-time"},
			"spec":     map[string]any{"size": 1234567, "colour": secret + "-colour", "port": []any{secret}},
		},
		"int-or-string and quantity": {
			"apiVersion": "v1", "kind": "Pod",
			"metadata": map[string]any{"name": "x"},
			"spec": map[string]any{"containers": []any{map[string]any{
				"name": "c", "image": "i",
				"resources":     map[string]any{"limits": map[string]any{"cpu": []any{secret}}},
				"ports":         []any{map[string]any{"containerPort": secret}},
				"livenessProbe": map[string]any{"httpGet": map[string]any{"port": map[string]any{secret: true}}},
			}}},
		},
	}
	for name, doc := range docs {
		errs, err := v.Validate(doc)
		require.NoError(t, err, name)
		require.NotEmpty(t, errs, name)
		for _, e := range errs {
			assert.NotContains(t, e.Message, secret, "%s: %s", name, e)
			assert.NotContains(t, e.Message, "1234567", "%s: %s", name, e)
		}
	}
}

func TestMissingAPIVersionOrKind(t *testing.T) {
	v := newValidator(t, flux24)
	errs, err := v.Validate(map[string]any{"metadata": map[string]any{"name": "x"}})
	require.NoError(t, err)
	assert.Equal(t, []string{"$ required", "$ required"}, render(errs))
	assert.Equal(t, `missing required field "apiVersion"`, errs[0].Message)
	assert.Equal(t, `missing required field "kind"`, errs[1].Message)

	errs, err = v.Validate(map[string]any{"apiVersion": "v1", "kind": 3})
	require.NoError(t, err)
	assert.Equal(t, []Error{{Path: []string{"kind"}, Keyword: "type", Message: "invalid type: got number, want string"}}, errs)
}

func TestNoSchema(t *testing.T) {
	v := newValidator(t, flux24)
	_, err := v.Validate(map[string]any{"apiVersion": "example.com/v1", "kind": "Thing"})
	require.Error(t, err)
	assert.True(t, errors.Is(err, ErrNoSchema))
	var nse *NoSchemaError
	require.True(t, errors.As(err, &nse))
	assert.Equal(t, &NoSchemaError{APIVersion: "example.com/v1", Kind: "Thing"}, nse)
	assert.Equal(t, "no schema for example.com/v1/Thing", err.Error())
}

func TestVersions(t *testing.T) {
	kube, flux := Versions()
	assert.Equal(t, []string{"1.31", "1.36"}, kube)
	assert.Equal(t, []string{"2.4", "2.5", "2.6", "2.7", "2.8", "2.9"}, flux)

	v := newValidator(t, Options{})
	assert.Equal(t, "1.31", v.KubernetesVersion())
	assert.Equal(t, "2.4", v.FluxVersion())
	v = newValidator(t, Options{KubernetesVersion: "v1.36.4", FluxVersion: "v2.9.5"})
	assert.Equal(t, "1.36", v.KubernetesVersion())
	assert.Equal(t, "2.9", v.FluxVersion())

	_, err := New(Options{KubernetesVersion: "1.20"})
	assert.EqualError(t, err, `schema: unsupported Kubernetes version "1.20" (available: 1.31, 1.36)`)
	_, err = New(Options{FluxVersion: "3"})
	assert.EqualError(t, err, `schema: unsupported Flux version "3" (available: 2.4, 2.5, 2.6, 2.7, 2.8, 2.9)`)
}

// Every schema in every catalog combination compiles.
func TestCatalogCompiles(t *testing.T) {
	if testing.Short() {
		t.Skip("compiles the whole catalog")
	}
	kubes, fluxes := Versions()
	for _, k := range kubes {
		for _, f := range fluxes {
			v := newValidator(t, Options{KubernetesVersion: k, FluxVersion: f})
			n := compileAll(t, v)
			t.Logf("kubernetes %s, flux %s: %d schemas", k, f, n)
		}
	}
}

func TestAddCRD(t *testing.T) {
	t.Run("tree CRD replaces the catalog's schema", func(t *testing.T) {
		v := newValidator(t, flux24)
		bp := loadDoc(t, "testdata/blueprint/v1-valid.yaml")
		errs, err := v.Validate(bp)
		require.NoError(t, err)
		require.Empty(t, errs)

		// A Blueprint CRD whose v1 has no spec.card.
		crd := loadDoc(t, "testdata/crd/widget-crd.yaml")
		spec := crd["spec"].(map[string]any)
		spec["group"] = "catalyst.openova.io"
		spec["names"] = map[string]any{"kind": "Blueprint", "plural": "blueprints"}
		require.NoError(t, v.AddCRD(crd))
		errs, err = v.Validate(bp)
		require.NoError(t, err)
		assert.Contains(t, render(errs), "spec.card additionalProperties")
		assert.Contains(t, render(errs), "spec required")
	})
	t.Run("unserved versions are not added", func(t *testing.T) {
		v := newValidator(t, flux24, widgetCRD)
		_, err := v.Validate(map[string]any{"apiVersion": "example.openova.io/v0", "kind": "Widget"})
		assert.True(t, errors.Is(err, ErrNoSchema))
		errs, err := v.Validate(map[string]any{"apiVersion": "example.openova.io/v1alpha1", "kind": "Widget",
			"metadata": map[string]any{"name": "w"}, "spec": map[string]any{"size": 0}})
		require.NoError(t, err)
		assert.Equal(t, []string{"spec.size minimum"}, render(errs))
	})
	t.Run("errors", func(t *testing.T) {
		v := newValidator(t, flux24)
		assert.Error(t, v.AddCRD(map[string]any{"kind": "ConfigMap"}))
		assert.Error(t, v.AddCRD(map[string]any{"kind": "CustomResourceDefinition"}))
		bad := loadDoc(t, widgetCRD)
		vers := bad["spec"].(map[string]any)["versions"].([]any)
		props := vers[1].(map[string]any)["schema"].(map[string]any)["openAPIV3Schema"].(map[string]any)["properties"].(map[string]any)
		props["spec"].(map[string]any)["properties"].(map[string]any)["colour"] = map[string]any{"type": "string", "pattern": "(unclosed"}
		err := v.AddCRD(bad)
		require.Error(t, err)
		assert.Contains(t, err.Error(), "example.openova.io/v1/Widget")
		// The valid version still got in.
		_, err = v.Validate(map[string]any{"apiVersion": "example.openova.io/v1alpha1", "kind": "Widget"})
		assert.NoError(t, err)
	})
	t.Run("v1beta1 CRD with a shared schema", func(t *testing.T) {
		v := newValidator(t, flux24)
		require.NoError(t, v.AddCRD(map[string]any{
			"apiVersion": "apiextensions.k8s.io/v1beta1", "kind": "CustomResourceDefinition",
			"spec": map[string]any{
				"group": "legacy.example.com", "version": "v1", "names": map[string]any{"kind": "Old"},
				"validation": map[string]any{"openAPIV3Schema": map[string]any{
					"properties": map[string]any{"spec": map[string]any{"properties": map[string]any{"n": map[string]any{"type": "integer"}}}},
				}},
			},
		}))
		errs, err := v.Validate(map[string]any{"apiVersion": "legacy.example.com/v1", "kind": "Old",
			"spec": map[string]any{"n": "x", "m": 1}})
		require.NoError(t, err)
		assert.Equal(t, []string{"spec.m additionalProperties", "spec.n type"}, render(errs))
	})
}

// Validate is used from many goroutines at once (run with -race).
func TestConcurrentValidate(t *testing.T) {
	v := newValidator(t, flux29, widgetCRD)
	files := []string{
		"testdata/core/deployment-valid.yaml", "testdata/core/deployment-invalid.yaml",
		"testdata/flux/helmrelease-valid.yaml", "testdata/flux/helmrelease-invalid.yaml",
		"testdata/eso/externalsecret-invalid.yaml", "testdata/crd/widget-invalid.yaml",
		"testdata/kustomize/kustomization-invalid.yaml", "testdata/chart/Chart-invalid.yaml",
	}
	docs := make([]map[string]any, len(files))
	want := make([][]Error, len(files))
	for i, f := range files {
		docs[i] = loadDoc(t, f)
		want[i], _ = validateFile(newValidator(t, flux29, widgetCRD), f, docs[i])
	}
	var wg sync.WaitGroup
	for g := 0; g < 16; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 50; i++ {
				k := (g + i) % len(files)
				got, err := validateFile(v, files[k], docs[k])
				if err != nil || !reflect.DeepEqual(got, want[k]) {
					t.Errorf("%s: got %v, %v; want %v", files[k], got, err, want[k])
					return
				}
			}
		}(g)
	}
	wg.Wait()
}

func TestNormalize(t *testing.T) {
	ts := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	in := map[string]any{
		"keep":   map[string]any{"a": 1, "b": []any{"x", 2.5}},
		"null":   nil,
		"nested": map[string]any{"gone": nil, "here": "y"},
		"time":   ts,
		"anyMap": map[any]any{1: "one", "two": nil},
		"typed":  map[string]string{"k": "v"},
		"list":   []string{"a"},
	}
	out, changed := normalize(in)
	require.True(t, changed)
	assert.Equal(t, map[string]any{
		"keep":   map[string]any{"a": 1, "b": []any{"x", 2.5}},
		"nested": map[string]any{"here": "y"},
		"time":   "2024-05-01T12:00:00Z",
		"anyMap": map[string]any{"1": "one"},
		"typed":  map[string]any{"k": "v"},
		"list":   []any{"a"},
	}, out)
	// The input is untouched.
	assert.Contains(t, in, "null")
	assert.Contains(t, in["nested"], "gone")

	same := map[string]any{"a": map[string]any{"b": []any{1, "c", true}}}
	out, changed = normalize(same)
	assert.False(t, changed)
	assert.Equal(t, reflect.ValueOf(same).Pointer(), reflect.ValueOf(out).Pointer(), "no copy when nothing changes")
}

// TestNewReadsCatalogsOnFirstUse: New only selects the versions; the catalogs are read by the
// first validation (a cached run never needs them), and an unsupported version still fails New.
func TestNewReadsCatalogsOnFirstUse(t *testing.T) {
	v, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	if v.index.Load() != nil {
		t.Fatal("New read the catalogs")
	}
	if _, err := v.Validate(map[string]any{"apiVersion": "v1", "kind": "ConfigMap", "metadata": map[string]any{"name": "x"}}); err != nil {
		t.Fatal(err)
	}
	if v.index.Load() == nil {
		t.Fatal("Validate did not read the catalogs")
	}
	if _, err := New(Options{KubernetesVersion: "0.1"}); err == nil {
		t.Fatal("New accepted an unsupported Kubernetes version")
	}
}

// TestPrecompile: Precompile compiles the schema of an object's kind ahead of Validate, and
// ignores an object of no known kind.
func TestPrecompile(t *testing.T) {
	v, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	v.Precompile(map[string]any{"apiVersion": "example.org/v1", "kind": "Unknown"})
	v.Precompile(map[string]any{"apiVersion": "apps/v1", "kind": "Deployment"})
	idx, err := v.loaded()
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	v.compiled.Range(func(any, any) bool { n++; return true })
	if _, ok := v.compiled.Load(idx.kinds["apps/v1/Deployment"]); !ok || n != 1 {
		t.Errorf("compiled %d schemas, Deployment's among them: %v; want only it", n, ok)
	}
}
