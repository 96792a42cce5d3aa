package cli

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestGraphTree is the Flux graph end to end on one tree (testdata/graph), in every output
// format: a Kustomization with postBuild substitute and substituteFrom (one variable provided by
// neither), a local chart with one vendored and one missing dependency, a HelmRelease with values
// and valuesFrom (a Secret value traced to Git), and two Kustomizations of one cluster declaring
// the same Namespace. The cluster's flux-system Kustomization comes from the tree's
// .ova-lint.yaml (flux.bootstrap).
func TestGraphTree(t *testing.T) {
	const tree = "testdata/graph"
	for _, format := range []string{"text", "json", "sarif", "junit", "github", "gitlab"} {
		t.Run(format, func(t *testing.T) {
			code, out, errOut := run(t, "lint", "--format", format, tree)
			require.Equal(t, 1, code, errOut)
			golden(t, "graph/lint."+format, out)
		})
	}
	// the same tree with rendering off: no built or rendered findings, only the files' own
	code, out, errOut := run(t, "lint", "--render=off", "--format", "text", tree)
	require.Equal(t, 0, code, errOut)
	golden(t, "graph/lint-render-off.text", out)
	for _, format := range []string{"text", "json", "mermaid", "dot"} {
		t.Run("graph-"+format, func(t *testing.T) {
			code, out, errOut := run(t, "graph", "--format", format, tree)
			require.Equal(t, 0, code, errOut)
			golden(t, "graph/graph."+format, out)
		})
	}
}
