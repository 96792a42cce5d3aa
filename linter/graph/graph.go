// Package graph finds what Flux applies from a repository tree and produces it: the Flux
// Kustomizations, kustomize roots, HelmReleases, sources and charts of the tree, then kustomize
// builds (with postBuild substitution) and rendered Helm charts, each document with its origin.
//
// It holds no rule logic: it says which document came from where (input.origin), and the Rego
// rules judge them. A build or render that fails is a Problem the caller turns into a finding.
package graph

import (
	"encoding/base64"
	"fmt"
	"path"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// Doc is one document of a file of the tree.
type Doc struct {
	// Rel is the file, relative to the repository root, forward slashes.
	Rel string
	// Index is the 0-based document index in the file.
	Index int
	// Object is the document as plain values; Node its yaml.v3 node (positions).
	Object map[string]any
	Node   *yaml.Node
}

// Chart is a Chart.yaml found in the tree.
type Chart struct {
	// Dir is the chart directory, relative to the repository root ("" for the root).
	Dir           string
	Name, Version string
}

// Origin says how a produced document came to be. It is input.origin for the rules.
type Origin struct {
	// Producer is "file", "kustomize", "helm" or "admission".
	Producer string `json:"producer"`
	// Cluster names the entry point the document was reached from: what `dependsOn` and
	// duplicate checks count as one cluster. "" for documents that no entry point reaches.
	Cluster string `json:"cluster,omitempty"`
	// Build names the build that produced the document: the Kustomization, the kustomize root
	// or the HelmRelease.
	Build string `json:"build,omitempty"`
	// Chain lists the steps from the entry point to the document, for people.
	Chain []string `json:"chain,omitempty"`
	// PostBuild says the Kustomization that built it substitutes variables (spec.postBuild).
	PostBuild bool `json:"post_build,omitempty"`
	// Missing lists ${VAR} references without a default that nothing provides.
	Missing []Missing `json:"missing,omitempty"`
	// Template is the chart template that rendered the document.
	Template string `json:"template,omitempty"`
	// GitValues are, for a rendered Secret, the entries whose value traces back to Git.
	GitValues map[string]Position `json:"git_values,omitempty"`
	// Duplicate marks the declarations of an id that a kustomize build refused twice.
	Duplicate bool `json:"duplicate,omitempty"`
}

// Missing is a variable reference that nothing provides, and where it is.
type Missing struct {
	Name string `json:"name"`
	Path []any  `json:"path"`
}

// Position is a place in a file of the tree.
type Position struct {
	File   string `json:"file"`
	Line   int    `json:"line"`
	Column int    `json:"column"`
	Via    string `json:"via,omitempty"`
}

// Produced is a document that a build or a render produced.
type Produced struct {
	Object map[string]any
	Origin Origin
	// File is where the document is shown (repository-relative): its source file for a built
	// object, the template for a rendered one. Index and Node are the source document when one
	// of File's documents is the object's source (Index -1 otherwise); Line is the fallback line.
	File  string
	Index int
	Node  *yaml.Node
	Line  int
	// Text is the text of the template that rendered the object ("" for built objects).
	Text string
}

// Problem is a build or render that could not be done, on the object that asked for it.
type Problem struct {
	// Type is "kustomize", "helm", "path", "missing-dependency", "external-source" or
	// "external-chart".
	Type    string
	Message string
	// Doc is the Kustomization or HelmRelease, Path the field the problem is about.
	Doc    Doc
	Path   []any
	Origin Origin
}

// Graph is the Flux graph of the tree, for people to look at.
type Graph struct {
	Nodes []Node `json:"nodes"`
	Edges []Edge `json:"edges"`
}

// Node is a Kustomization, a kustomize root, a HelmRelease, a source or a chart.
type Node struct {
	ID      string   `json:"id"`
	Kind    string   `json:"kind"`
	Name    string   `json:"name"`
	File    string   `json:"file,omitempty"`
	Line    int      `json:"line,omitempty"`
	Cluster string   `json:"cluster,omitempty"`
	Path    string   `json:"path,omitempty"`
	Objects []string `json:"objects,omitempty"`
	Status  string   `json:"status,omitempty"`
}

// Edge joins two nodes: "builds", "renders", "applies", "dependsOn" or "sourceRef".
type Edge struct {
	From string `json:"from"`
	To   string `json:"to"`
	Kind string `json:"kind"`
}

// Result is what Produce found and made.
type Result struct {
	Produced []Produced
	Problems []Problem
	Graph    Graph
	// Built and Rendered count the documents of kustomize builds and Helm renders.
	Built, Rendered int
}

// Flux API groups.
const (
	groupKustomize = "kustomize.toolkit.fluxcd.io"
	groupHelm      = "helm.toolkit.fluxcd.io"
	groupSource    = "source.toolkit.fluxcd.io"
)

// IsFlux reports whether obj is a Kustomization, a HelmRelease or a source of Flux, in any
// served version.
func IsFlux(obj map[string]any) bool {
	g, k := groupKind(obj)
	switch g {
	case groupKustomize:
		return k == "Kustomization"
	case groupHelm:
		return k == "HelmRelease"
	case groupSource:
		return k == "GitRepository" || k == "OCIRepository" || k == "HelmRepository"
	}
	return false
}

// Relevant reports whether the graph needs obj: a Flux object, or a ConfigMap or Secret that
// substituteFrom or valuesFrom may read.
func Relevant(obj map[string]any) bool {
	if IsFlux(obj) {
		return true
	}
	g, k := groupKind(obj)
	return g == "" && (k == "ConfigMap" || k == "Secret")
}

func groupKind(obj map[string]any) (string, string) {
	av, _ := obj["apiVersion"].(string)
	k, _ := obj["kind"].(string)
	g := ""
	if i := strings.IndexByte(av, '/'); i >= 0 {
		g = av[:i]
	}
	return g, k
}

func isKustomization(obj map[string]any) bool {
	g, k := groupKind(obj)
	return g == groupKustomize && k == "Kustomization"
}

func isHelmRelease(obj map[string]any) bool {
	g, k := groupKind(obj)
	return g == groupHelm && k == "HelmRelease"
}

func str(m map[string]any, keys ...string) string {
	var cur any = m
	for _, k := range keys {
		mm, ok := cur.(map[string]any)
		if !ok {
			return ""
		}
		cur = mm[k]
	}
	s, _ := cur.(string)
	return s
}

func mapAt(m map[string]any, keys ...string) map[string]any {
	var cur any = m
	for _, k := range keys {
		mm, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = mm[k]
	}
	out, _ := cur.(map[string]any)
	return out
}

// objectRef is a reference to another object (sourceRef, chartRef); its namespace defaults to
// the referring object's.
type objectRef struct{ Kind, Namespace, Name string }

// refAt reads the reference at keys of obj.
func refAt(obj map[string]any, keys ...string) objectRef {
	m := mapAt(obj, keys...)
	r := objectRef{}
	r.Kind, _ = m["kind"].(string)
	r.Name, _ = m["name"].(string)
	r.Namespace, _ = m["namespace"].(string)
	if r.Namespace == "" {
		r.Namespace, _ = meta(obj)
	}
	return r
}

// id is "Kind/namespace/name", as sourceID names a source and flux.external_sources lists one.
func (r objectRef) id() string { return r.Kind + "/" + r.Namespace + "/" + r.Name }

// nsName is "namespace/name", as flux.self_sources and charts.local_repositories list it.
func (r objectRef) nsName() string { return r.Namespace + "/" + r.Name }

// String is "Kind namespace/name" for messages.
func (r objectRef) String() string { return r.Kind + " " + r.nsName() }

func meta(obj map[string]any) (ns, name string) {
	return str(obj, "metadata", "namespace"), str(obj, "metadata", "name")
}

// ident is "Kind namespace/name".
func ident(obj map[string]any) string {
	_, k := groupKind(obj)
	ns, name := meta(obj)
	if ns == "" {
		return k + " " + name
	}
	return k + " " + ns + "/" + name
}

// where is "file:line" of a document.
func where(file string, node *yaml.Node, line int) string {
	if node != nil {
		line = node.Line
	}
	if line <= 0 {
		line = 1
	}
	return fmt.Sprintf("%s:%d", file, line)
}

// cleanRel resolves p (./x, x, ../x) against dir, relative to the root; ok is false when it
// leaves the root.
func cleanRel(dir, p string) (string, bool) {
	p = path.Clean(path.Join(dir, p))
	if p == ".." || strings.HasPrefix(p, "../") || strings.HasPrefix(p, "/") {
		return "", false
	}
	if p == "." {
		p = ""
	}
	return p, true
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func decodeBase64(s string) (string, error) {
	b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(s))
	if err != nil {
		return "", fmt.Errorf("decode base64: %w", err)
	}
	return string(b), nil
}

// ChartOf returns the chart a document describes when it is a Chart.yaml (rel is its file,
// relative to the repository root).
func ChartOf(rel string, obj map[string]any) (Chart, bool) {
	if path.Base(rel) != "Chart.yaml" {
		return Chart{}, false
	}
	dir := path.Dir(rel)
	if dir == "." {
		dir = ""
	}
	name, _ := obj["name"].(string)
	return Chart{Dir: dir, Name: name, Version: fmt.Sprint(obj["version"])}, true
}
