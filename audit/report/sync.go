package report

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
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
	"k8s.io/client-go/metadata"
	"k8s.io/client-go/rest"
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

// existing is what Sync keeps of a report in the cluster, from a metadata-only list: whose it is
// and the digest of its content.
type existing struct {
	uid    types.UID
	scope  schema.GroupKind
	digest string
}

// Clients write the reports: Dynamic reads and writes them whole, Metadata lists their metadata.
type Clients struct {
	Dynamic  dynamic.Interface
	Metadata metadata.Interface
}

// NewClients makes the clients of cfg.
func NewClients(cfg *rest.Config) (Clients, error) {
	d, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return Clients{}, fmt.Errorf("report client: %w", err)
	}
	m, err := metadata.NewForConfig(cfg)
	if err != nil {
		return Clients{}, fmt.Errorf("report metadata client: %w", err)
	}
	return Clients{Dynamic: d, Metadata: m}, nil
}

// Sync makes the cluster's ova-lint reports of set.API equal to set: it creates the missing
// ones, updates those whose content changed (their digest annotation differs; a result that did
// not change keeps its timestamp, the labels and annotations others set stay) and deletes the
// stale ones. The reports in the cluster are listed by their metadata only. A failed write is
// logged and counted, and the others go on; an error means the reports could not be listed.
func Sync(ctx context.Context, c Clients, set *Set, opts SyncOptions) (Stats, error) {
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
			if err := list(ctx, c.Metadata, gvr, ns, opts.PageSize, func(m *metav1.PartialObjectMetadata) {
				have[reportKey{m.Namespace, m.Name}] = existing{uid: m.UID, scope: ownerKind(m.OwnerReferences), digest: m.Annotations[DigestAnnotation]}
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
		res := resource(c.Dynamic, gvr, ns)
		switch {
		case !ok:
			if _, err := res.Create(ctx, want, metav1.CreateOptions{FieldManager: Source}); err != nil {
				st.Failed++
				opts.Logger.Warn("report not created", slog.String("namespace", ns), slog.String("name", name), slog.String("error", err.Error()))
				continue
			}
			st.Created++
		case old.digest == want.GetAnnotations()[DigestAnnotation]:
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
		err := resource(c.Dynamic, gvr, k.namespace).Delete(ctx, k.name, metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &old.uid}})
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

// list calls fn for the metadata of every ova-lint report of gvr in namespace, page by page.
func list(ctx context.Context, client metadata.Interface, gvr schema.GroupVersionResource, namespace string, pageSize int64, fn func(*metav1.PartialObjectMetadata)) error {
	opts := metav1.ListOptions{LabelSelector: ManagedByLabel + "=" + Source, Limit: pageSize}
	for {
		var l *metav1.PartialObjectMetadataList
		var err error
		if namespace == "" {
			l, err = client.Resource(gvr).List(ctx, opts)
		} else {
			l, err = client.Resource(gvr).Namespace(namespace).List(ctx, opts)
		}
		if apierrors.IsNotFound(err) {
			return fmt.Errorf("%s are not served: install their CRDs (the chart does unless reports.installCRDs=false), or pick the report API whose CRDs are installed (--report-api): %w", gvr.GroupResource(), err)
		}
		if err != nil {
			return fmt.Errorf("list %s: %w", gvr.GroupResource(), err)
		}
		for i := range l.Items {
			fn(&l.Items[i])
		}
		if opts.Continue = l.Continue; opts.Continue == "" {
			return nil
		}
	}
}

// ownerKind is the group and kind of the object a report is about: its owner.
func ownerKind(refs []metav1.OwnerReference) schema.GroupKind {
	if len(refs) == 0 {
		return schema.GroupKind{}
	}
	gv, _ := schema.ParseGroupVersion(refs[0].APIVersion)
	return schema.GroupKind{Group: gv.Group, Kind: refs[0].Kind}
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

// digest sums up what Sync owns of a report (its DigestAnnotation), as JSON, without the
// results' timestamps: a result that did not change keeps its stamp, so two reports with the
// same digest are the same.
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
	return hex.EncodeToString(sum[:16])
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
