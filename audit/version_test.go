package audit

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestWrittenVersion(t *testing.T) {
	entry := func(manager, op, apiVersion, at, sub string) any {
		e := map[string]any{"manager": manager, "operation": op, "apiVersion": apiVersion, "time": at}
		if sub != "" {
			e["subresource"] = sub
		}
		return e
	}
	tests := []struct {
		name    string
		entries []any
		want    string
	}{
		{"none", nil, ""},
		{"applied by kustomize-controller", []any{entry("kustomize-controller", "Apply", "kustomize.toolkit.fluxcd.io/v1beta2", "2026-01-01T00:00:00Z", "")}, "kustomize.toolkit.fluxcd.io/v1beta2"},
		{"the newest write wins", []any{
			entry("kubectl-client-side-apply", "Update", "kustomize.toolkit.fluxcd.io/v1beta2", "2026-01-01T00:00:00Z", ""),
			entry("kustomize-controller", "Apply", "kustomize.toolkit.fluxcd.io/v1", "2026-02-01T00:00:00Z", ""),
		}, "kustomize.toolkit.fluxcd.io/v1"},
		{"status writes do not count", []any{
			entry("kustomize-controller", "Apply", "kustomize.toolkit.fluxcd.io/v1beta2", "2026-01-01T00:00:00Z", ""),
			entry("kustomize-controller", "Update", "kustomize.toolkit.fluxcd.io/v1", "2026-03-01T00:00:00Z", "status"),
		}, "kustomize.toolkit.fluxcd.io/v1beta2"},
		{"an entry without a time counts as oldest", []any{
			entry("a", "Apply", "kustomize.toolkit.fluxcd.io/v1", "", ""),
			entry("b", "Update", "kustomize.toolkit.fluxcd.io/v1beta2", "2026-01-01T00:00:00Z", ""),
		}, "kustomize.toolkit.fluxcd.io/v1beta2"},
		{"malformed entries are ignored", []any{"x", map[string]any{"operation": "Apply"}}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			obj := map[string]any{"metadata": map[string]any{"managedFields": tt.entries}}
			assert.Equal(t, tt.want, writtenVersion(obj))
		})
	}
}
