package graph

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
	sigsyaml "sigs.k8s.io/yaml"

	"github.com/openova-io/ova-lint/linter/build"
	"github.com/openova-io/ova-lint/linter/render"
)

// Options are what Produce works from.
type Options struct {
	// Root is the repository root (an OS path): Kustomization paths and GitRepository chart
	// paths resolve against it.
	Root string
	// Docs are the documents of the tree that the graph needs (see Relevant).
	Docs []Doc
	// Charts are the Chart.yaml files of the tree; KustomizeRoots the directories (relative to
	// Root) that hold a kustomization.yaml.
	Charts         []Chart
	KustomizeRoots []string
	// Parse returns the documents of a file of the tree (relative to Root); it is called for
	// the source files of built objects, to place them.
	Parse func(rel string) ([]Doc, error)
	// SelfSources are the GitRepositories (namespace/name) that point at this repository, in
	// addition to flux-system/flux-system.
	SelfSources []string
	// Bootstrap are Flux Kustomizations created outside Git, as objects.
	Bootstrap []map[string]any
	// LocalRepositories are the chart repositories (namespace/name) published from the tree;
	// nil means inferred: a repository is local when a HelmRelease that uses it names a chart
	// of the tree.
	LocalRepositories []string
	// ExternalSources are sources known to live outside the tree (Kind/namespace/name): what
	// they serve is not built, and that is not news.
	ExternalSources []string
	// Fallback are values of variables that exist only in the cluster.
	Fallback map[string]string
	// KubeVersion and APIVersions are Helm's .Capabilities.
	KubeVersion string
	APIVersions []string
}

// producer walks the graph from its entry points.
type producer struct {
	opts    Options
	res     *Result
	self    map[string]bool
	ext     map[string]bool
	local   map[string]bool // nil: infer
	charts  map[string][]Chart
	objects []map[string]any // ConfigMaps and Secrets (substituteFrom, valuesFrom)
	parsed  map[string][]Doc
	// reached marks raw documents (file#index) that a build produced.
	reached map[string]bool
	// done marks the Kustomizations, roots and HelmReleases handled per cluster.
	done       map[string]bool
	missingDep map[string]bool
	nodes      map[string]*Node
	edges      map[Edge]bool
	releases   []work
}

// work is a Kustomization, a kustomize root or a HelmRelease to build or render.
type work struct {
	obj     map[string]any // nil for a kustomize root
	dir     string         // the root's directory
	doc     Doc
	cluster string
	chain   []string
	parent  string
}

// Produce builds and renders what the tree applies. ctx stops it between builds.
func Produce(ctx context.Context, opts Options) (*Result, error) {
	p := &producer{
		opts: opts, res: &Result{}, self: map[string]bool{"flux-system/flux-system": true},
		charts: map[string][]Chart{}, parsed: map[string][]Doc{}, reached: map[string]bool{},
		done: map[string]bool{}, missingDep: map[string]bool{}, nodes: map[string]*Node{}, edges: map[Edge]bool{},
	}
	for _, s := range opts.SelfSources {
		p.self[s] = true
	}
	p.ext = map[string]bool{}
	for _, s := range opts.ExternalSources {
		p.ext[s] = true
	}
	if opts.LocalRepositories != nil {
		p.local = map[string]bool{}
		for _, r := range opts.LocalRepositories {
			p.local[r] = true
		}
	}
	for _, c := range opts.Charts {
		p.charts[c.Name] = append(p.charts[c.Name], c)
	}
	var rawKs, rawHRs []Doc
	for _, d := range opts.Docs {
		switch {
		case isKustomization(d.Object):
			rawKs = append(rawKs, d)
		case isHelmRelease(d.Object):
			rawHRs = append(rawHRs, d)
		case !IsFlux(d.Object):
			p.objects = append(p.objects, d.Object)
		}
		if IsFlux(d.Object) && !isKustomization(d.Object) && !isHelmRelease(d.Object) {
			p.node(sourceID(d.Object), func(n *Node) {
				_, n.Kind = groupKind(d.Object)
				n.Name = ident(d.Object)
				n.File, n.Line = d.Rel, lineOf(d.Node)
				n.Path, _ = d.Object["spec"].(map[string]any)["url"].(string)
			})
		}
	}
	if p.local == nil {
		p.local = p.inferLocal(rawHRs)
	}

	// Entry points: bootstrap Kustomizations, then kustomize roots that nothing reaches, then
	// the Kustomizations and HelmReleases of files that no build reached.
	var entries []work
	for i, ks := range opts.Bootstrap {
		d := Doc{Rel: "", Index: i, Object: ks}
		entries = append(entries, work{obj: ks, doc: d, cluster: ident(ks) + " (bootstrap)", chain: []string{ident(ks) + " (config flux.bootstrap)"}})
	}
	for _, dir := range p.topRoots(rawKs) {
		name := dir
		if name == "" {
			name = "."
		}
		id := "kustomize root " + name
		entries = append(entries, work{dir: dir, cluster: id, chain: []string{id}})
	}
	for _, e := range entries {
		if err := p.run(ctx, e); err != nil {
			return nil, err
		}
	}
	for _, d := range rawKs {
		if p.reached[key(d)] {
			continue
		}
		id := ident(d.Object)
		e := work{obj: d.Object, doc: d, cluster: id, chain: []string{id + " (" + where(d.Rel, d.Node, 0) + ")"}}
		if err := p.run(ctx, e); err != nil {
			return nil, err
		}
	}
	for _, d := range rawHRs {
		if p.reached[key(d)] {
			continue
		}
		p.releases = append(p.releases, work{obj: d.Object, doc: d, chain: []string{ident(d.Object) + " (" + where(d.Rel, d.Node, 0) + ")"}})
	}
	if err := p.renderAll(ctx); err != nil {
		return nil, err
	}
	p.finishGraph()
	return p.res, nil
}

func key(d Doc) string { return fmt.Sprintf("%s#%d", d.Rel, d.Index) }

func lineOf(n *yaml.Node) int {
	if n == nil {
		return 0
	}
	return n.Line
}

// run builds a Kustomization or kustomize root and, breadth first, the Kustomizations it
// applies; the HelmReleases found are queued for renderAll.
func (p *producer) run(ctx context.Context, first work) error {
	queue := []work{first}
	for len(queue) > 0 {
		if err := ctx.Err(); err != nil {
			return err
		}
		w := queue[0]
		queue = queue[1:]
		more, err := p.build(ctx, w)
		if err != nil {
			return err
		}
		queue = append(queue, more...)
	}
	return nil
}

// renderAll renders the queued HelmReleases; Kustomizations that a chart renders are built.
func (p *producer) renderAll(ctx context.Context) error {
	for len(p.releases) > 0 {
		if err := ctx.Err(); err != nil {
			return err
		}
		w := p.releases[0]
		p.releases = p.releases[1:]
		more, err := p.render(ctx, w)
		if err != nil {
			return err
		}
		for _, k := range more {
			if err := p.run(ctx, k); err != nil {
				return err
			}
		}
	}
	return nil
}

func (p *producer) node(id string, set func(*Node)) *Node {
	n, ok := p.nodes[id]
	if !ok {
		n = &Node{ID: id}
		p.nodes[id] = n
	}
	if set != nil {
		set(n)
	}
	return n
}

func (p *producer) edge(from, to, kind string) {
	if from != "" && to != "" {
		p.edges[Edge{From: from, To: to, Kind: kind}] = true
	}
}

func (p *producer) finishGraph() {
	for _, id := range sortedKeys(p.nodes) {
		n := p.nodes[id]
		sort.Strings(n.Objects)
		n.Objects = slices.Compact(n.Objects) // one node per object across the clusters that apply it
		p.res.Graph.Nodes = append(p.res.Graph.Nodes, *n)
	}
	for e := range p.edges {
		p.res.Graph.Edges = append(p.res.Graph.Edges, e)
	}
	sort.Slice(p.res.Graph.Edges, func(i, j int) bool {
		a, b := p.res.Graph.Edges[i], p.res.Graph.Edges[j]
		if a.From != b.From {
			return a.From < b.From
		}
		if a.To != b.To {
			return a.To < b.To
		}
		return a.Kind < b.Kind
	})
}

// topRoots are the kustomize roots that no other root lists as a resource or component and no
// Kustomization of this repository points at.
func (p *producer) topRoots(rawKs []Doc) []string {
	inner := map[string]bool{}
	for _, dir := range p.opts.KustomizeRoots {
		info, err := build.KustomizationFiles(p.opts.Root, dir)
		if err != nil {
			continue
		}
		for _, r := range append(append([]string{}, info.Resources...), info.Components...) {
			if r != dir {
				inner[r] = true
			}
		}
	}
	for _, ks := range append(append([]map[string]any{}, p.opts.Bootstrap...), objects(rawKs)...) {
		if dir, ok := p.selfPath(ks); ok {
			inner[dir] = true
		}
	}
	var out []string
	for _, dir := range p.opts.KustomizeRoots {
		if !inner[dir] {
			out = append(out, dir)
		}
	}
	sort.Strings(out)
	return out
}

func objects(ds []Doc) []map[string]any {
	out := make([]map[string]any, len(ds))
	for i, d := range ds {
		out[i] = d.Object
	}
	return out
}

// selfPath is the root-relative directory a Kustomization of this repository builds.
func (p *producer) selfPath(ks map[string]any) (string, bool) {
	if !p.isSelf(refAt(ks, "spec", "sourceRef")) {
		return "", false
	}
	dir, ok := cleanRel("", str(ks, "spec", "path"))
	return dir, ok
}

func sourceID(obj map[string]any) string {
	_, k := groupKind(obj)
	ns, name := meta(obj)
	return k + "/" + ns + "/" + name
}

// build builds one Kustomization or kustomize root and returns the Kustomizations it applies.
func (p *producer) build(ctx context.Context, w work) ([]work, error) {
	var id, dir string
	if w.obj == nil {
		id, dir = w.chain[len(w.chain)-1], w.dir
	} else {
		id = ident(w.obj)
	}
	doneKey := w.cluster + "|" + id
	if p.done[doneKey] {
		return nil, nil
	}
	p.done[doneKey] = true
	origin := Origin{Producer: "kustomize", Cluster: w.cluster, Build: id, Chain: w.chain}
	if w.obj == nil {
		origin.Chain = nil // the root is the chain's only step: nothing to add
	}
	n := p.node(id, func(n *Node) {
		n.Kind, n.Name, n.Cluster = "Kustomization", id, w.cluster
		if w.obj == nil {
			n.Kind, n.Path = "KustomizeRoot", dir
		} else {
			n.File, n.Line = w.doc.Rel, lineOf(w.doc.Node)
		}
	})
	p.edge(w.parent, id, "applies")
	if w.obj != nil {
		origin.PostBuild = mapAt(w.obj, "spec", "postBuild") != nil
		for _, dep := range dependsOn(w.obj) {
			p.edge(id, "Kustomization "+dep, "dependsOn")
		}
		ref := refAt(w.obj, "spec", "sourceRef")
		p.edge(id, ref.id(), "sourceRef")
		var ok bool
		dir, ok = p.selfPath(w.obj)
		if !ok {
			if p.isSelf(ref) {
				p.problem("path", fmt.Sprintf("spec.path %q leaves the repository root", str(w.obj, "spec", "path")), w, []any{"spec", "path"}, origin)
			} else {
				n.Status = "external source"
				p.external("external-source", fmt.Sprintf("%s builds from %s, which is not this repository (flux.self_sources): not built", id, ref), ref, w, []any{"spec", "sourceRef"}, origin)
			}
			return nil, nil
		}
		n.Path = dir
		if fi, err := os.Stat(filepath.Join(p.opts.Root, filepath.FromSlash(dir))); err != nil || !fi.IsDir() {
			n.Status = "path not found"
			p.problem("path", fmt.Sprintf("spec.path %q is not a directory of the repository (root %s)", str(w.obj, "spec", "path"), filepath.Base(p.opts.Root)), w, []any{"spec", "path"}, origin)
			return nil, nil
		}
	}
	res, err := build.Build(ctx, build.Request{RepoRoot: p.opts.Root, Path: dir, Kustomization: w.obj, Objects: p.objects, Fallback: p.opts.Fallback})
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		var dup *build.DuplicateError
		if errors.As(err, &dup) && len(dup.Declarations) > 1 {
			n.Status = "duplicate " + dup.Kind + " " + dup.Name
			o := origin
			o.Duplicate = true
			for _, decl := range dup.Declarations {
				d, ok := p.doc(decl.File, decl.Index)
				if !ok {
					continue
				}
				p.res.Produced = append(p.res.Produced, Produced{Object: d.Object, Origin: o, File: d.Rel, Index: d.Index, Node: d.Node})
			}
			return nil, nil
		}
		n.Status = "build failed"
		p.problem("kustomize", err.Error(), w, []any{"spec", "path"}, origin)
		return nil, nil
	}
	var more []work
	for _, b := range res.Objects {
		o := origin
		o.Missing = missing(b.Missing)
		pr := Produced{Object: b.Object, Origin: o, File: b.Origin, Index: -1}
		if b.Origin == "" {
			pr.File = kustomizationFile(dir)
		}
		if d, ok := p.find(b); ok {
			pr.Index, pr.Node = d.Index, d.Node
			p.reached[key(d)] = true
		}
		pr.Origin.Chain = append(append([]string{}, w.chain...), where(pr.File, pr.Node, 1))
		p.res.Produced = append(p.res.Produced, pr)
		p.res.Built++
		n.Objects = append(n.Objects, ident(b.Object))
		src := Doc{Rel: pr.File, Index: pr.Index, Object: b.Object, Node: pr.Node}
		chain := append(append([]string{}, w.chain...), ident(b.Object)+" ("+where(pr.File, pr.Node, 1)+")")
		switch {
		case isKustomization(b.Object):
			more = append(more, work{obj: b.Object, doc: src, cluster: w.cluster, chain: chain, parent: id})
		case isHelmRelease(b.Object):
			p.releases = append(p.releases, work{obj: b.Object, doc: src, cluster: w.cluster, chain: chain, parent: id})
		case !IsFlux(b.Object) && Relevant(b.Object):
			p.objects = append(p.objects, b.Object)
		}
	}
	return more, nil
}

func kustomizationFile(dir string) string {
	return path.Join(dir, "kustomization.yaml")
}

func missing(ms []build.MissingVar) []Missing {
	var out []Missing
	for _, m := range ms {
		out = append(out, Missing{Name: m.Name, Path: m.Path})
	}
	return out
}

func dependsOn(obj map[string]any) []string {
	list, _ := mapAt(obj, "spec")["dependsOn"].([]any)
	ownNS, _ := meta(obj)
	var out []string
	for _, e := range list {
		m, ok := e.(map[string]any)
		if !ok {
			continue
		}
		name, _ := m["name"].(string)
		ns, _ := m["namespace"].(string)
		if ns == "" {
			ns = ownNS
		}
		out = append(out, ns+"/"+name)
	}
	return out
}

func (p *producer) problem(typ, msg string, w work, at []any, o Origin) {
	p.res.Problems = append(p.res.Problems, Problem{Type: typ, Message: msg, Doc: w.doc, Path: at, Origin: o})
}

// doc returns document index of a file of the tree.
func (p *producer) doc(rel string, index int) (Doc, bool) {
	docs := p.parse(rel)
	for _, d := range docs {
		if d.Index == index {
			return d, true
		}
	}
	return Doc{}, false
}

func (p *producer) parse(rel string) []Doc {
	docs, ok := p.parsed[rel]
	if !ok && p.opts.Parse != nil {
		docs, _ = p.opts.Parse(rel)
		p.parsed[rel] = docs
	}
	return docs
}

// find returns the document of the built object's source file it was built from: the same
// kind and original name (and namespace, when the source sets one).
func (p *producer) find(b build.Object) (Doc, bool) {
	if b.Origin == "" {
		return Doc{}, false
	}
	_, kind := groupKind(b.Object)
	name, ns := b.OriginalName, b.OriginalNamespace
	if name == "" {
		ns, name = meta(b.Object)
	}
	var fallback *Doc
	for _, d := range p.parse(b.Origin) {
		_, k := groupKind(d.Object)
		dns, dname := meta(d.Object)
		if k != kind || dname != name {
			continue
		}
		if dns == "" || ns == "" || dns == ns {
			return d, true
		}
		if fallback == nil {
			dd := d
			fallback = &dd
		}
	}
	if fallback != nil {
		return *fallback, true
	}
	return Doc{}, false
}

// inferLocal: a chart repository is local when a HelmRelease that uses it names a chart found
// in the tree.
func (p *producer) inferLocal(hrs []Doc) map[string]bool {
	local := map[string]bool{}
	for _, d := range hrs {
		repo, chart := chartSource(d.Object)
		if repo != "" && len(p.charts[chart]) > 0 {
			local[repo] = true
		}
	}
	return local
}

// chartSource is the repository (namespace/name) and chart name of a HelmRelease that takes its
// chart from a HelmRepository or an OCIRepository.
func chartSource(hr map[string]any) (repo, chart string) {
	if mapAt(hr, "spec", "chartRef") != nil {
		return refAt(hr, "spec", "chartRef").nsName(), "" // the chart name is in the OCIRepository's URL
	}
	ref := refAt(hr, "spec", "chart", "spec", "sourceRef")
	if ref.Kind != "HelmRepository" && ref.Kind != "OCIRepository" {
		return "", ""
	}
	return ref.nsName(), str(hr, "spec", "chart", "spec", "chart")
}

// render renders one HelmRelease and returns the Kustomizations its chart renders.
func (p *producer) render(ctx context.Context, w work) ([]work, error) {
	id := ident(w.obj)
	doneKey := w.cluster + "|" + id
	if p.done[doneKey] {
		return nil, nil
	}
	p.done[doneKey] = true
	origin := Origin{Producer: "helm", Cluster: w.cluster, Build: id, Chain: w.chain}
	n := p.node(id, func(n *Node) {
		n.Kind, n.Name, n.Cluster, n.File, n.Line = "HelmRelease", id, w.cluster, w.doc.Rel, lineOf(w.doc.Node)
	})
	p.edge(w.parent, id, "applies")
	for _, dep := range dependsOn(w.obj) {
		p.edge(id, "HelmRelease "+dep, "dependsOn")
	}
	chart, at, ok := p.resolveChart(w, n, origin)
	if !ok {
		return nil, nil
	}
	chartID := "chart " + chart.Dir
	p.node(chartID, func(c *Node) { c.Kind, c.Name, c.Path = "Chart", chart.Name+" "+chart.Version, chart.Dir })
	p.edge(id, chartID, "renders")

	hrNS, hrName := meta(w.obj)
	if hrNS == "" {
		hrNS = "default"
	}
	target := str(w.obj, "spec", "targetNamespace")
	relName := str(w.obj, "spec", "releaseName")
	switch {
	case relName != "":
	case target != "":
		relName = target + "-" + hrName
	default:
		relName = hrName
	}
	relNS := hrNS
	if target != "" {
		relNS = target
	}
	layers, err := p.values(w, hrNS)
	if err != nil {
		n.Status = "values missing"
		p.problem("helm", err.Error(), w, []any{"spec", "valuesFrom"}, origin)
		return nil, nil
	}
	rr, err := render.Render(ctx, render.Release{
		ChartDir: filepath.Join(p.opts.Root, filepath.FromSlash(chart.Dir)), ChartRel: chart.Dir,
		Name: relName, Namespace: relNS, Values: layers,
		KubeVersion: p.opts.KubeVersion, APIVersions: p.opts.APIVersions,
	})
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		n.Status = "render failed"
		p.problem("helm", err.Error(), w, at, origin)
		return nil, nil
	}
	if len(rr.MissingDependencies) > 0 && !p.missingDep[chart.Dir] {
		p.missingDep[chart.Dir] = true
		p.problem("missing-dependency", fmt.Sprintf("chart %s (%s) declares dependencies that are not vendored: %s; their objects are not linted", chart.Name, chart.Dir, strings.Join(rr.MissingDependencies, ", ")), w, at, origin)
	}
	chain := append(append([]string{}, w.chain...), fmt.Sprintf("chart %s %s (%s)", chart.Name, chart.Version, chart.Dir))
	var more []work
	for _, o := range rr.Objects {
		og := origin
		og.Template = o.Template
		og.Chain = append(append([]string{}, chain...), "template "+o.Template)
		if w.cluster == "" {
			og.Chain = append([]string{w.chain[0]}, og.Chain[1:]...)
		}
		if len(o.GitValues) > 0 {
			og.GitValues = map[string]Position{}
			for k, v := range o.GitValues {
				og.GitValues[k] = Position{File: v.File, Line: v.Line, Column: v.Column, Via: v.Via}
			}
		}
		pr := Produced{Object: o.Object, Origin: og, File: o.Template, Index: -1, Line: o.Line, Text: p.text(o.Template)}
		p.res.Produced = append(p.res.Produced, pr)
		p.res.Rendered++
		n.Objects = append(n.Objects, ident(o.Object))
		src := Doc{Rel: o.Template, Index: -1, Object: o.Object}
		switch {
		case isKustomization(o.Object):
			more = append(more, work{obj: o.Object, doc: src, cluster: w.cluster, chain: og.Chain, parent: id})
		case isHelmRelease(o.Object):
			p.releases = append(p.releases, work{obj: o.Object, doc: src, cluster: w.cluster, chain: og.Chain, parent: id})
		}
	}
	return more, nil
}

// text reads a template of the tree (for positions of rendered objects); "" when unreadable.
func (p *producer) text(rel string) string {
	raw, err := os.ReadFile(filepath.Join(p.opts.Root, filepath.FromSlash(rel)))
	if err != nil {
		return ""
	}
	return string(raw)
}

// resolveChart finds the in-tree chart of a HelmRelease, or records why it is not rendered.
func (p *producer) resolveChart(w work, n *Node, origin Origin) (Chart, []any, bool) {
	if mapAt(w.obj, "spec", "chartRef") != nil {
		at := []any{"spec", "chartRef"}
		ref := refAt(w.obj, "spec", "chartRef")
		p.edge(ident(w.obj), ref.id(), "sourceRef")
		if ref.Kind == "OCIRepository" && p.local[ref.nsName()] {
			if src, ok := p.source(ref); ok {
				url := str(src, "spec", "url")
				chartName := url[strings.LastIndexByte(url, '/')+1:]
				if cs := p.charts[chartName]; len(cs) > 0 {
					return cs[0], at, true
				}
			}
		}
		n.Status = "external chart"
		p.external("external-chart", fmt.Sprintf("%s takes its chart from %s, which this tree does not publish: not rendered", ident(w.obj), ref), ref, w, at, origin)
		return Chart{}, nil, false
	}
	at := []any{"spec", "chart", "spec", "chart"}
	ref := refAt(w.obj, "spec", "chart", "spec", "sourceRef")
	p.edge(ident(w.obj), ref.id(), "sourceRef")
	chartName := str(w.obj, "spec", "chart", "spec", "chart")
	if p.isSelf(ref) {
		dir, ok := cleanRel("", chartName)
		if ok {
			for _, cs := range p.charts {
				for _, c := range cs {
					if c.Dir == dir {
						return c, at, true
					}
				}
			}
		}
		n.Status = "chart not found"
		p.problem("helm", fmt.Sprintf("no Chart.yaml at %q in this repository", chartName), w, at, origin)
		return Chart{}, nil, false
	}
	if (ref.Kind == "HelmRepository" || ref.Kind == "OCIRepository") && p.local[ref.nsName()] {
		if cs := p.charts[chartName]; len(cs) > 0 {
			return cs[0], at, true
		}
		// helmrelease-chart reports a local repository's chart that the tree lacks
		n.Status = "chart not in tree"
		return Chart{}, nil, false
	}
	n.Status = "external chart"
	p.external("external-chart", fmt.Sprintf("%s takes chart %s from %s, which this tree does not publish (charts.local_repositories): not rendered", ident(w.obj), chartName, ref), ref, w, at, origin)
	return Chart{}, nil, false
}

// source is the source a reference names, among the tree's documents.
func (p *producer) source(ref objectRef) (map[string]any, bool) {
	for _, d := range p.opts.Docs {
		if sourceID(d.Object) == ref.id() {
			return d.Object, true
		}
	}
	return nil, false
}

// isSelf reports whether a source reference names this repository.
func (p *producer) isSelf(ref objectRef) bool {
	return ref.Kind == "GitRepository" && p.self[ref.nsName()]
}

// external records, at info level, that what ref serves is not built or rendered, unless the
// source is listed in flux.external_sources (known to live elsewhere: not news).
func (p *producer) external(typ, msg string, ref objectRef, w work, at []any, o Origin) {
	if !p.ext[ref.id()] {
		p.problem(typ, msg, w, at, o)
	}
}

// values are the HelmRelease's values layers as helm-controller merges them: valuesFrom in
// order, then spec.values.
func (p *producer) values(w work, ns string) ([]render.ValuesLayer, error) {
	var layers []render.ValuesLayer
	list, _ := mapAt(w.obj, "spec")["valuesFrom"].([]any)
	for _, e := range list {
		ref, ok := e.(map[string]any)
		if !ok {
			continue
		}
		kind, _ := ref["kind"].(string)
		name, _ := ref["name"].(string)
		valuesKey, _ := ref["valuesKey"].(string)
		if valuesKey == "" {
			valuesKey = "values.yaml"
		}
		targetPath, _ := ref["targetPath"].(string)
		optional, _ := ref["optional"].(bool)
		raw, found := p.lookup(kind, ns, name, valuesKey)
		if !found {
			if optional {
				continue
			}
			return nil, fmt.Errorf("valuesFrom %s %s/%s (key %s) is not in the tree; helm-controller would fail: add it, or mark the reference optional", kind, ns, name, valuesKey)
		}
		via := fmt.Sprintf("valuesFrom %s %s/%s", kind, ns, name)
		if targetPath != "" {
			layers = append(layers, render.ValuesLayer{Values: setPath(targetPath, raw), Via: via})
			continue
		}
		var vals map[string]any
		if err := sigsyaml.Unmarshal([]byte(raw), &vals); err != nil {
			return nil, fmt.Errorf("valuesFrom %s %s/%s key %s is not a YAML mapping: %v", kind, ns, name, valuesKey, err)
		}
		layers = append(layers, render.ValuesLayer{Values: vals, Via: via})
	}
	if vals := mapAt(w.obj, "spec", "values"); vals != nil {
		layers = append(layers, render.ValuesLayer{Values: vals, File: w.doc.Rel, Node: childNode(w.doc.Node, "spec", "values"), Via: "HelmRelease values"})
	}
	return layers, nil
}

func setPath(p, v string) map[string]any {
	parts := strings.Split(p, ".")
	out := map[string]any{}
	cur := out
	for i, k := range parts {
		if i == len(parts)-1 {
			cur[k] = v
			break
		}
		next := map[string]any{}
		cur[k] = next
		cur = next
	}
	return out
}

// lookup finds key in a ConfigMap or Secret of the tree (data decoded, stringData as is).
func (p *producer) lookup(kind, ns, name, k string) (string, bool) {
	for _, o := range p.objects {
		_, ok := groupKind(o)
		ons, oname := meta(o)
		if ok != kind || oname != name || (ons != "" && ons != ns) {
			continue
		}
		if s, ok := mapAt(o, "stringData")[k].(string); ok {
			return s, true
		}
		if s, ok := mapAt(o, "data")[k].(string); ok {
			if kind == "Secret" {
				if dec, err := decodeBase64(s); err == nil {
					return dec, true
				}
			}
			return s, true
		}
	}
	return "", false
}

// childNode walks mapping keys from n.
func childNode(n *yaml.Node, keys ...string) *yaml.Node {
	for _, k := range keys {
		if n == nil || n.Kind != yaml.MappingNode {
			return nil
		}
		var next *yaml.Node
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == k {
				next = n.Content[i+1]
				break
			}
		}
		n = next
	}
	return n
}
