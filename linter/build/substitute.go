package build

import (
	"context"
	"fmt"
	"sort"
	"strconv"

	"github.com/fluxcd/pkg/envsubst/parse"
	"github.com/fluxcd/pkg/kustomize"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/kustomize/api/resource"
)

// substituteAnnotation is Flux's per-object opt-out (label or annotation with value "disabled").
const substituteAnnotation = "kustomize.toolkit.fluxcd.io/substitute"

// fallbackConfigMap is the name of the synthetic ConfigMap that carries Request.Fallback.
const fallbackConfigMap = "ova-lint-substitute-fallback"

// substituter runs Flux's postBuild substitution for one Kustomization.
//
// Fallback values are injected as a synthetic ConfigMap into the fake client and referenced by an
// optional substituteFrom entry prepended to the list: kustomize.LoadVariables lets later entries
// override earlier ones and the inline substitute override them all, so the precedence is
// inline > substituteFrom (in list order) > Fallback, with the library doing the merge.
type substituter struct {
	ks       unstructured.Unstructured // the Kustomization with the fallback reference prepended
	client   client.Client
	provided map[string]bool // every variable name some source provides
	ctx      func(context.Context) context.Context
}

// substituteRef is one spec.postBuild.substituteFrom entry.
type substituteRef struct {
	Kind, Name string
	Optional   bool
}

func newSubstituter(ctx context.Context, ks unstructured.Unstructured, objects []map[string]any,
	fallback map[string]string, san *sanitizer) (*substituter, error) {
	ns := ks.GetNamespace()
	refs, err := substituteFrom(ks.Object)
	if err != nil {
		return nil, err
	}
	seed := seedObjects(objects)

	ks = *ks.DeepCopy()
	if len(fallback) > 0 {
		name := fallbackConfigMap
		for i := 1; seed[objKey{"ConfigMap", ns, name}] != nil; i++ {
			name = fallbackConfigMap + "-" + strconv.Itoa(i)
		}
		data := make(map[string]string, len(fallback))
		for k, v := range fallback {
			data[k] = v
		}
		seed[objKey{"ConfigMap", ns, name}] = &corev1.ConfigMap{
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
			Data:       data,
		}
		list, _, _ := unstructured.NestedSlice(ks.Object, "spec", "postBuild", "substituteFrom")
		list = append([]any{map[string]any{"kind": "ConfigMap", "name": name, "optional": true}}, list...)
		if err := unstructured.SetNestedSlice(ks.Object, list, "spec", "postBuild", "substituteFrom"); err != nil {
			return nil, fmt.Errorf("postBuild: %w", err)
		}
	}

	scheme := runtime.NewScheme()
	if err := corev1.AddToScheme(scheme); err != nil {
		return nil, fmt.Errorf("postBuild: scheme: %w", err)
	}
	keys := make([]objKey, 0, len(seed))
	for k := range seed {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i].String() < keys[j].String() })
	objs := make([]client.Object, 0, len(keys))
	for _, k := range keys {
		objs = append(objs, seed[k])
	}
	c := fake.NewClientBuilder().WithScheme(scheme).WithObjects(objs...).Build()

	// A missing non-optional reference: say which, and how to provide it.
	for _, r := range refs {
		if r.Optional {
			continue
		}
		var obj client.Object
		switch r.Kind {
		case "ConfigMap":
			obj = &corev1.ConfigMap{}
		case "Secret":
			obj = &corev1.Secret{}
		default:
			continue
		}
		if err := c.Get(ctx, types.NamespacedName{Namespace: ns, Name: r.Name}, obj); err != nil {
			if apierrors.IsNotFound(err) {
				return nil, fmt.Errorf("postBuild.substituteFrom: %s %s/%s is not optional and is not among the repository's objects; "+
					"provide it with --substitute-from, or its variables with --substitute", r.Kind, nsOrDefault(ns), r.Name)
			}
			return nil, fmt.Errorf("postBuild.substituteFrom: %s %s/%s: %w", r.Kind, nsOrDefault(ns), r.Name, err)
		}
	}

	withCollector := func(ctx context.Context) context.Context {
		return kustomize.ContextWithSecretVarsCollector(ctx, san.addSecrets)
	}
	vars, err := kustomize.LoadVariables(withCollector(ctx), c, ks)
	if err != nil {
		return nil, san.wrap("postBuild.substituteFrom", err)
	}
	provided := make(map[string]bool, len(vars))
	for k := range vars {
		provided[k] = true
	}
	inline, _, _ := unstructured.NestedMap(ks.Object, "spec", "postBuild", "substitute")
	for k := range inline {
		provided[k] = true
	}
	return &substituter{ks: ks, client: c, provided: provided, ctx: withCollector}, nil
}

func nsOrDefault(ns string) string {
	if ns == "" {
		return "(no namespace)"
	}
	return ns
}

// substitute finds the missing variables of pre (the resource as JSON) and substitutes res in place.
func (s *substituter) substitute(ctx context.Context, res *resource.Resource, pre map[string]any) ([]MissingVar, error) {
	if res.GetLabels()[substituteAnnotation] == kustomize.DisabledValue ||
		res.GetAnnotations()[substituteAnnotation] == kustomize.DisabledValue {
		return nil, nil
	}
	missing := findMissing(pre, s.provided)
	if _, err := kustomize.SubstituteVariables(s.ctx(ctx), s.client, s.ks, res); err != nil {
		return nil, fmt.Errorf("postBuild substitution: %w", err)
	}
	return missing, nil
}

// substituteFrom reads spec.postBuild.substituteFrom.
func substituteFrom(ks map[string]any) ([]substituteRef, error) {
	list, _, err := unstructured.NestedSlice(ks, "spec", "postBuild", "substituteFrom")
	if err != nil {
		return nil, fmt.Errorf("postBuild.substituteFrom: %w", err)
	}
	var refs []substituteRef
	for i, e := range list {
		m, ok := e.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("postBuild.substituteFrom[%d]: not an object", i)
		}
		kind, _ := m["kind"].(string)
		name, _ := m["name"].(string)
		optional, _ := m["optional"].(bool)
		refs = append(refs, substituteRef{Kind: kind, Name: name, Optional: optional})
	}
	return refs, nil
}

// objKey identifies a seeded object.
type objKey struct{ kind, namespace, name string }

func (k objKey) String() string { return k.kind + "/" + k.namespace + "/" + k.name }

// seedObjects converts the tree's ConfigMaps and Secrets into typed objects for the fake client,
// turning Secret stringData into data as the API server would. Objects that do not convert are left
// out (the API server would reject them); the first of two with the same identity wins.
func seedObjects(objects []map[string]any) map[objKey]client.Object {
	seed := map[objKey]client.Object{}
	for _, m := range objects {
		if m == nil {
			continue
		}
		if api, _ := m["apiVersion"].(string); api != "v1" {
			continue
		}
		kind, _ := m["kind"].(string)
		u, ok := jsonSafe(m).(map[string]any)
		if !ok {
			continue
		}
		var obj client.Object
		switch kind {
		case "ConfigMap":
			cm := &corev1.ConfigMap{}
			if runtime.DefaultUnstructuredConverter.FromUnstructured(u, cm) != nil {
				continue
			}
			obj = cm
		case "Secret":
			sec := &corev1.Secret{}
			if runtime.DefaultUnstructuredConverter.FromUnstructured(u, sec) != nil {
				continue
			}
			if len(sec.StringData) > 0 {
				if sec.Data == nil {
					sec.Data = map[string][]byte{}
				}
				for k, v := range sec.StringData {
					sec.Data[k] = []byte(v)
				}
				sec.StringData = nil
			}
			obj = sec
		default:
			continue
		}
		obj.SetResourceVersion("")
		key := objKey{kind, obj.GetNamespace(), obj.GetName()}
		if obj.GetName() == "" || seed[key] != nil {
			continue
		}
		seed[key] = obj
	}
	return seed
}

// findMissing walks the string values of obj for variable references without a default whose name
// no source provides. It uses Flux's envsubst parser, so `$${VAR}` escapes are not references and
// `${VAR:=default}` (and the other default-taking operators) are not missing.
func findMissing(obj map[string]any, provided map[string]bool) []MissingVar {
	var out []MissingVar
	var walk func(v any, p []any)
	walk = func(v any, p []any) {
		switch t := v.(type) {
		case map[string]any:
			keys := make([]string, 0, len(t))
			for k := range t {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				walk(t[k], append(p[:len(p):len(p)], k))
			}
		case []any:
			for i, e := range t {
				walk(e, append(p[:len(p):len(p)], i))
			}
		case string:
			tree, err := parse.Parse(t)
			if err != nil {
				return // the substitution itself reports the syntax error
			}
			seen := map[string]bool{}
			for _, name := range missingIn(tree.Root, provided) {
				if !seen[name] {
					seen[name] = true
					out = append(out, MissingVar{Name: name, Path: append([]any(nil), p...)})
				}
			}
		}
	}
	walk(obj, nil)
	return out
}

// missingIn returns the unprovided names referenced without a default in the parse tree n.
func missingIn(n parse.Node, provided map[string]bool) []string {
	var out []string
	switch t := n.(type) {
	case *parse.ListNode:
		for _, c := range t.Nodes {
			out = append(out, missingIn(c, provided)...)
		}
	case *parse.FuncNode:
		for _, a := range t.Args {
			out = append(out, missingIn(a, provided)...)
		}
		if !provided[t.Param] && !isDefaultOp(t.Name) {
			out = append(out, t.Param)
		}
	}
	return out
}

// isDefaultOp mirrors envsubst: these operators supply their own value when the variable is unset.
func isDefaultOp(name string) bool {
	switch name {
	case "-", "+", "=", "?", ":-", ":+", ":=", ":?":
		return true
	}
	return false
}
