package schema

import (
	"bytes"
	"compress/gzip"
	"embed"
	"fmt"
	"io"
	"path"
	"sort"
	"strings"

	jsonschema "github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/openova-io/ova-lint/linter/schema/internal/convert"
)

//go:embed catalog/*.json.gz
var catalogFS embed.FS

const (
	defaultKubernetesVersion = "1.31" // the platform's k3s
	defaultFluxVersion       = "2.4"  // the platform pins Flux v2.4.0

	fileChart         = "Chart.yaml"
	fileKustomization = "kustomization.yaml#Kustomization"
	fileComponent     = "kustomization.yaml#Component"
)

// catalog is one embedded catalog file (written by internal/gen).
type catalog struct {
	name        string
	sources     []string
	kinds       map[string]string // convert.KindKey -> definition name
	files       map[string]string // special file type -> definition name
	definitions map[string]any
}

// Versions returns the selectable Kubernetes and Flux versions, oldest first
// (e.g. ["1.31" "1.36"], ["2.4" "2.5" ... "2.9"]). The first of each is not
// necessarily the default; the defaults are 1.31 and 2.4.
func Versions() (kube []string, flux []string) {
	entries, _ := catalogFS.ReadDir("catalog")
	for _, e := range entries {
		name := strings.TrimSuffix(e.Name(), ".json.gz")
		switch {
		case strings.HasPrefix(name, "kubernetes-"):
			kube = append(kube, strings.TrimPrefix(name, "kubernetes-"))
		case strings.HasPrefix(name, "flux-"):
			flux = append(flux, strings.TrimPrefix(name, "flux-"))
		}
	}
	byMinor := func(l []string) func(i, j int) bool {
		return func(i, j int) bool {
			a, _ := minorNumber(l[i])
			b, _ := minorNumber(l[j])
			return a < b
		}
	}
	sort.Slice(kube, byMinor(kube))
	sort.Slice(flux, byMinor(flux))
	return kube, flux
}

// normalizeVersion turns "v1.31", "1.31.4" or "1.31" into "1.31".
func normalizeVersion(v string) string {
	v = strings.TrimPrefix(strings.TrimSpace(v), "v")
	parts := strings.SplitN(v, ".", 3)
	if len(parts) >= 2 {
		return parts[0] + "." + parts[1]
	}
	return v
}

func pickVersion(what, want, def string, have []string) (string, error) {
	if want == "" {
		want = def
	}
	n := normalizeVersion(want)
	for _, h := range have {
		if h == n {
			return h, nil
		}
	}
	return "", fmt.Errorf("schema: unsupported %s version %q (available: %s)", what, want, strings.Join(have, ", "))
}

func readCatalog(name string) (*catalog, error) {
	raw, err := catalogFS.ReadFile(path.Join("catalog", name+".json.gz"))
	if err != nil {
		return nil, err
	}
	zr, err := gzip.NewReader(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("schema: catalog %s: %w", name, err)
	}
	data, err := io.ReadAll(zr)
	if err != nil {
		return nil, fmt.Errorf("schema: catalog %s: %w", name, err)
	}
	// jsonschema.UnmarshalJSON keeps numbers exact (json.Number), as the
	// compiler expects.
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("schema: catalog %s: %w", name, err)
	}
	m, ok := doc.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("schema: catalog %s: not an object", name)
	}
	c := &catalog{name: name, kinds: map[string]string{}, files: map[string]string{}}
	c.definitions, _ = m["definitions"].(map[string]any)
	for k, v := range asMap(m["kinds"]) {
		if s, ok := v.(string); ok {
			c.kinds[k] = s
		}
	}
	for k, v := range asMap(m["files"]) {
		if s, ok := v.(string); ok {
			c.files[k] = s
		}
	}
	if l, ok := m["sources"].([]any); ok {
		for _, s := range l {
			if s, ok := s.(string); ok {
				c.sources = append(c.sources, s)
			}
		}
	}
	if c.definitions == nil {
		return nil, fmt.Errorf("schema: catalog %s: no definitions", name)
	}
	return c, nil
}

func asMap(v any) map[string]any {
	m, _ := v.(map[string]any)
	return m
}

// resourceName is the name a catalog is registered under with the compiler.
// The Kubernetes catalog must be convert.KubernetesCatalog: CRD schemas
// refer to its ObjectMeta.
func resourceName(catalogName string) string {
	switch {
	case strings.HasPrefix(catalogName, "kubernetes-"):
		return convert.KubernetesCatalog
	case strings.HasPrefix(catalogName, "flux-"):
		return "flux.json"
	}
	return catalogName + ".json"
}

// definitionURL is the absolute location of a definition in a resource.
func definitionURL(resource, def string) string {
	return convert.CatalogBase + resource + "#/definitions/" + convert.PointerEscape(def)
}
