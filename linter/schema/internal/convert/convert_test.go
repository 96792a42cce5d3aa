package convert

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func mustJSON(t *testing.T, s string) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal([]byte(s), &m))
	return m
}

func TestCRDSchema(t *testing.T) {
	in := mustJSON(t, `{
	  "type": "object",
	  "description": "dropped",
	  "properties": {
	    "apiVersion": {"type": "string", "description": "dropped"},
	    "metadata": {"type": "object"},
	    "spec": {
	      "type": "object",
	      "x-kubernetes-validations": [{"rule": "self.a > 0"}],
	      "required": ["a"],
	      "properties": {
	        "a": {"type": "integer", "default": 1, "minimum": 0},
	        "port": {"x-kubernetes-int-or-string": true, "anyOf": [{"type": "integer"}, {"type": "string"}], "pattern": "^[a-z0-9]+$"},
	        "free": {"type": "object", "x-kubernetes-preserve-unknown-fields": true, "properties": {"known": {"type": "string"}}},
	        "note": {"type": "string", "nullable": true},
	        "labels": {"type": "object", "additionalProperties": {"type": "string"}},
	        "list": {"type": "array", "items": {"type": "object", "properties": {"name": {"type": "string"}}}}
	      }
	    },
	    "status": {"type": "object", "properties": {"ready": {"type": "boolean"}}}
	  }
	}`)
	want := mustJSON(t, `{
	  "type": "object",
	  "additionalProperties": false,
	  "properties": {
	    "apiVersion": {"type": "string"},
	    "kind": {"type": "string"},
	    "metadata": {"$ref": "`+ObjectMetaRef+`"},
	    "spec": {
	      "type": "object",
	      "additionalProperties": false,
	      "required": ["a"],
	      "properties": {
	        "a": {"type": "integer", "minimum": 0},
	        "port": {"type": ["integer", "string"], "pattern": "^[a-z0-9]+$"},
	        "free": {"type": "object", "properties": {"known": {"type": "string"}}},
	        "note": {"type": ["string", "null"]},
	        "labels": {"type": "object", "additionalProperties": {"type": "string"}},
	        "list": {"type": "array", "items": {"type": "object", "additionalProperties": false, "properties": {"name": {"type": "string"}}}}
	      }
	    },
	    "status": {"type": "object"}
	  }
	}`)
	got := CRDSchema(in, ObjectMetaRef, true)
	assert.Equal(t, want, roundTrip(t, got))

	// Without a status subresource, status is validated like the rest.
	got = CRDSchema(in, ObjectMetaRef, false)
	assert.Equal(t, map[string]any{"type": "object", "additionalProperties": false,
		"properties": map[string]any{"ready": map[string]any{"type": "boolean"}}},
		roundTrip(t, got)["properties"].(map[string]any)["status"])
}

func TestCRDSchemaMetadataConstraints(t *testing.T) {
	in := mustJSON(t, `{"type": "object", "properties": {"metadata": {"type": "object", "properties": {"name": {"type": "string", "maxLength": 63}}}}}`)
	got := roundTrip(t, CRDSchema(in, "ref", false))
	assert.Equal(t, mustJSON(t, `{"allOf": [{"$ref": "ref"}, {"type": "object", "properties": {"name": {"type": "string", "maxLength": 63}}}]}`),
		got["properties"].(map[string]any)["metadata"])
}

func TestCRDSchemaPreserveRoot(t *testing.T) {
	got := CRDSchema(nil, "ref", false)
	_, strict := got["additionalProperties"]
	assert.False(t, strict, "a CRD without a schema accepts any field")
}

func TestCRD(t *testing.T) {
	crd := mustJSON(t, `{
	  "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
	  "spec": {
	    "group": "example.com", "names": {"kind": "Thing"},
	    "versions": [
	      {"name": "v1", "served": true, "subresources": {"status": {}}, "schema": {"openAPIV3Schema": {"type": "object"}}},
	      {"name": "v0", "served": false, "schema": {"openAPIV3Schema": {"type": "object"}}}
	    ]
	  }
	}`)
	vers, err := CRD(crd, "ref")
	require.NoError(t, err)
	require.Len(t, vers, 1)
	assert.Equal(t, "example.com/v1", vers[0].APIVersion)
	assert.Equal(t, "Thing", vers[0].Kind)

	_, err = CRD(map[string]any{"kind": "Secret"}, "ref")
	assert.Error(t, err)
	_, err = CRD(mustJSON(t, `{"kind": "CustomResourceDefinition", "spec": {"group": "g", "names": {"kind": "K"}, "versions": [{"name": "v1", "served": false}]}}`), "ref")
	assert.EqualError(t, err, "CustomResourceDefinition K.g serves no version")
}

func TestSwagger(t *testing.T) {
	doc := mustJSON(t, `{"definitions": {
	  "io.k8s.api.apps.v1.Deployment": {
	    "description": "dropped",
	    "type": "object",
	    "properties": {
	      "apiVersion": {"type": "string"},
	      "kind": {"type": "string"},
	      "metadata": {"$ref": "#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta", "description": "dropped"},
	      "spec": {"type": "object", "x-kubernetes-patch-strategy": "merge", "properties": {"replicas": {"type": "integer", "format": "int32"}}}
	    },
	    "x-kubernetes-group-version-kind": [{"group": "apps", "kind": "Deployment", "version": "v1"}]
	  },
	  "io.k8s.api.core.v1.Pod": {"type": "object", "properties": {}, "x-kubernetes-group-version-kind": [{"group": "", "kind": "Pod", "version": "v1"}]},
	  "io.k8s.apimachinery.pkg.util.intstr.IntOrString": {"type": "string", "format": "int-or-string"},
	  "io.k8s.apimachinery.pkg.api.resource.Quantity": {"type": "string"},
	  "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaProps": {
	    "type": "object",
	    "properties": {"format": {"type": "string"}, "properties": {"type": "object", "additionalProperties": {"$ref": "#/definitions/io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaProps"}}}
	  }
	}}`)
	defs, kinds, err := Swagger(doc)
	require.NoError(t, err)
	assert.Equal(t, map[string]string{
		"apps/v1/Deployment": "io.k8s.api.apps.v1.Deployment",
		"v1/Pod":             "io.k8s.api.core.v1.Pod",
	}, kinds)
	got := roundTrip(t, defs)
	assert.Equal(t, mustJSON(t, `{
	  "type": "object", "additionalProperties": false,
	  "properties": {
	    "apiVersion": {"type": "string"},
	    "kind": {"type": "string"},
	    "metadata": {"$ref": "#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"},
	    "spec": {"type": "object", "additionalProperties": false, "properties": {"replicas": {"type": "integer", "format": "int32"}}}
	  }
	}`), got["io.k8s.api.apps.v1.Deployment"])
	assert.Equal(t, mustJSON(t, `{"type": ["integer", "string"]}`), got["io.k8s.apimachinery.pkg.util.intstr.IntOrString"])
	assert.Equal(t, mustJSON(t, `{"type": ["string", "number"]}`), got["io.k8s.apimachinery.pkg.api.resource.Quantity"])
	// Property names that are also keywords ("format", "properties") are
	// properties, not keywords.
	props := got["io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaProps"].(map[string]any)["properties"].(map[string]any)
	assert.Equal(t, map[string]any{"type": "string"}, props["format"])
	assert.Contains(t, props, "properties")
}

func TestPointerEscape(t *testing.T) {
	assert.Equal(t, "helm.toolkit.fluxcd.io~1v2~1HelmRelease", PointerEscape("helm.toolkit.fluxcd.io/v2/HelmRelease"))
	assert.Equal(t, "a~0b", PointerEscape("a~b"))
}

func roundTrip(t *testing.T, v any) map[string]any {
	t.Helper()
	raw, err := json.Marshal(v)
	require.NoError(t, err)
	return mustJSON(t, string(raw))
}
