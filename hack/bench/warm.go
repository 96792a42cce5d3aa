package main

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/openova-io/ova-lint/internal/gencorpus"
)

// warmBench prints the warm rows of the table (after coldBench's, same columns): re-runs through
// the result cache with nothing changed, and with one file changed before each run, in each of
// the -render modes. The cache is filled by one run first, in a directory of its
// own; kubeconform runs interleaved with the warm runs, so the ratios are to what it took on
// the same machine at the same time.
func warmBench(ctx context.Context, ova, kc, location, cache string, shapes []gencorpus.Shape, sizes []int, runs int, modes []renderMode) error {
	for _, shape := range shapes {
		for _, n := range sizes {
			dir := filepath.Join(cache, fmt.Sprintf("corpus-%s-%d", shape, n))
			st, err := corpus(dir, n, shape)
			if err != nil {
				return err
			}
			for _, mode := range modes {
				if err := warmShape(ctx, ova, kc, location, dir, shape, st, mode.name, mode.extra, runs); err != nil {
					return fmt.Errorf("warm %s %s: %w", shape, mode.name, err)
				}
			}
		}
	}
	return nil
}

func warmShape(ctx context.Context, ova, kc, location, dir string, shape gencorpus.Shape, st gencorpus.Stats, name string, extra []string, runs int) error {
	cacheDir, err := os.MkdirTemp("", "ova-lint-bench-cache-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(cacheDir)
	edit, restore, err := oneFile(dir)
	if err != nil {
		return err
	}
	defer restore()
	argv := append(append([]string{ova, "lint", "-f", "json", "--cache-dir", cacheDir}, extra...), dir)
	if _, err := runOnce(ctx, argv); err != nil { // fills the cache
		return err
	}
	var unchanged, changed, kcs []measure
	for r := 0; r < runs; r++ {
		m, err := runOnce(ctx, argv)
		if err != nil {
			return err
		}
		unchanged = append(unchanged, m)
		if err := edit(r); err != nil {
			return err
		}
		if m, err = runOnce(ctx, argv); err != nil {
			return err
		}
		changed = append(changed, m)
		if kc != "" {
			if m, err = runOnce(ctx, []string{kc, "-strict", "-summary", "-schema-location", location, dir}); err != nil {
				return err
			}
			kcs = append(kcs, m)
		}
	}
	var base *measure
	if kc != "" {
		b := median(kcs)
		base = &b
	}
	for _, row := range []struct {
		name string
		ms   []measure
	}{
		{"ova-lint warm, nothing changed, " + name, unchanged},
		{"ova-lint warm, one file changed, " + name, changed},
	} {
		m := median(row.ms)
		ratios := "| | |"
		if base != nil {
			ratios = fmt.Sprintf("| **%.2f×** | %.2f× |", ratio(m.wall, base.wall), ratio(m.cpu, base.cpu))
		}
		fmt.Printf("| %s | %d | %d | %s | %.2f s | %.2f s | %.0f MiB %s\n", shape, st.Documents, st.Files, row.name, m.wall.Seconds(), m.cpu.Seconds(), float64(m.rssKB)/1024, ratios)
	}
	if base != nil {
		fmt.Printf("| %s | %d | %d | kubeconform v0.8.0 -strict (beside the warm runs) | %.2f s | %.2f s | %.0f MiB | | |\n", shape, st.Documents, st.Files, base.wall.Seconds(), base.cpu.Seconds(), float64(base.rssKB)/1024)
	}
	return nil
}

// oneFile picks the first YAML file of the tree; edit(n) gives it a trailing comment of its
// own for each n (content the cache has not seen), restore puts its bytes back.
func oneFile(dir string) (edit func(int) error, restore func(), err error) {
	var path string
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && strings.HasSuffix(p, ".yaml") {
			path = p
			return fs.SkipAll
		}
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	if path == "" {
		return nil, nil, fmt.Errorf("no YAML file in %s", dir)
	}
	orig, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, err
	}
	edit = func(n int) error {
		return os.WriteFile(path, fmt.Appendf(append([]byte{}, orig...), "\n# bench edit %d\n", n), 0o644)
	}
	restore = func() { _ = os.WriteFile(path, orig, 0o644) }
	return edit, restore, nil
}
