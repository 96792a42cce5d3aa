// Package build builds what a Flux Kustomization (or a plain kustomize root) applies, offline,
// with Flux's own library (github.com/fluxcd/pkg/kustomize), the way kustomize-controller and
// `flux build ks --dry-run --in-memory-build` do, and says where each built object came from.
//
// The pipeline for one Build:
//
//  1. The Flux Kustomization is copied and its spec.path set; kustomize.NewGenerator(RepoRoot, ks).GenerateManifest
//     returns the kustomization.yaml Flux would build (the directory's own one with targetNamespace, namePrefix,
//     patches, images, components... merged in, or a generated one listing every YAML when there is none).
//  2. originAnnotations is added to that manifest's buildMetadata, and the manifest is written into an in-memory
//     layer over a secure on-disk filesystem rooted at RepoRoot (the working tree is never written).
//  3. kustomize.Build runs krusty (load restrictions off, plugins off). It holds a process-wide mutex, so builds
//     are serialised across goroutines.
//  4. Each resource's origin annotation is turned into a repository-relative Origin and removed (unless Flux
//     itself would have kept it), then, when spec.postBuild exists, kustomize.SubstituteVariables substitutes
//     variables against a fake client seeded with the tree's ConfigMaps and Secrets, and finally
//     spec.commonMetadata is set on every object, as kustomize-controller does before applying.
package build

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/fluxcd/pkg/kustomize"
	securefs "github.com/fluxcd/pkg/kustomize/filesys"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/kustomize/api/resmap"
	"sigs.k8s.io/kustomize/api/resource"
	kustypes "sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"
)

// Request is one build.
type Request struct {
	// RepoRoot is the OS path of the repository (source artifact) root; the build may read anything below it,
	// nothing above.
	RepoRoot string
	// Path is the directory to build, relative to RepoRoot ("./clusters/a" or "clusters/a"; "" or "." = root).
	Path string
	// Kustomization is the Flux Kustomization object (kustomize.toolkit.fluxcd.io, any served version) as
	// map[string]any; nil for a plain kustomize root (then nothing is substituted and a kustomization.yaml
	// is built as is, or generated as Flux would when there is none).
	Kustomization map[string]any
	// Objects are ConfigMaps and Secrets (v1, as map[string]any) found in the tree: postBuild.substituteFrom
	// reads them. Other kinds are ignored. Secret stringData is honoured as data. When two objects have the
	// same namespace and name, the first wins.
	Objects []map[string]any
	// Fallback are values of variables that exist only in the cluster (from --substitute / config). They fill
	// variables that neither postBuild.substitute nor postBuild.substituteFrom provides: inline substitute wins
	// over everything, substituteFrom over Fallback. Fallback is used only when the Kustomization has
	// spec.postBuild (Flux substitutes nothing otherwise).
	Fallback map[string]string
}

// Result is what one build produced.
type Result struct {
	// Objects are the built objects in kustomize's order.
	Objects []Object
	// Generated is true when no kustomization.yaml existed and one was generated, as Flux does.
	Generated bool
}

// Object is one built object.
type Object struct {
	// Object is the object after the build, postBuild substitution and commonMetadata, as JSON would decode
	// it (map[string]any, []any, string, int64 or float64, bool, nil). The origin annotations that the build
	// adds are removed, so the object is what Flux applies.
	Object map[string]any
	// Origin is the file the object came from, relative to RepoRoot, with forward slashes; for an object a
	// generator made (configMapGenerator, secretGenerator, helmCharts), the kustomization file that configured
	// it. "" when unknown (e.g. a remote base).
	Origin string
	// OriginalName and OriginalNamespace are the identity the object has in its source document, before
	// namePrefix/nameSuffix/namespace transforms, so the caller can find its document in Origin. For a
	// generated object they are the generator's name and namespace. When the source document cannot be told
	// apart they are the built name and namespace.
	OriginalName, OriginalNamespace string
	// Missing lists variable references without a default that no source provides, with the field path where
	// each appears. Only when the Kustomization has spec.postBuild and the object is not excluded with
	// kustomize.toolkit.fluxcd.io/substitute: disabled. Flux (non-strict) applies an empty string there.
	Missing []MissingVar
}

// MissingVar is a variable reference that nothing provides.
type MissingVar struct {
	// Name is the variable name.
	Name string
	// Path is the field path in Object (string keys, int indexes).
	Path []any
}

// Build builds req. A kustomize error or a substitution error is returned as an error with kustomize's
// message on one line and paths relative to RepoRoot (Secret values are redacted). A duplicate id is a
// *DuplicateError. ctx cancels the wait for the build (the build itself, once started, runs to its end in
// the background because the library cannot be interrupted).
func Build(ctx context.Context, req Request) (*Result, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	root, err := filepath.Abs(req.RepoRoot)
	if err != nil {
		return nil, fmt.Errorf("build: repository root %q: %w", req.RepoRoot, err)
	}
	if fi, err := os.Stat(root); err != nil {
		return nil, fmt.Errorf("build: repository root: %w", err)
	} else if !fi.IsDir() {
		return nil, fmt.Errorf("build: repository root %s is not a directory", root)
	}
	rel, err := cleanRel(req.Path)
	if err != nil {
		return nil, fmt.Errorf("build %s: %w", req.Path, err)
	}
	dir := filepath.Join(root, filepath.FromSlash(rel))
	san := newSanitizer(root)

	ks := fluxKustomization(req.Kustomization, rel)
	ksU := unstructured.Unstructured{Object: ks}

	// The kustomization.yaml Flux would build, from the directory's file or generated.
	gen := kustomize.NewGenerator(root, ksU)
	manifest, kfile, action, err := gen.GenerateManifest(dir)
	if err != nil {
		return nil, san.wrap("build "+rel+": generate kustomization", err)
	}
	var kus kustypes.Kustomization
	if err := yaml.Unmarshal(manifest, &kus); err != nil {
		return nil, san.wrap("build "+rel+": generated kustomization", err)
	}
	// Flux keeps the origin/transformer annotations only when the effective buildMetadata asks for them.
	keepOrigin := slices.Contains(kus.BuildMetadata, kustypes.OriginAnnotations)
	keepTransformer := slices.Contains(kus.BuildMetadata, kustypes.TransformerAnnotations)
	if !keepOrigin {
		kus.BuildMetadata = append(kus.BuildMetadata, kustypes.OriginAnnotations)
	}
	manifest, err = yaml.Marshal(kus)
	if err != nil {
		return nil, fmt.Errorf("build %s: marshal kustomization: %w", rel, err)
	}

	disk, err := securefs.MakeFsOnDiskSecureBuild(root)
	if err != nil {
		return nil, san.wrap("build "+rel+": filesystem", err)
	}
	fs := securefs.MakeFsInMemory(disk)
	if err := fs.MkdirAll(filepath.Dir(kfile)); err != nil {
		return nil, san.wrap("build "+rel+": in-memory filesystem", err)
	}
	if err := fs.WriteFile(kfile, manifest); err != nil {
		return nil, san.wrap("build "+rel+": in-memory filesystem", err)
	}

	resMap, err := runBuild(ctx, fs, dir)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if dup := duplicateFromError(err); dup != nil {
			dup.Declarations = declarations(ctx, fs, root, dir, dup)
			dup.Err = san.wrap("build "+rel, err)
			return nil, dup
		}
		return nil, san.wrap("build "+rel, err)
	}

	var sub *substituter
	if req.Kustomization != nil && hasPostBuild(ks) {
		sub, err = newSubstituter(ctx, ksU, req.Objects, req.Fallback, san)
		if err != nil {
			return nil, fmt.Errorf("build %s: %w", rel, err)
		}
	}
	labels, annotations := commonMetadata(ks)
	origins := newOriginResolver(fs, root, dir)

	result := &Result{Generated: action == kustomize.CreatedAction}
	for _, res := range resMap.Resources() {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		obj, err := buildObject(ctx, res, origins, sub, keepOrigin, keepTransformer, labels, annotations)
		if err != nil {
			return nil, san.wrap(fmt.Sprintf("build %s: %s", rel, res.CurId()), err)
		}
		result.Objects = append(result.Objects, obj)
	}
	return result, nil
}

// buildObject turns one built resource into an Object: origin, annotation clean-up, substitution,
// commonMetadata.
func buildObject(ctx context.Context, res *resource.Resource, origins *originResolver, sub *substituter,
	keepOrigin, keepTransformer bool, labels, annotations map[string]string) (Object, error) {
	var out Object
	origin, err := res.GetOrigin()
	if err != nil {
		return out, fmt.Errorf("origin annotation: %w", err)
	}
	out.Origin, out.OriginalName, out.OriginalNamespace = origins.resolve(res, origin)

	if anns := res.GetAnnotations(); len(anns) > 0 {
		changed := false
		if !keepOrigin {
			if _, ok := anns[originAnnotation]; ok {
				delete(anns, originAnnotation)
				changed = true
			}
		}
		if !keepTransformer {
			if _, ok := anns[transformerAnnotation]; ok {
				delete(anns, transformerAnnotation)
				changed = true
			}
		}
		if changed {
			if len(anns) == 0 {
				anns = nil
			}
			if err := res.SetAnnotations(anns); err != nil {
				return out, fmt.Errorf("remove origin annotations: %w", err)
			}
		}
	}

	if sub != nil {
		pre, err := toJSONMap(res)
		if err != nil {
			return out, err
		}
		out.Missing, err = sub.substitute(ctx, res, pre)
		if err != nil {
			return out, err
		}
	}

	obj, err := toJSONMap(res)
	if err != nil {
		return out, err
	}
	setCommonMetadata(obj, labels, annotations)
	out.Object = obj
	return out, nil
}

// runBuild runs kustomize.Build and returns when it is done or ctx is done.
func runBuild(ctx context.Context, fs filesys.FileSystem, dir string) (resmap.ResMap, error) {
	type outcome struct {
		m   resmap.ResMap
		err error
	}
	done := make(chan outcome, 1)
	go func() {
		m, err := kustomize.Build(fs, dir)
		done <- outcome{m, err}
	}()
	select {
	case o := <-done:
		return o.m, o.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

const (
	originAnnotation      = "config.kubernetes.io/origin"
	transformerAnnotation = "alpha.config.kubernetes.io/transformations"
)

// cleanRel returns p as a clean slash path relative to the root ("." for the root), refusing absolute
// paths and paths that leave the root.
func cleanRel(p string) (string, error) {
	p = filepath.ToSlash(p)
	if path.IsAbs(p) || filepath.IsAbs(p) {
		return "", fmt.Errorf("path %q must be relative to the repository root", p)
	}
	c := path.Clean("./" + p)
	if c == ".." || strings.HasPrefix(c, "../") {
		return "", fmt.Errorf("path %q leaves the repository root", p)
	}
	return c, nil
}

// fluxKustomization returns a deep copy of ks (or a minimal Kustomization for a plain root) with
// spec.path set to rel.
func fluxKustomization(ks map[string]any, rel string) map[string]any {
	var out map[string]any
	if ks == nil {
		out = map[string]any{
			"apiVersion": "kustomize.toolkit.fluxcd.io/v1",
			"kind":       "Kustomization",
			"metadata":   map[string]any{"name": "root"},
			"spec":       map[string]any{},
		}
	} else {
		out = runtime.DeepCopyJSON(jsonSafe(ks).(map[string]any))
	}
	spec, ok := out["spec"].(map[string]any)
	if !ok {
		spec = map[string]any{}
		out["spec"] = spec
	}
	spec["path"] = "./" + strings.TrimPrefix(rel, "./")
	if rel == "." {
		spec["path"] = "./"
	}
	return out
}

// hasPostBuild reports whether the Flux Kustomization has spec.postBuild.
func hasPostBuild(ks map[string]any) bool {
	spec, _ := ks["spec"].(map[string]any)
	if spec == nil {
		return false
	}
	pb, ok := spec["postBuild"]
	return ok && pb != nil
}

// commonMetadata returns spec.commonMetadata labels and annotations.
func commonMetadata(ks map[string]any) (labels, annotations map[string]string) {
	labels, _, _ = unstructured.NestedStringMap(ks, "spec", "commonMetadata", "labels")
	annotations, _, _ = unstructured.NestedStringMap(ks, "spec", "commonMetadata", "annotations")
	return labels, annotations
}

// setCommonMetadata sets labels and annotations on obj, overriding existing keys, as
// fluxcd/pkg/ssa/utils.SetCommonMetadata does.
func setCommonMetadata(obj map[string]any, labels, annotations map[string]string) {
	if len(labels) == 0 && len(annotations) == 0 {
		return
	}
	meta, ok := obj["metadata"].(map[string]any)
	if !ok {
		meta = map[string]any{}
		obj["metadata"] = meta
	}
	set := func(field string, values map[string]string) {
		if len(values) == 0 {
			return
		}
		m, ok := meta[field].(map[string]any)
		if !ok {
			m = map[string]any{}
			meta[field] = m
		}
		for k, v := range values {
			m[k] = v
		}
	}
	set("labels", labels)
	set("annotations", annotations)
}

// toJSONMap returns the resource as JSON-decoded values, numbers as int64 or float64.
func toJSONMap(res *resource.Resource) (map[string]any, error) {
	data, err := res.MarshalJSON()
	if err != nil {
		return nil, fmt.Errorf("marshal %s: %w", res.CurId(), err)
	}
	return decodeJSONObject(data)
}

// decodeJSONObject decodes a JSON object with int64/float64 numbers.
func decodeJSONObject(data []byte) (map[string]any, error) {
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.UseNumber()
	var v map[string]any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("decode object: %w", err)
	}
	if v == nil {
		return nil, errors.New("decode object: not a JSON object")
	}
	return numbers(v).(map[string]any), nil
}

// numbers converts json.Number values to int64 (or float64 when not an integer).
func numbers(v any) any {
	switch t := v.(type) {
	case map[string]any:
		for k, e := range t {
			t[k] = numbers(e)
		}
		return t
	case []any:
		for i, e := range t {
			t[i] = numbers(e)
		}
		return t
	case json.Number:
		if i, err := t.Int64(); err == nil {
			return i
		}
		f, _ := t.Float64()
		return f
	default:
		return v
	}
}

// jsonSafe converts values DeepCopyJSON cannot copy (int, []string, map[string]string...) into JSON-like ones.
func jsonSafe(v any) any {
	switch t := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, e := range t {
			out[k] = jsonSafe(e)
		}
		return out
	case []any:
		out := make([]any, len(t))
		for i, e := range t {
			out[i] = jsonSafe(e)
		}
		return out
	case map[string]string:
		out := make(map[string]any, len(t))
		for k, e := range t {
			out[k] = e
		}
		return out
	case []string:
		out := make([]any, len(t))
		for i, e := range t {
			out[i] = e
		}
		return out
	case []map[string]any:
		out := make([]any, len(t))
		for i, e := range t {
			out[i] = jsonSafe(e)
		}
		return out
	case int:
		return int64(t)
	case int32:
		return int64(t)
	case float32:
		return float64(t)
	case string, bool, int64, float64, nil:
		return t
	default:
		// Anything else goes through JSON.
		data, err := json.Marshal(t)
		if err != nil {
			return nil
		}
		var out any
		dec := json.NewDecoder(strings.NewReader(string(data)))
		dec.UseNumber()
		if dec.Decode(&out) != nil {
			return nil
		}
		return numbers(out)
	}
}
