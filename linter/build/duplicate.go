package build

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/fluxcd/pkg/kustomize"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/kustomize/kyaml/resid"
)

// DuplicateError is kustomize's "may not add resource with an already registered id": two documents
// with the same group/kind/namespace/name in one build.
type DuplicateError struct {
	// Group, Kind, Namespace and Name are the id kustomize reported (after the transforms of the
	// kustomization level where the two met).
	Group, Kind, Namespace, Name string
	// Declarations are the repository-relative files (and 0-based document index in the file) that
	// declare that id among the files the build reads.
	Declarations []Declaration
	// Err is kustomize's error (its message one line, paths relative to the repository root).
	Err error
}

// Declaration is one document that declares a duplicated id.
type Declaration struct {
	// File is the repository-relative file, forward slashes.
	File string
	// Index is the 0-based document index in File.
	Index int
}

// Error returns kustomize's message.
func (e *DuplicateError) Error() string {
	if e.Err != nil {
		return e.Err.Error()
	}
	return fmt.Sprintf("may not add resource with an already registered id: %s %s", e.Kind, e.Name)
}

// Unwrap returns kustomize's error.
func (e *DuplicateError) Unwrap() error { return e.Err }

var duplicateRe = regexp.MustCompile(`may not add resource with an already registered id: (\S+)`)

// duplicateFromError recognises kustomize's duplicate-id error.
func duplicateFromError(err error) *DuplicateError {
	m := duplicateRe.FindStringSubmatch(err.Error())
	if m == nil {
		return nil
	}
	s := strings.TrimRight(m[1], `'",;:)`)
	if !strings.Contains(s, "/") {
		return nil
	}
	id := resid.FromString(s)
	return &DuplicateError{Group: id.Group, Kind: id.Kind, Namespace: id.Namespace, Name: id.Name}
}

// declarations finds the documents that declare dup's id among the files the build of dir reads:
// the resources and components of the kustomization files reachable from dir (a directory resource
// means its kustomization file; a directory without one, every YAML below it).
func declarations(ctx context.Context, fs filesys.FileSystem, root, dir string, dup *DuplicateError) []Declaration {
	files := buildFiles(ctx, fs, dir)
	type hit struct {
		decl Declaration
		ns   string
	}
	var hits []hit
	for _, f := range files {
		rel := relToRoot(root, f)
		if rel == "" {
			continue
		}
		data, err := fs.ReadFile(f)
		if err != nil {
			continue
		}
		last := -1
		for _, d := range parseDocs(data) {
			if d.Index == last || d.Group != dup.Group || d.Kind != dup.Kind || d.Name != dup.Name {
				continue
			}
			last = d.Index
			hits = append(hits, hit{Declaration{File: rel, Index: d.Index}, d.Namespace})
		}
	}
	// Prefer the documents whose namespace is the id's (or unset: a namespace transform sets it);
	// when fewer than two remain, a transform changed it: keep every name match.
	var strict, all []Declaration
	for _, h := range hits {
		all = append(all, h.decl)
		if h.ns == dup.Namespace || h.ns == "" {
			strict = append(strict, h.decl)
		}
	}
	if len(strict) >= 2 {
		return strict
	}
	return all
}

// buildFiles lists, in kustomize's order, the resource files a build of dir reads.
func buildFiles(ctx context.Context, fs filesys.FileSystem, dir string) []string {
	var files []string
	seenFile := map[string]bool{}
	seenDir := map[string]bool{}
	addFile := func(f string) {
		if !seenFile[f] {
			seenFile[f] = true
			files = append(files, f)
		}
	}
	var visit func(d string)
	visit = func(d string) {
		if seenDir[d] || ctx.Err() != nil {
			return
		}
		seenDir[d] = true
		k, _, err := readKustomization(fs, d)
		if err != nil {
			if !errors.Is(err, os.ErrNotExist) {
				return
			}
			var yamls []string
			_ = fs.Walk(d, func(p string, info os.FileInfo, err error) error {
				if err != nil || info.IsDir() {
					return nil
				}
				if ext := filepath.Ext(p); ext == ".yaml" || ext == ".yml" {
					yamls = append(yamls, p)
				}
				return nil
			})
			sort.Strings(yamls)
			for _, y := range yamls {
				addFile(y)
			}
			return
		}
		for _, list := range [][]string{k.Resources, k.Components} {
			for _, r := range list {
				if !kustomize.IsLocalRelativePath(r) {
					continue
				}
				p := filepath.Join(d, filepath.FromSlash(strings.TrimPrefix(r, "file://")))
				if fs.IsDir(p) {
					visit(p)
				} else {
					addFile(p)
				}
			}
		}
	}
	visit(dir)
	return files
}
