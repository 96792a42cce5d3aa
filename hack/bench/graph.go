package main

import (
	"context"
	"fmt"
	"path/filepath"
	"time"
)

// graphBench times `ova-lint lint` with the Flux graph built and rendered against the
// community's script (graph-script.sh: kustomize build of every root and helm template of every
// local chart, each into kubeconform) on one tree, interleaved run by run so both see the same
// machine, and prints the medians and the ratio.
func graphBench(ctx context.Context, ova, kubeconform, kustomize, helm, location, dir string, runs int) error {
	script, err := filepath.Abs(filepath.Join("hack", "bench", "graph-script.sh"))
	if err != nil {
		return err
	}
	env := []string{"KUSTOMIZE=" + kustomize, "HELM=" + helm, "KUBECONFORM=" + kubeconform, "SCHEMAS=" + location}
	cmds := []struct {
		name string
		argv []string
		env  []string
	}{
		{"ova-lint (render on: builds, renders, schemas, rules)", []string{ova, "lint", "-f", "json", dir}, nil},
		{"ova-lint --render=off", []string{ova, "lint", "--render=off", "-f", "json", dir}, nil},
		{"kustomize build + helm template, each into kubeconform (script)", []string{"bash", script, dir}, env},
	}
	all := make([][]measure, len(cmds))
	for r := 0; r < runs; r++ {
		for i, c := range cmds {
			m, err := runOnce(ctx, c.argv, c.env...)
			if err != nil {
				return fmt.Errorf("%s: %w", c.name, err)
			}
			all[i] = append(all[i], m)
		}
	}
	fmt.Printf("\nFlux graph on %s (%d runs, interleaved; medians)\n\n", dir, runs)
	fmt.Printf("| command | wall | CPU | peak RSS | exit |\n|---|---|---|---|---|\n")
	med := make([]measure, len(cmds))
	for i, c := range cmds {
		med[i] = median(all[i])
		fmt.Printf("| %s | %.2f s | %.2f s | %.0f MiB | %d |\n", c.name, med[i].wall.Seconds(), med[i].cpu.Seconds(), float64(med[i].rssKB)/1024, med[i].exit)
	}
	fmt.Printf("| **ratio ova-lint (render on) / script** | **%.2f×** | %.2f× | | |\n", ratio(med[0].wall, med[2].wall), ratio(med[0].cpu, med[2].cpu))
	fmt.Printf("| **ratio render on / render off** | **%.2f×** | %.2f× | | |\n", ratio(med[0].wall, med[1].wall), ratio(med[0].cpu, med[1].cpu))
	return nil
}

func ratio(a, b time.Duration) float64 {
	if b == 0 {
		return 0
	}
	return a.Seconds() / b.Seconds()
}
