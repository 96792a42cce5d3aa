package audit

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"

	"github.com/openova-io/ova-lint/webhook"
)

// target is one kind the audit lists.
type target struct {
	gvr        schema.GroupVersionResource
	kind       string
	namespaced bool
	// flux marks a Flux custom resource: listed whole, whoever wrote it. Other kinds are listed
	// with a label selector per Flux controller: only the objects Flux applied.
	flux bool
}

// neverApplied are resources Flux never applies from Git and that are numerous in a live
// cluster: not listed.
var neverApplied = map[schema.GroupResource]bool{
	{Group: "", Resource: "events"}:                    true,
	{Group: "events.k8s.io", Resource: "events"}:       true,
	{Group: "coordination.k8s.io", Resource: "leases"}: true,
}

// discover finds the kinds to list: every served resource that can be listed, in the version
// the server prefers (an object is served in every version of its kind; the preferred one is
// listed once). Flux's kinds are recognised by group and kind, whatever version is served.
// Groups whose discovery failed (an aggregated API that is down) come back as skipped.
//
// It also returns every served "group/version", so that an object can be judged in the version
// it was written in.
func discover(dc discovery.DiscoveryInterface) ([]target, []Skipped, map[string]bool, error) {
	groups, err := dc.ServerGroups()
	if err != nil {
		return nil, nil, nil, fmt.Errorf("discover the served resources: %w", err)
	}
	served := map[string]bool{}
	for _, g := range groups.Groups {
		for _, v := range g.Versions {
			served[v.GroupVersion] = true
		}
	}
	targets, skipped, err := discoverTargets(dc)
	return targets, skipped, served, err
}

// discoverTargets finds the kinds to list, in their preferred versions.
func discoverTargets(dc discovery.DiscoveryInterface) ([]target, []Skipped, error) {
	lists, err := dc.ServerPreferredResources()
	var skipped []Skipped
	if err != nil {
		var gdf *discovery.ErrGroupDiscoveryFailed
		if !errors.As(err, &gdf) {
			return nil, nil, fmt.Errorf("discover the served resources: %w", err)
		}
		for gv, gerr := range gdf.Groups {
			skipped = append(skipped, Skipped{
				GroupVersionResource: gv.WithResource(""),
				Reason:               "discovery failed: " + gerr.Error(),
			})
		}
	}
	var out []target
	for _, list := range lists {
		gv, err := schema.ParseGroupVersion(list.GroupVersion)
		if err != nil {
			continue
		}
		for _, r := range list.APIResources {
			if strings.Contains(r.Name, "/") || !hasVerb(r.Verbs, "list") {
				continue
			}
			if neverApplied[schema.GroupResource{Group: gv.Group, Resource: r.Name}] {
				continue
			}
			out = append(out, target{
				gvr:        gv.WithResource(r.Name),
				kind:       r.Kind,
				namespaced: r.Namespaced,
				flux:       webhook.IsFluxKind(gv.Group, r.Kind),
			})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].gvr.String() < out[j].gvr.String() })
	return out, skipped, nil
}

func hasVerb(verbs []string, verb string) bool {
	for _, v := range verbs {
		if v == verb {
			return true
		}
	}
	return false
}
