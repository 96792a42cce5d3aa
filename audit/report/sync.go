package report

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
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
	existing := map[reportKey]*unstructured.Unstructured{}
	for _, namespaced := range []bool{true, false} {
		gvr, _ := set.API.Resource(namespaced)
		namespaces := []string{metav1.NamespaceAll}
		if namespaced && len(opts.Namespaces) > 0 {
			namespaces = opts.Namespaces
		}
		for _, ns := range namespaces {
			if err := list(ctx, client, gvr, ns, opts.PageSize, func(u *unstructured.Unstructured) {
				existing[reportKey{u.GetNamespace(), u.GetName()}] = u
			}); err != nil {
				return st, err
			}
		}
	}

	for _, want := range set.Reports {
		key := reportKey{want.GetNamespace(), want.GetName()}
		gvr, _ := set.API.Resource(key.namespace != "")
		res := resource(client, gvr, key.namespace)
		have, ok := existing[key]
		delete(existing, key)
		if !ok {
			if _, err := res.Create(ctx, want, metav1.CreateOptions{FieldManager: Source}); err != nil {
				st.Failed++
				opts.Logger.Warn("report not created", slog.String("namespace", key.namespace), slog.String("name", key.name), slog.String("error", err.Error()))
				continue
			}
			st.Created++
			continue
		}
		keepTimestamps(want, have)
		if same(want, have) {
			st.Unchanged++
			continue
		}
		upd := want.DeepCopy()
		upd.SetResourceVersion(have.GetResourceVersion())
		upd.SetUID(have.GetUID())
		upd.SetLabels(merge(have.GetLabels(), want.GetLabels(), ""))
		upd.SetAnnotations(merge(have.GetAnnotations(), want.GetAnnotations(), ResultsDroppedAnnotation))
		if _, err := res.Update(ctx, upd, metav1.UpdateOptions{FieldManager: Source}); err != nil {
			st.Failed++
			opts.Logger.Warn("report not updated", slog.String("namespace", key.namespace), slog.String("name", key.name), slog.String("error", err.Error()))
			continue
		}
		st.Updated++
	}

	// What is left is stale, but for the kinds the audit could not list this time.
	stale := make([]reportKey, 0, len(existing))
	for k := range existing {
		stale = append(stale, k)
	}
	slices.SortFunc(stale, func(a, b reportKey) int {
		return cmp.Or(cmp.Compare(a.namespace, b.namespace), cmp.Compare(a.name, b.name))
	})
	for _, k := range stale {
		u := existing[k]
		if set.Keep[scopeKind(u)] {
			st.Kept++
			continue
		}
		gvr, _ := set.API.Resource(k.namespace != "")
		uid := u.GetUID()
		err := resource(client, gvr, k.namespace).Delete(ctx, k.name, metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &uid}})
		if err != nil && !apierrors.IsNotFound(err) {
			st.Failed++
			opts.Logger.Warn("stale report not deleted", slog.String("namespace", k.namespace), slog.String("name", k.name), slog.String("error", err.Error()))
			continue
		}
		st.Deleted++
	}
	return st, nil
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
var compared = []string{"source", "scope", "configuration", "summary", "results"}

// same reports whether have already holds what want says, as JSON (numbers compare by value
// whatever their Go type).
func same(want, have *unstructured.Unstructured) bool {
	pick := func(u *unstructured.Unstructured) string {
		m := map[string]any{
			"managed-by": u.GetLabels()[ManagedByLabel],
			"dropped":    u.GetAnnotations()[ResultsDroppedAnnotation],
			"owners":     ownerRefs(u),
		}
		for _, f := range compared {
			m[f] = u.Object[f]
		}
		b, _ := json.Marshal(m)
		return string(b)
	}
	return pick(want) == pick(have)
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
