package loader

import (
	"context"
	"fmt"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
)

// treeWalk lists the YAML files under one directory argument, reading directories on several
// goroutines: a tree of 30,000 directories spends most of a warm run's walk waiting on
// getdents. The files come out in no particular order (WalkFrom sorts them); what is listed and
// skipped is what a filepath.WalkDir over the tree would list and skip.
type treeWalk struct {
	ctx      context.Context
	rootDisp string
	excludes []string
	readDir  ReadDirFunc
	sem      chan struct{}
	wg       sync.WaitGroup

	mu      sync.Mutex
	chunks  [][]File // the files of each directory; joined once at the end
	skipped int
	// errPath and err are the failure of the first directory in path order that could not be
	// read, so the error does not depend on scheduling.
	errPath string
	err     error
}

// walkTree walks the directory p, whose path relative to the repository root is prefix.
func walkTree(ctx context.Context, cwd, rootDisplay, p, prefix string, excludes []string, readDir ReadDirFunc) ([]File, int, error) {
	w := &treeWalk{ctx: ctx, rootDisp: rootDisplay, excludes: excludes, readDir: readDir, sem: make(chan struct{}, 2*runtime.GOMAXPROCS(0))}
	base := filepath.Base(p)
	// the argument itself may be a chart's charts/ (skipped) or templates/ (Go templates)
	if base == "charts" && isChart(filepath.Dir(p)) {
		return nil, 0, nil
	}
	p = filepath.Clean(p) // every path below is then joinPath of a clean directory
	w.dir(p, prefix, display(cwd, p), base == "templates" && isChart(filepath.Dir(p)))
	w.wg.Wait()
	if w.err == nil {
		w.err = ctx.Err()
	}
	n := 0
	for _, c := range w.chunks {
		n += len(c)
	}
	files := make([]File, 0, n)
	for _, c := range w.chunks {
		files = append(files, c...)
	}
	return files, w.skipped, w.err
}

// joinPath is filepath.Join(dir, name) for a clean dir and an entry name (no separator, not
// "." or ".."), without Join's Clean: a walk joins every path of the tree.
func joinPath(dir, name string) string {
	switch {
	case dir == ".":
		return name
	case strings.HasSuffix(dir, string(filepath.Separator)): // a file system root
		return dir + name
	}
	return dir + string(filepath.Separator) + name
}

// joinDisplay is the display path of entry name of the directory displayed as dir (display of
// the joined path, without its Abs and Rel).
func joinDisplay(dir, name string) string {
	switch {
	case dir == ".":
		return name
	case strings.HasSuffix(dir, "/"): // a file system root
		return dir + name
	}
	return dir + "/" + name
}

// dir lists one directory (displayed as disp): its YAML files, and its subdirectories on a free
// goroutine (or on this one when none is free). templates says the directory lies in a chart's
// templates/.
func (w *treeWalk) dir(osPath, rel, disp string, templates bool) {
	if w.ctx.Err() != nil {
		return
	}
	entries, err := w.readDir(osPath)
	if err != nil {
		w.fail(osPath, fmt.Errorf("walk %s: %w", osPath, err))
		return
	}
	var files []File
	skipped := 0
	for _, d := range entries {
		name := d.Name()
		childOS := joinPath(osPath, name)
		childRel := name
		if rel != "." {
			childRel = rel + "/" + name
		}
		if d.IsDir() {
			if defaultExcludes[name] || excluded(childRel, w.excludes) {
				continue
			}
			// A Helm chart: its vendored charts/ are skipped, its templates/ are Go templates.
			if name == "charts" && isChart(osPath) {
				continue
			}
			inTemplates := templates || (name == "templates" && isChart(osPath))
			childDisp := joinDisplay(disp, name)
			select {
			case w.sem <- struct{}{}:
				w.wg.Add(1)
				go func() {
					defer w.wg.Done()
					defer func() { <-w.sem }()
					w.dir(childOS, childRel, childDisp, inTemplates)
				}()
			default:
				w.dir(childOS, childRel, childDisp, inTemplates)
			}
			continue
		}
		if !isYAML(name) || excluded(childRel, w.excludes) || !regular(childOS, d) {
			continue
		}
		if templates {
			skipped++
			continue
		}
		files = append(files, File{OSPath: childOS, Display: joinDisplay(disp, name), Rel: childRel, Root: w.rootDisp})
	}
	w.mu.Lock()
	if len(files) > 0 {
		w.chunks = append(w.chunks, files)
	}
	w.skipped += skipped
	w.mu.Unlock()
}

func (w *treeWalk) fail(osPath string, err error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err == nil || osPath < w.errPath {
		w.errPath, w.err = osPath, err
	}
}
