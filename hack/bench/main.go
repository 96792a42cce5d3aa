// Command bench measures the whole lint against kubeconform v0.8.0 on generated GitOps trees of
// both shapes (gencorpus: apps, files), in one run so both see the same machine: wall time, CPU
// time (user+sys of the child) and peak RSS, median of -runs interleaved runs, in one table
// (cold.go). `make bench` runs it.
//
//	go run ./hack/bench -ova bin/ova-lint -kubeconform bin/kubeconform -shapes apps,files -sizes 50000
package main

import (
	"context"
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
	sizesFlag := flag.String("sizes", "50000", "corpus sizes in documents")
	shapesFlag := flag.String("shapes", "apps,files", "generated tree shapes (gencorpus: apps, files)")
	runs := flag.Int("runs", 3, "runs per command; the median is reported")
	cache := flag.String("cache", filepath.Join(os.TempDir(), "ova-lint-bench"), "where corpora and exported schemas are kept between runs")
	renders := flag.String("render", "off,on", "ova-lint's render modes, in the cold and the warm tables (off: --render=off; on: the default)")
	warm := flag.Bool("warm", true, "also time re-runs through the result cache (nothing changed, one file changed)")
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
	// The binaries are timed as copies: a binary the Go linker has just written maps ~17 MiB
	// more of its file into memory when it runs than a copy of it does (the page cache holds
	// the linker's pages differently), which is the file's history, not the program's.
	var err error
	if *ova, err = copyBinary(*ova, *cache); err != nil {
		return err
	}
	if *kc != "" {
		if *kc, err = copyBinary(*kc, *cache); err != nil {
			return err
		}
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

	modes, err := parseRenders(*renders)
	if err != nil {
		return err
	}
	if err := coldBench(ctx, *ova, *kc, location, *cache, parseShapes(*shapesFlag), sizes, *runs, modes); err != nil || !*warm {
		return err
	}
	return warmBench(ctx, *ova, *kc, location, *cache, parseShapes(*shapesFlag), sizes, *runs, modes)
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

// copyBinary copies the executable at path into dir/bin and returns the copy's path.
func copyBinary(path, dir string) (string, error) {
	src, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("copy %s: %w", path, err)
	}
	defer src.Close()
	if err := os.MkdirAll(filepath.Join(dir, "bin"), 0o755); err != nil {
		return "", fmt.Errorf("copy %s: %w", path, err)
	}
	out := filepath.Join(dir, "bin", filepath.Base(path))
	tmp, err := os.CreateTemp(filepath.Join(dir, "bin"), ".copy-*")
	if err != nil {
		return "", fmt.Errorf("copy %s: %w", path, err)
	}
	defer os.Remove(tmp.Name()) // gone after the rename
	if _, err := io.Copy(tmp, src); err != nil {
		tmp.Close()
		return "", fmt.Errorf("copy %s: %w", path, err)
	}
	if err := tmp.Chmod(0o755); err != nil {
		tmp.Close()
		return "", fmt.Errorf("copy %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return "", fmt.Errorf("copy %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), out); err != nil {
		return "", fmt.Errorf("copy %s: %w", path, err)
	}
	return out, nil
}

func median(ms []measure) measure {
	sort.Slice(ms, func(i, j int) bool { return ms[i].wall < ms[j].wall })
	return ms[len(ms)/2]
}

// renderMode is one way of running ova-lint in the tables: its name and its extra arguments.
type renderMode struct {
	name  string
	extra []string
}

// parseRenders reads -render: "off" (--render=off) and "on" (the default), comma-separated.
func parseRenders(s string) ([]renderMode, error) {
	var modes []renderMode
	for _, r := range strings.Split(s, ",") {
		switch strings.TrimSpace(r) {
		case "off":
			modes = append(modes, renderMode{"--render=off", []string{"--render=off"}})
		case "on":
			modes = append(modes, renderMode{"(default: render on)", nil})
		default:
			return nil, fmt.Errorf("-render: %q is neither off nor on", r)
		}
	}
	return modes, nil
}
