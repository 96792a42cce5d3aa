package audit

import (
	"context"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
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
