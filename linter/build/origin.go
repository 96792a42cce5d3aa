package build

import (
	"bytes"
	"errors"
	"io"
	"path/filepath"
	"strings"

	"gopkg.in/yaml.v3"
	"sigs.k8s.io/kustomize/api/resource"
	kustypes "sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/kustomize/kyaml/resid"
)

// docID is the identity of one YAML document (or generator entry) as written in its file.
type docID struct {
	Index                        int
	Group, Kind, Name, Namespace string
}

// originResolver turns origin annotations into repository-relative files and original identities,
// reading each source file once.
type originResolver struct {
	fs        filesys.FileSystem
	root, dir string // absolute repository root and built directory
	docs      map[string][]docID
}

func newOriginResolver(fs filesys.FileSystem, root, dir string) *originResolver {
	return &originResolver{fs: fs, root: root, dir: dir, docs: map[string][]docID{}}
}

// resolve returns the object's origin file (root-relative, "" when unknown or remote) and its
// original name and namespace.
//
// kustomize records the previous ids of a resource in build annotations, but krusty removes them
// before returning (resmap.RemoveBuildAnnotations), so resource.OrgId() is the current id after a
// build. The original identity is therefore recovered from the origin file: the document of the same
// group and kind that is the only one of its kind in the file, or whose name equals the built name, or
// else the longest name the built name contains (namePrefix/nameSuffix/hash only add around it).
func (o *originResolver) resolve(res *resource.Resource, origin *resource.Origin) (file, name, namespace string) {
	cur := res.CurId()
	if ids := res.PrevIds(); len(ids) > 0 {
		cur = ids[0]
	}
	name, namespace = cur.Name, cur.Namespace
	if origin == nil || origin.Repo != "" {
		return "", name, namespace
	}
	var cands []docID
	switch {
	case origin.Path != "":
		abs := filepath.Join(o.dir, filepath.FromSlash(origin.Path))
		file = o.rel(abs)
		if file != "" {
			cands = o.fileDocs(abs)
		}
	case origin.ConfiguredIn != "":
		abs := filepath.Join(o.dir, filepath.FromSlash(origin.ConfiguredIn))
		file = o.rel(abs)
		if file != "" {
			// Only the builtin ConfigMap/Secret generators are listed; a helmCharts object keeps its
			// built identity.
			for _, d := range o.generatorDocs(abs) {
				if origin.ConfiguredBy.Kind == d.Kind+"Generator" {
					cands = append(cands, d)
				}
			}
		}
	}
	if d, ok := pickDoc(cands, res.CurId()); ok {
		name, namespace = d.Name, d.Namespace
	}
	return file, name, namespace
}

// rel returns abs relative to the root with forward slashes, or "" when it is not below the root.
func (o *originResolver) rel(abs string) string {
	return relToRoot(o.root, abs)
}

func relToRoot(root, abs string) string {
	r, err := filepath.Rel(root, abs)
	if err != nil {
		return ""
	}
	r = filepath.ToSlash(r)
	if r == ".." || strings.HasPrefix(r, "../") || filepath.IsAbs(r) {
		return ""
	}
	return r
}

func (o *originResolver) fileDocs(abs string) []docID {
	if d, ok := o.docs[abs]; ok {
		return d
	}
	data, err := o.fs.ReadFile(abs)
	var docs []docID
	if err == nil {
		docs = parseDocs(data)
	}
	o.docs[abs] = docs
	return docs
}

// generatorDocs lists the configMapGenerator and secretGenerator entries of a kustomization file.
func (o *originResolver) generatorDocs(abs string) []docID {
	key := "generators:" + abs
	if d, ok := o.docs[key]; ok {
		return d
	}
	var docs []docID
	if data, err := o.fs.ReadFile(abs); err == nil {
		var k kustypes.Kustomization
		if yamlUnmarshalKustomization(data, &k) == nil {
			for i, g := range k.ConfigMapGenerator {
				docs = append(docs, docID{Index: i, Kind: "ConfigMap", Name: g.Name, Namespace: g.Namespace})
			}
			for i, g := range k.SecretGenerator {
				docs = append(docs, docID{Index: i, Kind: "Secret", Name: g.Name, Namespace: g.Namespace})
			}
		}
	}
	o.docs[key] = docs
	return docs
}

// pickDoc chooses the document cur was built from among cands.
func pickDoc(cands []docID, cur resid.ResId) (docID, bool) {
	var same []docID
	for _, d := range cands {
		if d.Kind == cur.Kind && d.Group == cur.Group {
			same = append(same, d)
		}
	}
	if len(same) == 0 {
		return docID{}, false
	}
	if len(same) == 1 {
		return same[0], true
	}
	var best docID
	found := false
	for _, d := range same {
		if d.Name == cur.Name && (d.Namespace == cur.Namespace || d.Namespace == "") {
			return d, true
		}
	}
	for _, d := range same {
		if d.Name != "" && strings.Contains(cur.Name, d.Name) && (!found || len(d.Name) > len(best.Name) ||
			(len(d.Name) == len(best.Name) && d.Namespace == cur.Namespace)) {
			best, found = d, true
		}
	}
	return best, found
}

// parseDocs returns the identity of every document of a YAML file, with its 0-based index counted as
// the loader counts (every document, empty ones included). Documents that are not objects are left out;
// a syntax error ends the list.
func parseDocs(data []byte) []docID {
	var out []docID
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for index := 0; ; index++ {
		var m map[string]any
		err := safeDecode(dec, &m)
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			var te *yaml.TypeError
			if errors.As(err, &te) {
				continue // not a mapping: not an object
			}
			return out
		}
		if m == nil {
			continue
		}
		out = append(out, identity(index, m)...)
	}
}

func safeDecode(dec *yaml.Decoder, v any) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = errors.New("yaml: panic while decoding")
		}
	}()
	return dec.Decode(v)
}

// identity returns the identity of an object document, and of its items when it is a List.
func identity(index int, m map[string]any) []docID {
	api, _ := m["apiVersion"].(string)
	kind, _ := m["kind"].(string)
	meta, _ := m["metadata"].(map[string]any)
	name, _ := meta["name"].(string)
	ns, _ := meta["namespace"].(string)
	group, _ := resid.ParseGroupVersion(api)
	out := []docID{{Index: index, Group: group, Kind: kind, Name: name, Namespace: ns}}
	if items, ok := m["items"].([]any); ok && strings.HasSuffix(kind, "List") {
		for _, it := range items {
			if im, ok := it.(map[string]any); ok {
				out = append(out, identity(index, im)...)
			}
		}
	}
	return out
}
