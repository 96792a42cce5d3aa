// Command bench measures the whole lint against kubeconform v0.8.0 on generated GitOps trees of
// several sizes, in one run so both see the same machine: wall time, CPU time (user+sys of the
// child), documents per second and peak RSS, median of -runs runs each. `make bench` runs it.
//
//	go run ./hack/bench -ova bin/ova-lint -kubeconform bin/kubeconform -sizes 1000,10000,50000
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/openova-io/ova-lint/internal/gencorpus"
	"github.com/openova-io/ova-lint/linter/schema"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

type measure struct {
	wall, cpu time.Duration
	rssKB     int64
	exit      int
}

func run() error {
	ova := flag.String("ova", "bin/ova-lint", "ova-lint binary")
	kc := flag.String("kubeconform", "bin/kubeconform", "kubeconform binary (\"\" to skip the comparison)")
	sizesFlag := flag.String("sizes", "1000,10000,50000", "corpus sizes in documents")
	runs := flag.Int("runs", 3, "runs per command; the median is reported")
	cache := flag.String("cache", filepath.Join(os.TempDir(), "ova-lint-bench"), "where corpora and exported schemas are kept between runs")
	graph := flag.String("graph", "", "instead of the generated trees, time the Flux graph on this tree against graph-script.sh (kustomize build + helm template | kubeconform)")
	kustomize := flag.String("kustomize", "bin/kustomize", "kustomize binary (-graph)")
	helm := flag.String("helm", "bin/helm", "helm binary (-graph)")
	flag.Parse()
	ctx := context.Background()

	var sizes []int
	for _, s := range strings.Split(*sizesFlag, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil {
			return fmt.Errorf("-sizes: %w", err)
		}
		sizes = append(sizes, n)
	}
	location := ""
	if *kc != "" {
		v, err := schema.New(schema.Options{})
		if err != nil {
			return err
		}
		dir := filepath.Join(*cache, "kubeconform-schemas")
		_ = os.RemoveAll(dir)
		if location, err = v.ExportForKubeconform(dir); err != nil {
			return err
		}
	}

	if *graph != "" {
		return graphBench(ctx, *ova, *kc, *kustomize, *helm, location, *graph, *runs)
	}

	fmt.Printf("| documents | command | wall (median) | CPU (median) | docs/s | peak RSS | exit |\n|---|---|---|---|---|---|---|\n")
	for _, n := range sizes {
		dir := filepath.Join(*cache, fmt.Sprintf("corpus-%d", n))
		docs, err := corpus(dir, n)
		if err != nil {
			return err
		}
		cmds := []struct {
			name string
			argv []string
		}{
			{"ova-lint (schemas + rules)", []string{*ova, "lint", "-f", "json", dir}},
			{"ova-lint --no-schema (rules)", []string{*ova, "lint", "--no-schema", "-f", "json", dir}},
		}
		if *kc != "" {
			cmds = append(cmds, struct {
				name string
				argv []string
			}{"kubeconform v0.8.0 -strict", []string{*kc, "-strict", "-summary", "-schema-location", location, dir}})
		}
		medians := map[string]measure{}
		for _, c := range cmds {
			var ms []measure
			for r := 0; r < *runs; r++ {
				m, err := runOnce(ctx, c.argv)
				if err != nil {
					return fmt.Errorf("%s: %w", c.name, err)
				}
				ms = append(ms, m)
			}
			m := median(ms)
			medians[c.name] = m
			fmt.Printf("| %d | %s | %.2f s | %.2f s | %.0f | %.0f MiB | %d |\n", docs, c.name, m.wall.Seconds(), m.cpu.Seconds(), float64(docs)/m.wall.Seconds(), float64(m.rssKB)/1024, m.exit)
		}
		if k, ok := medians["kubeconform v0.8.0 -strict"]; ok {
			o := medians["ova-lint (schemas + rules)"]
			fmt.Printf("| %d | **ratio ova-lint / kubeconform** | **%.2f×** | %.2f× | | | |\n", docs, o.wall.Seconds()/k.wall.Seconds(), o.cpu.Seconds()/k.cpu.Seconds())
		}
	}
	return nil
}

// corpus generates the tree once and remembers its document count.
func corpus(dir string, n int) (int, error) {
	stamp := filepath.Join(dir, ".gencorpus.json")
	if raw, err := os.ReadFile(stamp); err == nil {
		var st gencorpus.Stats
		if json.Unmarshal(raw, &st) == nil && st.Documents > 0 {
			return st.Documents, nil
		}
	}
	_ = os.RemoveAll(dir)
	st, err := gencorpus.Generate(dir, n, 42)
	if err != nil {
		return 0, err
	}
	raw, _ := json.Marshal(st)
	return st.Documents, os.WriteFile(stamp, raw, 0o644)
}

// runOnce runs argv (with env added to the environment) and measures it.
func runOnce(ctx context.Context, argv []string, env ...string) (measure, error) {
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	if len(env) > 0 {
		cmd.Env = append(os.Environ(), env...)
	}
	cmd.Stdout = io.Discard
	cmd.Stderr = io.Discard
	start := time.Now()
	err := cmd.Run()
	wall := time.Since(start)
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		return measure{}, err
	}
	ru, _ := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	m := measure{wall: wall, exit: cmd.ProcessState.ExitCode()}
	if ru != nil {
		m.cpu = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
		m.rssKB = ru.Maxrss
	}
	return m, nil
}

func median(ms []measure) measure {
	sort.Slice(ms, func(i, j int) bool { return ms[i].wall < ms[j].wall })
	return ms[len(ms)/2]
}
