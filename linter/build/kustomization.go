package build

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/fluxcd/pkg/kustomize"
	securefs "github.com/fluxcd/pkg/kustomize/filesys"
	"sigs.k8s.io/kustomize/api/konfig"
	kustypes "sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"
)

// KustomizationInfo is what a kustomization file uses, relative to the repository root.
type KustomizationInfo struct {
	// File is the kustomization file, root-relative.
	File string
	// Component is true for a kustomize Component (kind: Component).
	Component bool
	// Resources are the files and directories listed in resources (and the deprecated bases),
	// root-relative and cleaned; remote URLs and absolute paths are left out. An entry that leaves the
	// root is kept (starting with "../") so the caller can report it; a build cannot read it.
	Resources []string
	// Components are the directories listed in components, like Resources.
	Components []string
	// Patches are the files used as patches: patches[].path, patchesStrategicMerge entries that are
	// files (as kustomize decides: the entry can be read as a file), patchesJson6902[].path.
	Patches []string
}

// KustomizationFiles parses the kustomization file (kustomization.yaml, kustomization.yml or
// Kustomization) in dir (relative to root) and returns the files it uses, relative to root. A
// directory without a kustomization file is an error that wraps os.ErrNotExist.
func KustomizationFiles(root, dir string) (KustomizationInfo, error) {
	var info KustomizationInfo
	absRoot, err := filepath.Abs(root)
	if err != nil {
		return info, fmt.Errorf("kustomization files: root %q: %w", root, err)
	}
	rel, err := cleanRel(dir)
	if err != nil {
		return info, fmt.Errorf("kustomization files in %s: %w", dir, err)
	}
	fs, err := securefs.MakeFsOnDiskSecure(absRoot)
	if err != nil {
		return info, fmt.Errorf("kustomization files in %s: %w", rel, err)
	}
	absDir := filepath.Join(absRoot, filepath.FromSlash(rel))
	k, kfile, err := readKustomization(fs, absDir)
	if err != nil {
		return info, fmt.Errorf("kustomization files in %s: %w", rel, newSanitizer(absRoot).wrap("read", err))
	}
	info.File = relToRoot(absRoot, kfile)
	info.Component = k.Kind == kustypes.ComponentKind
	local := func(p string) (string, bool) {
		if p == "" || !kustomize.IsLocalRelativePath(p) {
			return "", false
		}
		p = strings.TrimPrefix(p, "file://")
		r, err := filepath.Rel(absRoot, filepath.Join(absDir, filepath.FromSlash(p)))
		if err != nil {
			return "", false
		}
		return filepath.ToSlash(r), true
	}
	for _, r := range k.Resources {
		if p, ok := local(r); ok {
			info.Resources = append(info.Resources, p)
		}
	}
	for _, c := range k.Components {
		if p, ok := local(c); ok {
			info.Components = append(info.Components, p)
		}
	}
	for _, p := range patchFiles(fs, absDir, k) {
		if r, ok := local(p); ok {
			info.Patches = append(info.Patches, r)
		}
	}
	return info, nil
}

// patchFiles returns the patch file paths (relative to the kustomization dir) that k uses.
func patchFiles(fs filesys.FileSystem, absDir string, k *kustypes.Kustomization) []string {
	var out []string
	for _, p := range k.Patches {
		if p.Path != "" {
			out = append(out, p.Path)
		}
	}
	for _, p := range k.PatchesStrategicMerge {
		s := strings.TrimSpace(string(p))
		if s == "" || strings.Contains(s, "\n") {
			continue
		}
		// kustomize's rule: an entry that can be read as a file is a file, otherwise an inline patch.
		if _, err := fs.ReadFile(filepath.Join(absDir, filepath.FromSlash(s))); err == nil {
			out = append(out, s)
		}
	}
	for _, p := range k.PatchesJson6902 {
		if p.Path != "" {
			out = append(out, p.Path)
		}
	}
	return out
}

// readKustomization reads the kustomization file of absDir from fs, with deprecated fields folded in
// (bases into resources), and returns it with its absolute path.
func readKustomization(fs filesys.FileSystem, absDir string) (*kustypes.Kustomization, string, error) {
	for _, name := range konfig.RecognizedKustomizationFileNames() {
		p := filepath.Join(absDir, name)
		if !fs.Exists(p) || fs.IsDir(p) {
			continue
		}
		data, err := fs.ReadFile(p)
		if err != nil {
			return nil, p, fmt.Errorf("read %s: %w", p, err)
		}
		var k kustypes.Kustomization
		if err := yamlUnmarshalKustomization(data, &k); err != nil {
			return nil, p, fmt.Errorf("parse %s: %w", p, err)
		}
		k.FixKustomization()
		return &k, p, nil
	}
	return nil, "", fmt.Errorf("no kustomization file in %s: %w", absDir, os.ErrNotExist)
}

// yamlUnmarshalKustomization decodes a kustomization leniently (unknown fields ignored).
func yamlUnmarshalKustomization(data []byte, k *kustypes.Kustomization) error {
	return yaml.Unmarshal(data, k)
}
