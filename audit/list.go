package audit

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"

	"github.com/openova-io/ova-lint/webhook"
)

// fluxSelectors select the objects each Flux controller applied (a label selector cannot say
// "one label or the other": one list per label; an object carrying both comes twice and is
// audited once).
var fluxSelectors = []string{webhook.LabelKustomizeName, webhook.LabelHelmName}

// lister lists the targets page by page.
type lister struct {
	client     dynamic.Interface
	pageSize   int64
	namespaces []string
	scrubber   *Scrubber
	logger     *slog.Logger
	// served are the versions each API group serves ("group/version"), to judge an object in
	// the version it was written in (flux-api-version, kubernetes-api-version).
	served map[string]bool
}

// listAll lists every target, n kinds at a time, and sends each object once (by UID), its
// Secret values scrubbed and its managedFields dropped, to out, which it closes. The kinds
// the server refuses come back as skipped; any other error stops the listing.
func (l *lister) listAll(ctx context.Context, targets []target, n int, out chan<- map[string]any) ([]Skipped, error) {
	defer close(out)
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var (
		mu      sync.Mutex
		seen    = map[types.UID]bool{}
		skipped []Skipped
	)
	todo := make(chan target)
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			for t := range todo {
				err := l.listTarget(ctx, t, func(obj map[string]any) error {
					u := unstructured.Unstructured{Object: obj}
					if uid := u.GetUID(); uid != "" {
						mu.Lock()
						dup := seen[uid]
						seen[uid] = true
						mu.Unlock()
						if dup {
							return nil // an object with both controllers' labels
						}
					}
					if u.GetKind() == "" {
						u.SetAPIVersion(t.gvr.GroupVersion().String())
						u.SetKind(t.kind)
					}
					obj, err := l.asWritten(ctx, t, obj)
					if err != nil {
						return err
					}
					// Values go first: nothing downstream ever holds a Secret value.
					if err := l.scrubber.Scrub(ctx, obj); err != nil {
						return err
					}
					unstructured.RemoveNestedField(obj, "metadata", "managedFields")
					select {
					case out <- obj:
						return nil
					case <-ctx.Done():
						return context.Cause(ctx)
					}
				})
				var r *refusal
				switch {
				case errors.As(err, &r):
					mu.Lock()
					skipped = append(skipped, Skipped{GroupVersionResource: t.gvr, Kind: t.kind, Reason: r.reason})
					mu.Unlock()
					l.logger.LogAttrs(ctx, slog.LevelWarn, "kind skipped", slog.String("resource", t.gvr.String()), slog.String("reason", r.reason))
				case err != nil:
					cancel(err)
				}
			}
		})
	}
feed:
	for _, t := range targets {
		select {
		case todo <- t:
		case <-ctx.Done():
			break feed
		}
	}
	close(todo)
	wg.Wait()
	if err := context.Cause(ctx); err != nil {
		return skipped, fmt.Errorf("audit: %w", err)
	}
	return skipped, nil
}

// listTarget calls each with every object of t, page by page. A Forbidden, Unauthorized or
// otherwise refused list comes back as a *refusal: the caller skips the kind and goes on.
func (l *lister) listTarget(ctx context.Context, t target, each func(map[string]any) error) error {
	selectors := fluxSelectors
	if t.flux {
		selectors = []string{""}
	}
	namespaces := []string{""}
	if t.namespaced && len(l.namespaces) > 0 {
		namespaces = l.namespaces
	}
	for _, ns := range namespaces {
		for _, sel := range selectors {
			if err := l.pages(ctx, t, ns, sel, each); err != nil {
				return err
			}
		}
	}
	return nil
}

// pages lists one namespace ("" for all) with one selector, limit/continue.
func (l *lister) pages(ctx context.Context, t target, ns, selector string, each func(map[string]any) error) error {
	var ri dynamic.ResourceInterface = l.client.Resource(t.gvr)
	if t.namespaced && ns != "" {
		ri = l.client.Resource(t.gvr).Namespace(ns)
	}
	opts := metav1.ListOptions{Limit: l.pageSize, LabelSelector: selector}
	for {
		list, err := ri.List(ctx, opts)
		if err != nil {
			if r := refused(err); r != "" {
				return &refusal{reason: r}
			}
			where := "all namespaces"
			if ns != "" {
				where = "namespace " + ns
			}
			return fmt.Errorf("list %s in %s: %w", t.gvr, where, err)
		}
		for i := range list.Items {
			obj := list.Items[i].Object
			list.Items[i].Object = nil // the page lets go of each object as it is handed on
			if err := each(obj); err != nil {
				return err
			}
		}
		if list.GetContinue() == "" {
			return nil
		}
		opts.Continue = list.GetContinue()
	}
}

// asWritten returns obj in the version it was last written in (GET in that
// version), or obj itself when it was written in the listed version, or that version is not
// served any more, or the object is gone.
func (l *lister) asWritten(ctx context.Context, t target, obj map[string]any) (map[string]any, error) {
	written := writtenVersion(obj)
	gv, err := schema.ParseGroupVersion(written)
	if written == "" || err != nil || gv.Group != t.gvr.Group || gv.Version == t.gvr.Version || !l.served[written] {
		return obj, nil
	}
	u := unstructured.Unstructured{Object: obj}
	var ri dynamic.ResourceInterface = l.client.Resource(gv.WithResource(t.gvr.Resource))
	if t.namespaced {
		ri = l.client.Resource(gv.WithResource(t.gvr.Resource)).Namespace(u.GetNamespace())
	}
	got, err := ri.Get(ctx, u.GetName(), metav1.GetOptions{})
	switch {
	case err == nil:
		return got.Object, nil
	case refused(err) != "":
		return obj, nil // judged as listed
	}
	return nil, fmt.Errorf("get %s %s in %s: %w", t.kind, objectName(u.GetNamespace(), u.GetName()), written, err)
}

// refusal is a list the server refused: the kind is skipped with the reason.
type refusal struct{ reason string }

func (r *refusal) Error() string { return r.reason }

// refused returns why the server refused a list, or "" for an error that stops the audit (the
// cluster is unreachable, the context was cancelled).
func refused(err error) string {
	switch {
	case apierrors.IsForbidden(err), apierrors.IsUnauthorized(err):
		return err.Error()
	case apierrors.IsNotFound(err), apierrors.IsMethodNotSupported(err), apierrors.IsServiceUnavailable(err):
		return "not listable: " + err.Error()
	case apierrors.IsResourceExpired(err), apierrors.IsGone(err):
		return "the listing expired between pages (retry): " + err.Error()
	}
	return ""
}
