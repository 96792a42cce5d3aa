package schema

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestNearestFluxVersion(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"v2.7.2", "2.7"},
		{"2.4", "2.4"},
		{"2.8.0-rc.1", "2.8"},
		{"v2.12.0", "2.9"}, // newer than every carried line: the newest
		{"2.3.0", "2.4"},   // older than every carried line: the oldest
		{"v0.41.2", ""},
		{"1.0", ""},
		{"", ""},
	} {
		assert.Equal(t, tc.want, NearestFluxVersion(tc.in), tc.in)
	}
}

// The API data says what each Flux line's CRDs say, and what Kubernetes removed.
func TestAPIs(t *testing.T) {
	apis, err := APIs()
	require.NoError(t, err)
	flux := apis["flux"].(map[string]any)
	_, fluxes := Versions()
	for _, l := range fluxes {
		assert.Contains(t, flux, l, "every carried Flux line has API data")
	}
	kind := func(line, key string) map[string]any {
		k, _ := flux[line].(map[string]any)[key].(map[string]any)
		return k
	}
	version := func(line, key, v string) map[string]any {
		m, _ := kind(line, key)["versions"].(map[string]any)[v].(map[string]any)
		return m
	}
	// Flux 2.4 still serves HelmRepository v1beta2 but deprecates it; v1 is stored.
	hr := kind("2.4", "source.toolkit.fluxcd.io/HelmRepository")
	assert.Equal(t, "v1", hr["storage"])
	assert.Equal(t, map[string]any{"served": true, "deprecated": true, "warning": "v1beta2 HelmRepository is deprecated, upgrade to v1"}, version("2.4", "source.toolkit.fluxcd.io/HelmRepository", "v1beta2"))
	assert.Equal(t, map[string]any{"served": true}, version("2.4", "source.toolkit.fluxcd.io/HelmRepository", "v1"))
	// Flux 2.7 dropped v2beta1 HelmRelease; 2.8 dropped v2beta2 too.
	assert.Nil(t, version("2.7", "helm.toolkit.fluxcd.io/HelmRelease", "v2beta1"))
	assert.NotNil(t, version("2.7", "helm.toolkit.fluxcd.io/HelmRelease", "v2beta2"))
	assert.Nil(t, version("2.8", "helm.toolkit.fluxcd.io/HelmRelease", "v2beta2"))
	// ExternalArtifact exists from 2.7.
	assert.Nil(t, kind("2.6", "source.toolkit.fluxcd.io/ExternalArtifact"))
	assert.NotNil(t, kind("2.7", "source.toolkit.fluxcd.io/ExternalArtifact"))

	kube := apis["kubernetes"].(map[string]any)
	assert.Equal(t, []any{"1.31", "1.36"}, kube["minors"])
	removed := kube["removed"].(map[string]any)
	// from the migration guide's table
	assert.Equal(t, map[string]any{"deprecated_in": "1.14", "removed_in": "1.22", "replacement": "networking.k8s.io/v1"}, removed["extensions/v1beta1/Ingress"])
	assert.Equal(t, map[string]any{"deprecated_in": "1.29", "removed_in": "1.32", "replacement": "flowcontrol.apiserver.k8s.io/v1"}, removed["flowcontrol.apiserver.k8s.io/v1beta3/FlowSchema"])
	// derived: served by 1.31's swagger.json, absent from 1.36's
	assert.Equal(t, map[string]any{"removed_in": "1.36", "replacement": "storage.k8s.io/v1", "derived": true}, removed["storage.k8s.io/v1alpha1/VolumeAttributesClass"])
	// GA APIs are not removed
	assert.NotContains(t, removed, "apps/v1/Deployment")
	assert.NotContains(t, removed, "v1/ConfigMap")
}

// Fields new in Flux 2.5 and 2.7 validate under the line that has them and are schema errors
// under 2.4: a tree is judged by the Flux it runs.
func TestFluxLinesFields(t *testing.T) {
	ks := map[string]any{
		"apiVersion": "kustomize.toolkit.fluxcd.io/v1", "kind": "Kustomization",
		"metadata": map[string]any{"name": "apps", "namespace": "flux-system"},
		"spec": map[string]any{
			"interval": "10m", "path": "./apps", "prune": true,
			"sourceRef":        map[string]any{"kind": "ExternalArtifact", "name": "apps"},                        // 2.7
			"deletionPolicy":   "Delete",                                                                          // 2.5
			"healthCheckExprs": []any{map[string]any{"apiVersion": "v1", "kind": "ConfigMap", "current": "true"}}, // 2.5
		},
	}
	hr := map[string]any{
		"apiVersion": "helm.toolkit.fluxcd.io/v2", "kind": "HelmRelease",
		"metadata": map[string]any{"name": "podinfo", "namespace": "apps"},
		"spec": map[string]any{
			"interval": "10m",
			"chartRef": map[string]any{"kind": "OCIRepository", "name": "podinfo"},
			"install":  map[string]any{"strategy": map[string]any{"name": "RetryOnFailure"}}, // 2.7
		},
	}
	fields := func(line string, obj map[string]any) []string {
		v := newValidator(t, Options{FluxVersion: line})
		errs, err := v.Validate(obj)
		require.NoError(t, err)
		var out []string
		for _, e := range errs {
			out = append(out, e.String())
		}
		return out
	}
	assert.Empty(t, fields("2.7", ks))
	assert.Empty(t, fields("2.7", hr))
	assert.ElementsMatch(t, []string{
		`spec.deletionPolicy: unknown field "deletionPolicy"`,
		`spec.healthCheckExprs: unknown field "healthCheckExprs"`,
		`spec.sourceRef.kind: unsupported value; must be one of "OCIRepository", "GitRepository", "Bucket"`,
	}, fields("2.4", ks))
	assert.Equal(t, []string{`spec.install.strategy: unknown field "strategy"`}, fields("2.4", hr))
	assert.Equal(t, []string{`spec.install.strategy: unknown field "strategy"`}, fields("2.6", hr))
	assert.Equal(t, []string{`spec.sourceRef.kind: unsupported value; must be one of "OCIRepository", "GitRepository", "Bucket"`}, fields("2.5", ks))
}
