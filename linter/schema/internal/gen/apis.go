package main

import (
	_ "embed"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/openova-io/ova-lint/linter/schema/internal/convert"
)

// apis.json.gz is the deprecation data the flux-api-version and kubernetes-api-version rules
// read (data.ova.apis): what each carried Flux line's CRDs say of their versions (served,
// deprecated, deprecationWarning, storage), and which core Kubernetes apiVersion/kinds are
// removed (a documented table, plus what the carried swagger.json files show).

//go:embed handwritten/kubernetes-removals.yaml
var kubernetesRemovals []byte

// apiVersionInfo is what a CRD says of one of its versions.
type apiVersionInfo struct {
	Served     bool   `json:"served"`
	Deprecated bool   `json:"deprecated,omitempty"`
	Warning    string `json:"warning,omitempty"`
}

// apiKind is one Flux kind: its versions and the storage version (the one to move to).
type apiKind struct {
	Storage  string                    `json:"storage"`
	Versions map[string]apiVersionInfo `json:"versions"`
}

// fluxAPIs maps "group/Kind" to the kind's versions in one Flux line.
type fluxAPIs map[string]apiKind

// add records the versions of CustomResourceDefinition documents.
func (a fluxAPIs) add(docs []map[string]any) {
	for _, d := range docs {
		spec, _ := d["spec"].(map[string]any)
		group, _ := spec["group"].(string)
		names, _ := spec["names"].(map[string]any)
		kind, _ := names["kind"].(string)
		vl, _ := spec["versions"].([]any)
		if group == "" || kind == "" || len(vl) == 0 {
			continue
		}
		k := apiKind{Versions: map[string]apiVersionInfo{}}
		for _, x := range vl {
			vm, _ := x.(map[string]any)
			name, _ := vm["name"].(string)
			if name == "" {
				continue
			}
			info := apiVersionInfo{}
			info.Served, _ = vm["served"].(bool)
			info.Deprecated, _ = vm["deprecated"].(bool)
			info.Warning, _ = vm["deprecationWarning"].(string)
			k.Versions[name] = info
			if s, _ := vm["storage"].(bool); s {
				k.Storage = name
			}
		}
		a[group+"/"+kind] = k
	}
}

// removal is one core Kubernetes apiVersion/kind that the API server no longer serves.
type removal struct {
	DeprecatedIn string `json:"deprecated_in,omitempty"`
	RemovedIn    string `json:"removed_in"`
	Replacement  string `json:"replacement"`
	// Derived says the entry comes from the carried swagger.json files, not from the
	// table: RemovedIn is then the first carried minor without it (it went at or before).
	Derived bool `json:"derived,omitempty"`
}

type apisDoc struct {
	Sources    []string            `json:"sources"`
	Flux       map[string]fluxAPIs `json:"flux"`
	Kubernetes struct {
		Minors  []string           `json:"minors"`
		Removed map[string]removal `json:"removed"` // "apiVersion/Kind" -> removal
	} `json:"kubernetes"`
}

// notKinds are types the swagger registers under every group version; they are not objects
// one writes.
var notKinds = regexp.MustCompile(`^(DeleteOptions|WatchEvent|Status|APIGroup|APIGroupList|APIResourceList|APIVersions|Eviction|Scale|.*List)$`)

func (g *generator) apis() (*apisDoc, error) {
	doc := &apisDoc{Flux: g.fluxAPIs}
	doc.Kubernetes.Removed = map[string]removal{}
	var table []struct {
		APIVersion  string   `yaml:"apiVersion"`
		Kinds       []string `yaml:"kinds"`
		Deprecated  string   `yaml:"deprecated"`
		Removed     string   `yaml:"removed"`
		Replacement string   `yaml:"replacement"`
	}
	if err := yaml.Unmarshal(kubernetesRemovals, &table); err != nil {
		return nil, fmt.Errorf("kubernetes-removals.yaml: %v", err)
	}
	for _, t := range table {
		for _, k := range t.Kinds {
			doc.Kubernetes.Removed[convert.KindKey(t.APIVersion, k)] = removal{DeprecatedIn: t.Deprecated, RemovedIn: t.Removed, Replacement: t.Replacement}
		}
	}
	minors := convert.SortedKeys(g.kubeKinds)
	sort.Slice(minors, func(i, j int) bool { return minorLess(minors[i], minors[j]) })
	doc.Kubernetes.Minors = minors
	served := map[string]map[string]bool{}
	for _, m := range minors {
		served[m] = map[string]bool{}
		for _, k := range g.kubeKinds[m] {
			served[m][k] = true
		}
	}
	// The table must agree with the swagger files: nothing it calls removed is served.
	for key, r := range doc.Kubernetes.Removed {
		for _, m := range minors {
			if served[m][key] && !minorLess(m, r.RemovedIn) {
				return nil, fmt.Errorf("kubernetes-removals.yaml: %s removed in %s but served by %s", key, r.RemovedIn, m)
			}
		}
	}
	// Derived: served by one carried minor, gone from a later one.
	for i, m := range minors {
		for _, key := range g.kubeKinds[m] {
			apiVersion, kind := key[:strings.LastIndex(key, "/")], key[strings.LastIndex(key, "/")+1:]
			if notKinds.MatchString(kind) {
				continue
			}
			if _, ok := doc.Kubernetes.Removed[key]; ok {
				continue
			}
			for _, later := range minors[i+1:] {
				if served[later][key] {
					continue
				}
				doc.Kubernetes.Removed[key] = removal{RemovedIn: later, Derived: true, Replacement: replacementIn(g.kubeKinds[later], apiVersion, kind)}
				break
			}
		}
	}
	doc.Sources = append(doc.Sources,
		"flux: served/deprecated/deprecationWarning/storage of every version of the CRDs of each flux-<line> catalog",
		"kubernetes: internal/gen/handwritten/kubernetes-removals.yaml (https://kubernetes.io/docs/reference/using-api/deprecation-guide/), plus apiVersion/kinds served by one carried kubernetes-<minor> swagger.json and absent from a later one ("+strings.Join(minors, ", ")+")")
	return doc, nil
}

// replacementIn is the preferred apiVersion of group's kind among keys (GA over beta over
// alpha, then the highest version), or "".
func replacementIn(keys []string, apiVersion, kind string) string {
	group := ""
	if i := strings.LastIndex(apiVersion, "/"); i >= 0 {
		group = apiVersion[:i]
	}
	best := ""
	for _, k := range keys {
		i := strings.LastIndex(k, "/")
		av, kd := k[:i], k[i+1:]
		if kd != kind || av == apiVersion {
			continue
		}
		g, v := "", av
		if j := strings.LastIndex(av, "/"); j >= 0 {
			g, v = av[:j], av[j+1:]
		}
		if g != group {
			continue
		}
		if best == "" || versionRank(v) > versionRank(best[strings.LastIndex(best, "/")+1:]) {
			best = av
		}
	}
	return best
}

var kubeVersion = regexp.MustCompile(`^v(\d+)(?:(alpha|beta)(\d+))?$`)

// versionRank orders Kubernetes API versions: GA above beta above alpha, then by number.
func versionRank(v string) int {
	m := kubeVersion.FindStringSubmatch(v)
	if m == nil {
		return -1
	}
	major, _ := strconv.Atoi(m[1])
	stage, n := 3, 0
	switch m[2] {
	case "beta":
		stage = 2
	case "alpha":
		stage = 1
	}
	if m[3] != "" {
		n, _ = strconv.Atoi(m[3])
	}
	return stage*1_000_000 + major*1000 + n
}

// minorLess compares "1.31" and "1.36" numerically.
func minorLess(a, b string) bool {
	pa, pb := strings.SplitN(a, ".", 2), strings.SplitN(b, ".", 2)
	for i := 0; i < 2 && i < len(pa) && i < len(pb); i++ {
		x, _ := strconv.Atoi(pa[i])
		y, _ := strconv.Atoi(pb[i])
		if x != y {
			return x < y
		}
	}
	return len(pa) < len(pb)
}
