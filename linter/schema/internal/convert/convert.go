// Package convert turns Kubernetes OpenAPI material into strict JSON Schema
// (draft-04), the way kubeconform's tooling does:
//
//   - core Kubernetes: the swagger 2.0 document's definitions, as in
//     yannh/kubernetes-json-schema's "standalone-strict" flavour, except that
//     $refs are kept (they are resolved by the JSON Schema compiler, which
//     gives the same result as inlining them, at a fraction of the size);
//   - CustomResourceDefinitions: each served version's openAPIV3Schema, as in
//     kubeconform's scripts/openapi2jsonschema.py.
//
// Strictness: every object schema that lists properties and says nothing
// about additionalProperties gets "additionalProperties": false, unless it
// carries x-kubernetes-preserve-unknown-fields. Unlike openapi2jsonschema.py
// the document root is strict too (apiVersion, kind and metadata are added),
// because the API server rejects unknown top-level fields as well.
//
// int-or-string (swagger's format, or CRDs' x-kubernetes-int-or-string) is
// the type ["integer","string"]; resource.Quantity is ["string","number"].
// Descriptions, defaults, examples and CEL rules (x-kubernetes-validations)
// are dropped: they do not take part in validation here and only cost size.
//
// The package is used both by the catalog generator and at run time for the
// CRDs found in a linted tree, so that both paths convert identically.
package convert

import (
	"fmt"
	"sort"
	"strings"
)

// CatalogBase is the base URL under which catalogs are registered with the
// JSON Schema compiler. It is a made-up scheme: nothing is ever fetched.
const CatalogBase = "mem://ova-lint/"

// KubernetesCatalog is the resource name of the core Kubernetes catalog.
const KubernetesCatalog = "kubernetes.json"

// ObjectMetaDef is the swagger definition name of ObjectMeta.
const ObjectMetaDef = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"

// ObjectMetaRef is the absolute reference custom resources use for metadata.
const ObjectMetaRef = CatalogBase + KubernetesCatalog + "#/definitions/" + ObjectMetaDef

// KindKey is the catalog key of a kind: apiVersion + "/" + kind, e.g.
// "apps/v1/Deployment", "v1/Pod", "helm.toolkit.fluxcd.io/v2/HelmRelease".
func KindKey(apiVersion, kind string) string { return apiVersion + "/" + kind }

// keywords that are copied verbatim (after checking nothing else is needed).
var plainKeywords = map[string]bool{
	"type": true, "format": true, "enum": true, "pattern": true,
	"minimum": true, "maximum": true, "exclusiveMinimum": true, "exclusiveMaximum": true,
	"multipleOf": true, "minLength": true, "maxLength": true,
	"minItems": true, "maxItems": true, "uniqueItems": true,
	"minProperties": true, "maxProperties": true, "required": true,
	"$ref": true, "const": true,
}

type nodeOpts struct {
	// openAPIV3 enables CRD (OpenAPI v3 / structural schema) extensions.
	openAPIV3 bool
}

// node converts one schema node. It never modifies its input.
func node(in map[string]any, o nodeOpts) map[string]any {
	out := make(map[string]any, len(in))
	preserve := in["x-kubernetes-preserve-unknown-fields"] == true
	for k, v := range in {
		switch {
		case plainKeywords[k]:
			out[k] = cloneValue(v)
		case k == "properties":
			props, ok := v.(map[string]any)
			if !ok {
				continue
			}
			np := make(map[string]any, len(props))
			for name, ps := range props {
				if m, ok := ps.(map[string]any); ok {
					np[name] = node(m, o)
				}
			}
			out[k] = np
		case k == "items":
			switch it := v.(type) {
			case map[string]any:
				out[k] = node(it, o)
			case []any: // tuple form, not used by Kubernetes but legal
				l := make([]any, 0, len(it))
				for _, x := range it {
					if m, ok := x.(map[string]any); ok {
						l = append(l, node(m, o))
					}
				}
				out[k] = l
			}
		case k == "additionalProperties":
			switch ap := v.(type) {
			case bool:
				out[k] = ap
			case map[string]any:
				out[k] = node(ap, o)
			}
		case k == "allOf" || k == "anyOf" || k == "oneOf":
			l, ok := v.([]any)
			if !ok {
				continue
			}
			nl := make([]any, 0, len(l))
			for _, x := range l {
				if m, ok := x.(map[string]any); ok {
					nl = append(nl, node(m, o))
				}
			}
			out[k] = nl
		case k == "not":
			if m, ok := v.(map[string]any); ok {
				out[k] = node(m, o)
			}
		}
	}
	// $ref wins over every sibling in draft-04; keep the node minimal.
	if ref, ok := out["$ref"]; ok {
		return map[string]any{"$ref": ref}
	}
	intOrString := in["x-kubernetes-int-or-string"] == true || in["format"] == "int-or-string"
	if intOrString {
		out["type"] = []any{"integer", "string"}
		if out["format"] == "int-or-string" {
			delete(out, "format")
		}
		if isIntOrStringAnyOf(out["anyOf"]) {
			delete(out, "anyOf")
		}
		if isIntOrStringAnyOf(out["oneOf"]) {
			delete(out, "oneOf")
		}
	}
	if o.openAPIV3 && in["nullable"] == true {
		out["type"] = addNull(out["type"])
	}
	if _, hasProps := out["properties"]; hasProps && !preserve {
		if _, set := out["additionalProperties"]; !set {
			out["additionalProperties"] = false
		}
	}
	return out
}

func isIntOrStringAnyOf(v any) bool {
	l, ok := v.([]any)
	if !ok || len(l) == 0 {
		return false
	}
	for _, x := range l {
		m, ok := x.(map[string]any)
		if !ok || len(m) != 1 {
			return false
		}
		if t := m["type"]; t != "integer" && t != "string" {
			return false
		}
	}
	return true
}

func addNull(t any) any {
	switch t := t.(type) {
	case string:
		if t == "null" {
			return t
		}
		return []any{t, "null"}
	case []any:
		for _, x := range t {
			if x == "null" {
				return t
			}
		}
		return append(append([]any{}, t...), "null")
	}
	return t // no type: anything goes already
}

func cloneValue(v any) any {
	switch v := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(v))
		for k, x := range v {
			m[k] = cloneValue(x)
		}
		return m
	case []any:
		l := make([]any, len(v))
		for i, x := range v {
			l[i] = cloneValue(x)
		}
		return l
	}
	return v
}

// Swagger converts the definitions of a Kubernetes swagger 2.0 document
// (api/openapi-spec/swagger.json). It returns the converted definitions and
// the kinds they serve (KindKey -> definition name).
func Swagger(doc map[string]any) (defs map[string]any, kinds map[string]string, err error) {
	in, ok := doc["definitions"].(map[string]any)
	if !ok {
		return nil, nil, fmt.Errorf("swagger document has no definitions")
	}
	defs = make(map[string]any, len(in))
	kinds = map[string]string{}
	for name, d := range in {
		m, ok := d.(map[string]any)
		if !ok {
			continue
		}
		switch name {
		case "io.k8s.apimachinery.pkg.util.intstr.IntOrString":
			defs[name] = map[string]any{"type": []any{"integer", "string"}}
			continue
		case "io.k8s.apimachinery.pkg.api.resource.Quantity":
			// resource.Quantity unmarshals from a JSON string or number.
			defs[name] = map[string]any{"type": []any{"string", "number"}}
			continue
		}
		defs[name] = node(m, nodeOpts{})
		gvks, _ := m["x-kubernetes-group-version-kind"].([]any)
		for _, g := range gvks {
			gm, ok := g.(map[string]any)
			if !ok {
				continue
			}
			group, _ := gm["group"].(string)
			version, _ := gm["version"].(string)
			kind, _ := gm["kind"].(string)
			if version == "" || kind == "" {
				continue
			}
			apiVersion := version
			if group != "" {
				apiVersion = group + "/" + version
			}
			key := KindKey(apiVersion, kind)
			if prev, dup := kinds[key]; dup && prev < name {
				continue // deterministic choice
			}
			kinds[key] = name
		}
	}
	return defs, kinds, nil
}

// CRDVersion is one served version of a CustomResourceDefinition.
type CRDVersion struct {
	APIVersion string
	Kind       string
	Schema     map[string]any
}

// CRD converts a CustomResourceDefinition document (apiextensions.k8s.io/v1
// or v1beta1) into one strict schema per served version. metaRef is the
// $ref used for metadata (normally ObjectMetaRef).
func CRD(crd map[string]any, metaRef string) ([]CRDVersion, error) {
	if k, _ := crd["kind"].(string); k != "CustomResourceDefinition" {
		return nil, fmt.Errorf("not a CustomResourceDefinition (kind %q)", k)
	}
	spec, ok := crd["spec"].(map[string]any)
	if !ok {
		return nil, fmt.Errorf("CustomResourceDefinition has no spec")
	}
	group, _ := spec["group"].(string)
	names, _ := spec["names"].(map[string]any)
	kind, _ := names["kind"].(string)
	if group == "" || kind == "" {
		return nil, fmt.Errorf("CustomResourceDefinition lacks spec.group or spec.names.kind")
	}
	// v1beta1: a top-level schema shared by all versions.
	var shared map[string]any
	if val, ok := spec["validation"].(map[string]any); ok {
		shared, _ = val["openAPIV3Schema"].(map[string]any)
	}
	type ver struct {
		name   string
		schema map[string]any
		status bool // status subresource enabled
	}
	sharedStatus := hasStatusSubresource(spec)
	var vers []ver
	if vl, ok := spec["versions"].([]any); ok && len(vl) > 0 {
		for _, x := range vl {
			vm, ok := x.(map[string]any)
			if !ok {
				continue
			}
			name, _ := vm["name"].(string)
			if name == "" {
				continue
			}
			if served, ok := vm["served"].(bool); ok && !served {
				continue
			}
			s := shared
			if sc, ok := vm["schema"].(map[string]any); ok {
				if o, ok := sc["openAPIV3Schema"].(map[string]any); ok {
					s = o
				}
			}
			vers = append(vers, ver{name, s, sharedStatus || hasStatusSubresource(vm)})
		}
	} else if v, ok := spec["version"].(string); ok && v != "" {
		vers = append(vers, ver{v, shared, sharedStatus})
	}
	if len(vers) == 0 {
		return nil, fmt.Errorf("CustomResourceDefinition %s.%s serves no version", kind, group)
	}
	out := make([]CRDVersion, 0, len(vers))
	for _, v := range vers {
		out = append(out, CRDVersion{
			APIVersion: group + "/" + v.name,
			Kind:       kind,
			Schema:     CRDSchema(v.schema, metaRef, v.status),
		})
	}
	return out, nil
}

func hasStatusSubresource(m map[string]any) bool {
	sub, ok := m["subresources"].(map[string]any)
	if !ok {
		return false
	}
	_, ok = sub["status"]
	return ok
}

// CRDSchema converts one openAPIV3Schema (nil means "no schema": anything
// is accepted below the root). With statusSubresource, the API server
// ignores .status on create and update, so it is accepted as any object
// (this also keeps the catalog small).
func CRDSchema(s map[string]any, metaRef string, statusSubresource bool) map[string]any {
	if s == nil {
		s = map[string]any{"type": "object", "x-kubernetes-preserve-unknown-fields": true}
	}
	root := node(s, nodeOpts{openAPIV3: true})
	if root["type"] == nil {
		root["type"] = "object"
	}
	props, _ := root["properties"].(map[string]any)
	if props == nil {
		props = map[string]any{}
		root["properties"] = props
	}
	props["apiVersion"] = map[string]any{"type": "string"}
	props["kind"] = map[string]any{"type": "string"}
	meta, _ := props["metadata"].(map[string]any)
	if meta != nil && meta["properties"] != nil {
		// Keep the CRD's own constraints (e.g. a name pattern) but let
		// ObjectMeta decide which fields exist.
		delete(meta, "additionalProperties")
		props["metadata"] = map[string]any{"allOf": []any{map[string]any{"$ref": metaRef}, meta}}
	} else {
		props["metadata"] = map[string]any{"$ref": metaRef}
	}
	if _, ok := props["status"]; ok && statusSubresource {
		props["status"] = map[string]any{"type": "object"}
	}
	if s["x-kubernetes-preserve-unknown-fields"] != true {
		root["additionalProperties"] = false
	}
	return root
}

// SortedKeys returns the keys of m in order.
func SortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// PointerEscape escapes a JSON pointer token.
func PointerEscape(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "~", "~0"), "/", "~1")
}
