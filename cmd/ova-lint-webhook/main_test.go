package main

import (
	"os/exec"
	"strings"
	"testing"
)

// TestLinksNoRenderer keeps the webhook binary small: it must not link the linter's renderers
// (Helm, kustomize) or the lint pipeline, which would more than double the pages it maps (its
// RSS). A webhook package that imports github.com/openova-io/ova-lint/linter brings them back.
func TestLinksNoRenderer(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	deps := strings.Fields(string(out))
	if len(deps) < 100 {
		t.Fatalf("go list -deps listed %d packages; expected the webhook's whole closure", len(deps))
	}
	forbidden := []string{
		"helm.sh/helm/",
		"sigs.k8s.io/kustomize/",
		"github.com/fluxcd/pkg/kustomize",
		"github.com/openova-io/ova-lint/linter/render",
		"github.com/openova-io/ova-lint/linter/build",
		"github.com/openova-io/ova-lint/internal/cli",
	}
	for _, d := range deps {
		if d == "github.com/openova-io/ova-lint/linter" {
			t.Errorf("the webhook binary links the lint pipeline (package linter)")
		}
		for _, f := range forbidden {
			if strings.HasPrefix(d, f) {
				t.Errorf("the webhook binary links %s", d)
			}
		}
	}
}
