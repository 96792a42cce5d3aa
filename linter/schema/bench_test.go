package schema

import (
	"os"
	"testing"

	"github.com/yannh/kubeconform/pkg/resource"
	"gopkg.in/yaml.v3"
)

var benchDocs = []struct{ name, file string }{
	{"Deployment", "testdata/core/deployment-valid.yaml"},
	{"HelmRelease", "testdata/flux/helmrelease-valid.yaml"},
	{"Kustomization", "testdata/flux/kustomization-valid.yaml"},
	{"HelmReleaseInvalid", "testdata/flux/helmrelease-invalid.yaml"},
}

// BenchmarkValidate is the schema cost per document: an already-parsed
// object validated against its (cached) compiled schema, the way the linter
// calls it. Parallel runs Validate from GOMAXPROCS goroutines.
func BenchmarkValidate(b *testing.B) {
	v := newValidator(b, Options{})
	for _, d := range benchDocs {
		obj := loadDoc(b, d.file)
		if _, err := v.Validate(obj); err != nil { // compile outside the timing
			b.Fatal(err)
		}
		b.Run(d.name, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				if _, err := v.Validate(obj); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(d.name+"/Parallel", func(b *testing.B) {
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := v.Validate(obj); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
	b.Run("kustomization.yaml", func(b *testing.B) {
		obj := loadDoc(b, "testdata/kustomize/kustomization.yaml")
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			if _, err := v.ValidateKustomization(obj); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkKubeconform is the same work through kubeconform v0.8.0's
// pkg/validator (bytes in: it parses YAML again for every document), with
// the same schemas from a local directory, for comparison.
// ParseAndValidate is this package's equivalent including a yaml.v3 parse.
func BenchmarkKubeconform(b *testing.B) {
	v := newValidator(b, Options{})
	kc := newKubeconform(b, exportForKubeconform(b, v))
	for _, d := range benchDocs[:3] {
		raw, err := os.ReadFile(d.file)
		if err != nil {
			b.Fatal(err)
		}
		res := resource.Resource{Path: d.file, Bytes: raw}
		kc.ValidateResource(res) // compile outside the timing
		b.Run(d.name+"/kubeconform", func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				kc.ValidateResource(res)
			}
		})
		b.Run(d.name+"/ParseAndValidate", func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				var obj map[string]any
				if err := yaml.Unmarshal(raw, &obj); err != nil {
					b.Fatal(err)
				}
				if _, err := v.Validate(obj); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkNew is the one-off cost of opening the embedded catalog.
func BenchmarkNew(b *testing.B) {
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := New(Options{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkFirstUse is New plus compiling one Deployment schema.
func BenchmarkFirstUse(b *testing.B) {
	obj := loadDoc(b, "testdata/core/deployment-valid.yaml")
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		v, err := New(Options{})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := v.Validate(obj); err != nil {
			b.Fatal(err)
		}
	}
}
