package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/openova-io/ova-lint/internal/gencorpus"
)

// coldCommand is one command of the cold table, run against each generated tree.
type coldCommand struct {
	name string
	argv func(dir string) []string
}

// coldBench prints one table for every shape and size: ova-lint in each of the -render modes
// (--render=off, the default: render on), and kubeconform, each run interleaved with the others -runs times so all
// see the same machine; the medians of wall time, CPU (user+sys) and peak RSS, and ova-lint's
// ratios to kubeconform.
func coldBench(ctx context.Context, ova, kc, location, cache string, shapes []gencorpus.Shape, sizes []int, runs int, modes []renderMode) error {
	noCache := supportsNoCache(ctx, ova) // a cold run reads no result cache
	lint := func(extra ...string) func(string) []string {
		return func(dir string) []string {
			argv := append([]string{ova, "lint"}, extra...)
			if noCache {
				argv = append(argv, "--no-cache")
			}
			return append(argv, "-f", "json", dir)
		}
	}
	var cmds []coldCommand
	for _, m := range modes {
		cmds = append(cmds, coldCommand{"ova-lint " + m.name, lint(m.extra...)})
	}
	if kc != "" {
		cmds = append(cmds, coldCommand{"kubeconform v0.8.0 -strict", func(dir string) []string {
			return []string{kc, "-strict", "-summary", "-schema-location", location, dir}
		}})
	}
	fmt.Printf("| shape | documents | files | command | wall | CPU | peak RSS | wall ratio | CPU ratio |\n|---|---|---|---|---|---|---|---|---|\n")
	for _, shape := range shapes {
		for _, n := range sizes {
			dir := filepath.Join(cache, fmt.Sprintf("corpus-%s-%d", shape, n))
			st, err := corpus(dir, n, shape)
			if err != nil {
				return err
			}
			all := make([][]measure, len(cmds))
			for r := 0; r < runs; r++ {
				for i, c := range cmds {
					m, err := runOnce(ctx, c.argv(dir))
					if err != nil {
						return fmt.Errorf("%s: %w", c.name, err)
					}
					all[i] = append(all[i], m)
				}
			}
			ms := make([]measure, len(cmds))
			for i := range cmds {
				ms[i] = median(all[i])
			}
			var base *measure
			if kc != "" {
				base = &ms[len(ms)-1]
			}
			for i, c := range cmds {
				m := ms[i]
				ratios := "| | |"
				if base != nil && i < len(cmds)-1 {
					ratios = fmt.Sprintf("| **%.2f×** | %.2f× |", ratio(m.wall, base.wall), ratio(m.cpu, base.cpu))
				}
				fmt.Printf("| %s | %d | %d | %s | %.2f s | %.2f s | %.0f MiB %s\n", shape, st.Documents, st.Files, c.name, m.wall.Seconds(), m.cpu.Seconds(), float64(m.rssKB)/1024, ratios)
			}
		}
	}
	return nil
}

// supportsNoCache reports whether the ova-lint binary has the result cache's --no-cache flag.
func supportsNoCache(ctx context.Context, ova string) bool {
	out, _ := exec.CommandContext(ctx, ova, "lint", "--help").CombinedOutput()
	return bytes.Contains(out, []byte("--no-cache"))
}

// corpus generates the tree once and remembers what it holds.
func corpus(dir string, n int, shape gencorpus.Shape) (gencorpus.Stats, error) {
	stamp := filepath.Join(dir, ".gencorpus.json")
	if raw, err := os.ReadFile(stamp); err == nil {
		var st gencorpus.Stats
		if json.Unmarshal(raw, &st) == nil && st.Documents > 0 {
			return st, nil
		}
	}
	_ = os.RemoveAll(dir)
	st, err := gencorpus.GenerateShape(dir, n, 42, shape)
	if err != nil {
		return st, err
	}
	raw, _ := json.Marshal(st)
	return st, os.WriteFile(stamp, raw, 0o644)
}

// parseShapes reads -shapes.
func parseShapes(s string) []gencorpus.Shape {
	var out []gencorpus.Shape
	for _, x := range strings.Split(s, ",") {
		if x = strings.TrimSpace(x); x != "" {
			out = append(out, gencorpus.Shape(x))
		}
	}
	return out
}
