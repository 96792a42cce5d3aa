package report

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"log/slog"
	"maps"
	"slices"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
)

// SyncOptions say where the reports live.
type SyncOptions struct {
	// Namespaces limits the stale-report cleanup of namespaced reports to these namespaces
	// (the audit's Options.Namespaces); empty means every namespace.
	Namespaces []string
	// PageSize is the limit of one list request; 0 means 500.
	PageSize int64
	// Logger receives one line per failed write; nil discards.
	Logger *slog.Logger
}

// Stats count what Sync did.
type Stats struct {
	Created, Updated, Unchanged, Deleted int
	// Kept counts the reports of objects whose kind the audit could not list: not stale.
	Kept int
	// Failed counts the writes that failed (e.g. a namespace being deleted); the next run
	// retries them.
	Failed int
}

// Writes is the number of write requests Sync made.
func (s Stats) Writes() int { return s.Created + s.Updated + s.Deleted + s.Failed }

type reportKey struct{ namespace, name string }

// existing is what Sync keeps of a report in the cluster: enough to tell whether it changed and
// whose it is, not the report (a run over many objects holds one of these per report).
type existing struct {
	uid    types.UID
	scope  schema.GroupKind
	digest string
}

// Sync makes the cluster's ova-lint reports of set.API equal to set: it creates the missing
// ones, updates those whose labels, annotations, owner, scope, summary or results changed (a
// result that did not change keeps its timestamp) and deletes the stale ones. A failed write is
// logged and counted, and the others go on; an error means the reports could not be listed.
func Sync(ctx context.Context, client dynamic.Interface, set *Set, opts SyncOptions) (Stats, error) {
	var st Stats
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.PageSize <= 0 {
		opts.PageSize = 500
	}
	have := map[reportKey]existing{}
	for _, namespaced := range []bool{true, false} {
		gvr, _ := set.API.Resource(namespaced)
		namespaces := []string{metav1.NamespaceAll}
		if namespaced && len(opts.Namespaces) > 0 {
			namespaces = opts.Namespaces
		}
		for _, ns := range namespaces {
			if err := list(ctx, client, gvr, ns, opts.PageSize, func(u *unstructured.Unstructured) {
				have[reportKey{u.GetNamespace(), u.GetName()}] = existing{uid: u.GetUID(), scope: scopeKind(u), digest: digest(u)}
			}); err != nil {
				return st, err
			}
		}
	}

	for i := range set.Len() {
		ns, name := set.Key(i)
		key := reportKey{ns, name}
		old, ok := have[key]
		delete(have, key)
		want, err := set.Report(i)
		if err != nil {
			return st, err
		}
		gvr, _ := set.API.Resource(ns != "")
		res := resource(client, gvr, ns)
		switch {
		case !ok:
			if _, err := res.Create(ctx, want, metav1.CreateOptions{FieldManager: Source}); err != nil {
				st.Failed++
				opts.Logger.Warn("report not created", slog.String("namespace", ns), slog.String("name", name), slog.String("error", err.Error()))
				continue
			}
			st.Created++
		case old.digest == digest(want):
			st.Unchanged++
		default:
			if err := update(ctx, res, want); err != nil {
				st.Failed++
				opts.Logger.Warn("report not updated", slog.String("namespace", ns), slog.String("name", name), slog.String("error", err.Error()))
				continue
			}
			st.Updated++
		}
	}

	// What is left is stale, but for the kinds the audit could not list this time.
	stale := make([]reportKey, 0, len(have))
	for k := range have {
		stale = append(stale, k)
	}
	slices.SortFunc(stale, func(a, b reportKey) int {
		return cmp.Or(cmp.Compare(a.namespace, b.namespace), cmp.Compare(a.name, b.name))
	})
	for _, k := range stale {
		old := have[k]
		if set.Keep[old.scope] {
			st.Kept++
			continue
		}
		gvr, _ := set.API.Resource(k.namespace != "")
		err := resource(client, gvr, k.namespace).Delete(ctx, k.name, metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &old.uid}})
		if err != nil && !apierrors.IsNotFound(err) {
			st.Failed++
			opts.Logger.Warn("stale report not deleted", slog.String("namespace", k.namespace), slog.String("name", k.name), slog.String("error", err.Error()))
			continue
		}
		st.Deleted++
	}
	return st, nil
}

// update rewrites a changed report: the results that did not change keep their timestamps, and
// the labels and annotations others set stay.
func update(ctx context.Context, res dynamic.ResourceInterface, want *unstructured.Unstructured) error {
	have, err := res.Get(ctx, want.GetName(), metav1.GetOptions{})
	if err != nil {
		return err
	}
	keepTimestamps(want, have)
	want.SetResourceVersion(have.GetResourceVersion())
	want.SetUID(have.GetUID())
	want.SetLabels(merge(have.GetLabels(), want.GetLabels(), ""))
	want.SetAnnotations(merge(have.GetAnnotations(), want.GetAnnotations(), ResultsDroppedAnnotation))
	_, err = res.Update(ctx, want, metav1.UpdateOptions{FieldManager: Source})
	return err
}

func resource(client dynamic.Interface, gvr schema.GroupVersionResource, namespace string) dynamic.ResourceInterface {
	if namespace == "" {
		return client.Resource(gvr)
	}
	return client.Resource(gvr).Namespace(namespace)
}

// list calls fn for every ova-lint report of gvr in namespace, page by page.
func list(ctx context.Context, client dynamic.Interface, gvr schema.GroupVersionResource, namespace string, pageSize int64, fn func(*unstructured.Unstructured)) error {
	opts := metav1.ListOptions{LabelSelector: ManagedByLabel + "=" + Source, Limit: pageSize}
	for {
		l, err := resource(client, gvr, namespace).List(ctx, opts)
		if err != nil {
			return fmt.Errorf("list %s: %w", gvr.Resource, err)
		}
		for i := range l.Items {
			fn(&l.Items[i])
		}
		if opts.Continue = l.GetContinue(); opts.Continue == "" {
			return nil
		}
	}
}

// scopeKind is the group and kind of the object a report is about.
func scopeKind(u *unstructured.Unstructured) schema.GroupKind {
	apiVersion, _, _ := unstructured.NestedString(u.Object, "scope", "apiVersion")
	kind, _, _ := unstructured.NestedString(u.Object, "scope", "kind")
	gv, _ := schema.ParseGroupVersion(apiVersion)
	return schema.GroupKind{Group: gv.Group, Kind: kind}
}

// resultKey identifies a result across runs: the same rule, outcome, field and message.
func resultKey(r map[string]any) string {
	path, _, _ := unstructured.NestedString(r, "properties", PathProperty)
	return fmt.Sprint(r["policy"], "\x00", r["result"], "\x00", path, "\x00", r["message"])
}

// keepTimestamps gives want's results the timestamps they had in have when they did not change.
func keepTimestamps(want, have *unstructured.Unstructured) {
	old := map[string]any{}
	haveResults, _, _ := unstructured.NestedSlice(have.Object, "results")
	for _, r := range haveResults {
		if m, ok := r.(map[string]any); ok {
			old[resultKey(m)] = m["timestamp"]
		}
	}
	wantResults, _ := want.Object["results"].([]any)
	for _, r := range wantResults {
		m, ok := r.(map[string]any)
		if !ok {
			continue
		}
		if ts, ok := old[resultKey(m)]; ok && ts != nil {
			m["timestamp"] = ts
		}
	}
}

// compared are the fields of a report Sync owns.
var compared = []string{"source", "scope", "configuration", "summary"}

// digest sums up what Sync owns of a report, as JSON (numbers compare by value whatever their
// Go type), without the results' timestamps: a result that did not change keeps its stamp, so
// two reports with the same digest are the same.
func digest(u *unstructured.Unstructured) string {
	m := map[string]any{
		"managed-by": u.GetLabels()[ManagedByLabel],
		"dropped":    u.GetAnnotations()[ResultsDroppedAnnotation],
		"owners":     ownerRefs(u),
	}
	for _, f := range compared {
		m[f] = u.Object[f]
	}
	rs, _ := u.Object["results"].([]any)
	results := make([]map[string]any, 0, len(rs))
	for _, r := range rs {
		if r, ok := r.(map[string]any); ok {
			c := maps.Clone(r)
			delete(c, "timestamp")
			results = append(results, c)
		}
	}
	m["results"] = results
	b, _ := json.Marshal(m)
	sum := sha256.Sum256(b)
	return string(sum[:])
}

// ownerRefs are the owner references without the fields the server may default.
func ownerRefs(u *unstructured.Unstructured) []metav1.OwnerReference {
	refs := u.GetOwnerReferences()
	for i := range refs {
		refs[i].Controller, refs[i].BlockOwnerDeletion = nil, nil
	}
	return refs
}

// merge is have with want's entries, less the key drop unless want has it: the labels and
// annotations others set on a report stay.
func merge(have, want map[string]string, drop string) map[string]string {
	out := map[string]string{}
	for k, v := range have {
		if k != drop {
			out[k] = v
		}
	}
	for k, v := range want {
		out[k] = v
	}
	if len(out) == 0 {
		return nil
	}
	return out
}
