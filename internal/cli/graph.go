package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/openova-io/ova-lint/internal/command"
	"github.com/openova-io/ova-lint/linter"
	"github.com/openova-io/ova-lint/linter/graph"
	"github.com/openova-io/ova-lint/linter/loader"
)

// newGraphCmd prints the Flux graph of a tree: what each Kustomization and HelmRelease applies,
// and the dependsOn and sourceRef edges.
func newGraphCmd(streams IO) *cobra.Command {
	var c command.CommonFlags
	var format string
	var substitute, substFrom []string
	cmd := &cobra.Command{
		Use:   "graph [PATH]",
		Short: "Print the Flux graph: Kustomization → path → objects, HelmRelease → chart → objects, dependsOn and sourceRef",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			root := "."
			if len(args) == 1 {
				root = args[0]
			}
			cfg, err := c.Load(root)
			if err != nil {
				return err
			}
			if _, err := loader.WalkFrom(cmd.Context(), root, []string{root}, cfg.Exclude); err != nil {
				return command.Usage("%v", err)
			}
			vars, err := substitutions(substitute, substFrom)
			if err != nil {
				return err
			}
			res, err := linter.ProduceTree(cmd.Context(), cfg, root, vars)
			if err != nil {
				return command.Usage("%v", err)
			}
			switch format {
			case "text":
				return graphText(streams.Out, res.Graph)
			case "json":
				enc := json.NewEncoder(streams.Out)
				enc.SetIndent("", "  ")
				return enc.Encode(res.Graph)
			case "mermaid":
				return graphMermaid(streams.Out, res.Graph)
			case "dot":
				return graphDot(streams.Out, res.Graph)
			}
			return command.Usage("--format %q: want text, json, mermaid or dot", format)
		},
	}
	c.Register(cmd)
	cmd.Flags().StringVarP(&format, "format", "f", "text", "text, json, mermaid or dot")
	cmd.Flags().StringArrayVar(&substitute, "substitute", nil, "KEY=VALUE for a postBuild variable that exists only in the cluster (repeatable)")
	cmd.Flags().StringArrayVar(&substFrom, "substitute-from", nil, "file of variables that exist only in the cluster (repeatable)")
	return cmd
}

func graphText(w io.Writer, g graph.Graph) error {
	out := map[string][]graph.Edge{}
	for _, e := range g.Edges {
		out[e.From] = append(out[e.From], e)
	}
	for _, n := range g.Nodes {
		if n.Kind != "Kustomization" && n.Kind != "KustomizeRoot" && n.Kind != "HelmRelease" {
			continue
		}
		line := n.ID
		if n.File != "" {
			line += fmt.Sprintf(" (%s:%d)", n.File, n.Line)
		}
		if n.Path != "" {
			line += " → " + n.Path
		}
		if n.Status != "" {
			line += " [" + n.Status + "]"
		}
		if _, err := fmt.Fprintln(w, line); err != nil {
			return err
		}
		for _, e := range out[n.ID] {
			fmt.Fprintf(w, "  %s %s\n", e.Kind, e.To)
		}
		for _, o := range n.Objects {
			fmt.Fprintf(w, "  - %s\n", o)
		}
	}
	return nil
}

func graphMermaid(w io.Writer, g graph.Graph) error {
	id := ids(g)
	fmt.Fprintln(w, "flowchart LR")
	for _, n := range g.Nodes {
		fmt.Fprintf(w, "  %s[\"%s\"]\n", id(n.ID), strings.ReplaceAll(n.ID, `"`, "'"))
	}
	for _, e := range g.Edges {
		fmt.Fprintf(w, "  %s -->|%s| %s\n", id(e.From), e.Kind, id(e.To))
	}
	return nil
}

func graphDot(w io.Writer, g graph.Graph) error {
	fmt.Fprintln(w, "digraph flux {")
	fmt.Fprintln(w, "  rankdir=LR;")
	for _, n := range g.Nodes {
		fmt.Fprintf(w, "  %q [shape=box];\n", n.ID)
	}
	for _, e := range g.Edges {
		fmt.Fprintf(w, "  %q -> %q [label=%q];\n", e.From, e.To, e.Kind)
	}
	_, err := fmt.Fprintln(w, "}")
	return err
}

// ids gives every node (and edge end) a short identifier mermaid accepts.
func ids(g graph.Graph) func(string) string {
	m := map[string]string{}
	return func(s string) string {
		if v, ok := m[s]; ok {
			return v
		}
		v := fmt.Sprintf("n%d", len(m))
		m[s] = v
		return v
	}
}
