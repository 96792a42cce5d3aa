package schema

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/openova-io/ova-lint/linter/schema/internal/convert"
)

// KubeconformLocation is the only schema location kubeconform is ever given: a local
// directory (never the network default, which an empty list would select). Full-group
// template, as DESIGN.md §5 asks: the short suffix would make Flux's Kustomization and
// kustomize's collide.
const KubeconformLocation = "{{ .Group }}/{{ .ResourceKind }}_{{ .ResourceAPIVersion }}.json"

// ExportForKubeconform writes the catalogue v uses (plus the given CRD documents) into dir
// as a local kubeconform schema directory and returns the schema location template to pass
// to kubeconform's -schema-location. Catalogue documents are written as they are, with the
// in-memory base rewritten to file://; every kind gets a small file that $refs its
// definition. The parity test and the benchmark against kubeconform use it, so both tools
// validate against the same schemas.
func (v *Validator) ExportForKubeconform(dir string, crds ...map[string]any) (string, error) {
	catDir := filepath.Join(dir, "catalogs")
	if err := os.MkdirAll(catDir, 0o755); err != nil {
		return "", fmt.Errorf("export schemas: %w", err)
	}
	base := "file://" + filepath.ToSlash(catDir) + "/"
	kinds := map[string]string{} // KindKey -> absolute file URL of its definition
	write := func(resource string, defs map[string]any) error {
		raw, err := json.Marshal(map[string]any{"definitions": defs})
		if err != nil {
			return fmt.Errorf("export schemas: %w", err)
		}
		raw = []byte(strings.ReplaceAll(string(raw), convert.CatalogBase, base))
		return os.WriteFile(filepath.Join(catDir, resource), raw, 0o644)
	}
	for _, name := range []string{"kubernetes-" + v.KubernetesVersion(), "extra", "flux-" + v.FluxVersion()} {
		c, err := readCatalog(name)
		if err != nil {
			return "", err
		}
		res := resourceName(name)
		if err := write(res, c.definitions); err != nil {
			return "", err
		}
		for k, def := range c.kinds {
			kinds[k] = base + res + "#/definitions/" + convert.PointerEscape(def)
		}
	}
	crdDefs := map[string]any{}
	for _, crd := range crds {
		norm, err := jsonValue(crd)
		if err != nil {
			return "", err
		}
		vers, err := convert.CRD(norm.(map[string]any), convert.ObjectMetaRef)
		if err != nil {
			return "", err
		}
		for _, ver := range vers {
			key := convert.KindKey(ver.APIVersion, ver.Kind)
			crdDefs[key] = ver.Schema
			kinds[key] = base + "crds.json#/definitions/" + convert.PointerEscape(key)
		}
	}
	if err := write("crds.json", crdDefs); err != nil {
		return "", err
	}
	for key, ref := range kinds {
		apiVersion, kind, _ := cutKindKey(key)
		group, version := apiVersion, apiVersion // kubeconform: "v1" -> group "v1"
		if i := strings.LastIndex(apiVersion, "/"); i >= 0 {
			group, version = apiVersion[:i], apiVersion[i+1:]
		}
		p := filepath.Join(dir, "schemas", group, strings.ToLower(kind)+"_"+version+".json")
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return "", fmt.Errorf("export schemas: %w", err)
		}
		raw, _ := json.Marshal(map[string]any{"$ref": ref})
		if err := os.WriteFile(p, raw, 0o644); err != nil {
			return "", fmt.Errorf("export schemas: %w", err)
		}
	}
	return filepath.Join(dir, "schemas") + "/" + KubeconformLocation, nil
}
