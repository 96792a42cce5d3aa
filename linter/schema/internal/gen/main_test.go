package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestFluxControllers(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) {
		p := filepath.Join(dir, "manifests", "bases", name, "kustomization.yaml")
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(content), 0o644))
	}
	write("helm-controller", `apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
- https://github.com/fluxcd/helm-controller/releases/download/v1.1.0/helm-controller.crds.yaml
- https://github.com/fluxcd/helm-controller/releases/download/v1.1.0/helm-controller.deployment.yaml
- account.yaml
`)
	write("source-watcher", `resources:
- https://github.com/fluxcd/source-watcher/releases/download/v2.2.4/source-watcher.crds.yaml
`)
	got, err := fluxControllers(dir)
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"helm-controller": "v1.1.0", "source-watcher": "v2.2.4"}, got)

	_, err = fluxControllers(t.TempDir())
	assert.Error(t, err)
}

func TestMajorSuffix(t *testing.T) {
	assert.Equal(t, "", majorSuffix("v0.39.0"))
	assert.Equal(t, "", majorSuffix("v1.6.4"))
	assert.Equal(t, "/v2", majorSuffix("v2.2.4"))
}

func TestCRDDocs(t *testing.T) {
	docs, err := crdDocs([]byte(`# START crd {{- if .Values.crds.enabled }}
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: things.example.com
  labels:
    app: '{{ template "name" . }}'
spec:
  group: example.com
---
apiVersion: v1
kind: ConfigMap
# END crd {{- end }}
`))
	require.NoError(t, err)
	require.Len(t, docs, 1)
	assert.Equal(t, "example.com", docs[0]["spec"].(map[string]any)["group"])
}

func TestHandwrittenBlueprintCRD(t *testing.T) {
	docs, err := crdDocs(blueprintCRD)
	require.NoError(t, err)
	c := &catalog{Kinds: map[string]string{}, Definitions: map[string]any{}}
	n, err := addCRDs(c, docs)
	require.NoError(t, err)
	assert.Equal(t, 2, n)
	assert.Contains(t, c.Kinds, "catalyst.openova.io/v1alpha1/Blueprint")
	assert.Contains(t, c.Kinds, "catalyst.openova.io/v1/Blueprint")
}
