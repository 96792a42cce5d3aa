// Package changed selects what a partial run lints: the changed files (staged for a commit, or
// the difference from a base revision in CI) plus the files that a repo-scope rule ties to them,
// so a rule that compares two files sees both even when only one changed:
//
//   - blueprint-version: a Blueprint pulls in the Chart.yaml of its chart (spec.manifests.chart,
//     default blueprint.default_chart, resolved from the blueprint's directory); a Chart.yaml
//     pulls in every Blueprint that points at its directory.
//   - single-gitea: a GitRepository pulls in the other GitRepositories of its group (the linted
//     tree, or the gitea.group_pattern group); not needed when gitea.host is set, since the rule
//     then checks each object on its own.
//   - schema (when enabled): a resource of a kind without a built-in schema pulls in the
//     CustomResourceDefinition the tree holds for it (its schema comes from there), and a changed
//     CRD of such a kind pulls in the resources of that kind.
//
// The caller lints the result with linter.Options.Partial, so repo-scope rules do not report
// what they cannot see (e.g. a chart that was not linted).
package changed

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/openova-io/ova-lint/linter/config"
	"github.com/openova-io/ova-lint/linter/loader"
	"github.com/openova-io/ova-lint/linter/schema"
)

// GitRoot returns the top directory of the git work tree that holds dir.
func GitRoot(ctx context.Context, dir string) (string, error) {
	out, err := git(ctx, dir, "rev-parse", "--show-toplevel")
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(out), nil
}

// GitFiles lists the changed files of the work tree at root, relative to root. With base, the
// files that differ between the merge base of base and HEAD (a pull request's changes); without,
// the files that differ from HEAD in the index or the work tree, plus untracked files that are
// not ignored. Deleted files are left out.
func GitFiles(ctx context.Context, root, base string) ([]string, error) {
	var lists []string
	if base != "" {
		out, err := git(ctx, root, "diff", "--name-only", "--no-renames", "--diff-filter=d", "-z", base+"...HEAD")
		if err != nil {
			return nil, err
		}
		lists = append(lists, out)
	} else {
		out, err := git(ctx, root, "diff", "--name-only", "--no-renames", "--diff-filter=d", "-z", "HEAD")
		if err != nil {
			// no commit yet: everything in the index is new
			if out, err = git(ctx, root, "diff", "--name-only", "--cached", "--diff-filter=d", "-z"); err != nil {
				return nil, err
			}
		}
		lists = append(lists, out)
		out, err = git(ctx, root, "ls-files", "--others", "--exclude-standard", "-z")
		if err != nil {
			return nil, err
		}
		lists = append(lists, out)
	}
	seen := map[string]bool{}
	var files []string
	for _, l := range lists {
		for _, p := range strings.Split(l, "\x00") {
			if p != "" && !seen[p] {
				seen[p] = true
				files = append(files, p)
			}
		}
	}
	sort.Strings(files)
	return files, nil
}

func git(ctx context.Context, dir string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, "git", args...)
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		msg := strings.TrimSpace(stderr.String())
		if msg == "" {
			msg = err.Error()
		}
		return "", fmt.Errorf("git %s: %s", strings.Join(args, " "), msg)
	}
	return string(out), nil
}

// Rel returns the path of p relative to root, with forward slashes, or an error when p is not
// below root.
func Rel(root, p string) (string, error) {
	absRoot, err := filepath.Abs(root)
	if err != nil {
		return "", err
	}
	absP, err := filepath.Abs(p)
	if err != nil {
		return "", err
	}
	// resolve symlinks on both sides (e.g. /tmp on macOS), when they exist
	if r, err := filepath.EvalSymlinks(absRoot); err == nil {
		absRoot = r
	}
	if r, err := filepath.EvalSymlinks(filepath.Dir(absP)); err == nil {
		absP = filepath.Join(r, filepath.Base(absP))
	}
	rel, err := filepath.Rel(absRoot, absP)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return "", fmt.Errorf("%s is outside %s", p, root)
	}
	return filepath.ToSlash(rel), nil
}

// Options tune Select.
type Options struct {
	// Schema is the schema rule's configuration; nil when the rule is off (no CRD ties).
	Schema *schema.Options
}

// Select returns the files of all (one walk of the tree, root-relative Rel) that a partial run
// lints for the changed paths (root-relative): the changed files that are lintable YAML, plus
// the files tied to them. A changed directory stands for every file below it.
func Select(all []loader.File, changed []string, cfg *config.Config, opts Options) ([]loader.File, error) {
	byRel := make(map[string]int, len(all))
	for i, f := range all {
		byRel[f.Rel] = i
	}
	selected := map[int]bool{}
	for _, c := range changed {
		c = strings.TrimSuffix(path.Clean(filepath.ToSlash(c)), "/")
		if i, ok := byRel[c]; ok {
			selected[i] = true
			continue
		}
		if c == "." {
			for i := range all {
				selected[i] = true
			}
			continue
		}
		for i, f := range all {
			if strings.HasPrefix(f.Rel, c+"/") {
				selected[i] = true
			}
		}
	}
	t := ties{cfg: cfg, all: all, cache: map[int][]doc{}, schema: opts.Schema}
	if err := t.init(); err != nil {
		return nil, err
	}
	seeds := make([]int, 0, len(selected))
	for i := range selected {
		seeds = append(seeds, i)
	}
	for _, i := range seeds {
		for _, j := range t.of(i) {
			selected[j] = true
		}
	}
	var out []loader.File
	for i, f := range all {
		if selected[i] {
			out = append(out, f)
		}
	}
	return out, nil
}

// doc is what the ties need from one YAML document.
type doc struct {
	kind, apiVersion string
	chart            string // a Blueprint's spec.manifests.chart ("" when absent)
	name             any    // Chart.yaml's name
	crdKind          string // a CustomResourceDefinition's spec.group + "/" + spec.names.kind
	obj              map[string]any
}

// groupKind is the group/kind of a document ("" for the core group).
func (d doc) groupKind() string {
	g, _, ok := strings.Cut(d.apiVersion, "/")
	if !ok || !strings.Contains(g, ".") {
		return ""
	}
	return g + "/" + d.kind
}

type ties struct {
	cfg   *config.Config
	all   []loader.File
	cache map[int][]doc

	apiVersions  map[string]bool
	bpGroup      string // blueprint.group: a Blueprint of this API group, any version
	defaultChart string
	giteaHost    string
	groupRe      *regexp.Regexp

	blueprints []int // indexes of files holding a Blueprint, filled on first need
	gitrepos   []int
	crds       map[string][]int // group/kind -> files holding its CRD
	scanned    bool

	schema    *schema.Options
	validator *schema.Validator
	builtins  map[string]bool // group/kind -> has a built-in schema
}

func (t *ties) init() error {
	p := func(keys ...string) any {
		var cur any = t.cfg.Params
		for _, k := range keys {
			m, _ := cur.(map[string]any)
			cur = m[k]
		}
		return cur
	}
	t.apiVersions = map[string]bool{}
	if vs, ok := p("blueprint", "api_versions").([]any); ok {
		for _, v := range vs {
			if s, ok := v.(string); ok {
				t.apiVersions[s] = true
			}
		}
	}
	t.bpGroup, _ = p("blueprint", "group").(string)
	t.defaultChart, _ = p("blueprint", "default_chart").(string)
	if t.defaultChart == "" {
		t.defaultChart = "./chart"
	}
	t.giteaHost, _ = p("gitea", "host").(string)
	if gp, _ := p("gitea", "group_pattern").(string); gp != "" {
		re, err := regexp.Compile(gp)
		if err != nil {
			return fmt.Errorf("gitea.group_pattern: %w", err)
		}
		t.groupRe = re
	}
	return nil
}

// docs parses file i (once) into the fields the ties need. Unreadable or broken files have none.
func (t *ties) docs(i int) []doc {
	if ds, ok := t.cache[i]; ok {
		return ds
	}
	var ds []doc
	if data, err := loader.ReadFile(t.all[i].OSPath, loader.DefaultLimits()); err == nil {
		parsed, _ := loader.Parse(data, loader.DefaultLimits())
		for _, d := range parsed {
			m, _ := d.Object.(map[string]any)
			if m == nil {
				continue
			}
			x := doc{name: m["name"], obj: m}
			x.kind, _ = m["kind"].(string)
			x.apiVersion, _ = m["apiVersion"].(string)
			if spec, ok := m["spec"].(map[string]any); ok && x.kind == "CustomResourceDefinition" {
				group, _ := spec["group"].(string)
				names, _ := spec["names"].(map[string]any)
				kind, _ := names["kind"].(string)
				if group != "" && kind != "" {
					x.crdKind = group + "/" + kind
				}
			}
			if spec, ok := m["spec"].(map[string]any); ok {
				if mf, ok := spec["manifests"].(map[string]any); ok {
					x.chart, _ = mf["chart"].(string)
					if _, present := mf["chart"]; present && x.chart == "" {
						x.chart = "\x00" // not a string: ties to nothing
					}
				}
			}
			ds = append(ds, x)
		}
	}
	t.cache[i] = ds
	return ds
}

// scan finds the files that may hold a Blueprint, a GitRepository or a CRD with a cheap text
// check, then parses only those.
func (t *ties) scan() {
	if t.scanned {
		return
	}
	t.scanned = true
	t.crds = map[string][]int{}
	for i, f := range t.all {
		data, err := os.ReadFile(f.OSPath)
		if err != nil {
			continue
		}
		bp, gr := bytes.Contains(data, []byte("Blueprint")), bytes.Contains(data, []byte("GitRepository"))
		if bytes.Contains(data, []byte("CustomResourceDefinition")) {
			for _, d := range t.docs(i) {
				if d.crdKind != "" {
					t.crds[d.crdKind] = append(t.crds[d.crdKind], i)
				}
			}
		}
		if !bp && !gr {
			continue
		}
		for _, d := range t.docs(i) {
			if bp && t.isBlueprint(d) {
				t.blueprints = append(t.blueprints, i)
				break
			}
		}
		for _, d := range t.docs(i) {
			if gr && isGitRepository(d) {
				t.gitrepos = append(t.gitrepos, i)
				break
			}
		}
	}
}

func (t *ties) isBlueprint(d doc) bool {
	if d.kind != "Blueprint" {
		return false
	}
	g, _, found := strings.Cut(d.apiVersion, "/")
	return t.apiVersions[d.apiVersion] || (found && t.bpGroup != "" && g == t.bpGroup)
}

func isGitRepository(d doc) bool {
	return d.kind == "GitRepository" && strings.HasPrefix(d.apiVersion, "source.toolkit.fluxcd.io/")
}

// chartDir is the root-relative directory of the chart a Blueprint in file rel points at.
func (t *ties) chartDir(rel string, d doc) (string, bool) {
	chart := d.chart
	if chart == "" {
		chart = t.defaultChart
	}
	if chart == "\x00" || strings.Contains(chart, "://") {
		return "", false
	}
	return path.Clean(path.Join(path.Dir(rel), chart)), true
}

func (t *ties) group(f loader.File) string {
	if t.groupRe != nil {
		if m := t.groupRe.FindStringSubmatch(f.Display); len(m) > 1 {
			return m[1]
		}
		return ""
	}
	return f.Root
}

// of returns the files tied to file i.
func (t *ties) of(i int) []int {
	f := t.all[i]
	var out []int
	chartFile := path.Base(f.Rel) == "Chart.yaml"
	for _, d := range t.docs(i) {
		if gk := d.groupKind(); gk != "" && t.schema != nil {
			t.scan()
			if len(t.crds[gk]) > 0 && !t.builtin(gk, d.obj) {
				out = append(out, t.crds[gk]...)
			}
		}
		if d.crdKind != "" && t.schema != nil {
			out = append(out, t.resourcesOf(d.crdKind)...)
		}
		switch {
		case t.isBlueprint(d):
			if dir, ok := t.chartDir(f.Rel, d); ok {
				for j, g := range t.all {
					if g.Rel == path.Join(dir, "Chart.yaml") || (dir == "." && g.Rel == "Chart.yaml") {
						out = append(out, j)
					}
				}
			}
		case chartFile && d.name != nil:
			t.scan()
			dir := path.Dir(f.Rel)
			for _, j := range t.blueprints {
				for _, bd := range t.docs(j) {
					if cd, ok := t.chartDir(t.all[j].Rel, bd); ok && t.isBlueprint(bd) && cd == dir {
						out = append(out, j)
					}
				}
			}
		case isGitRepository(d) && t.giteaHost == "":
			t.scan()
			g := t.group(f)
			for _, j := range t.gitrepos {
				if t.group(t.all[j]) == g {
					out = append(out, j)
				}
			}
		}
	}
	return out
}

// resourcesOf returns the files holding a resource of the CRD's group/kind.
func (t *ties) resourcesOf(groupKind string) []int {
	group, kind, _ := strings.Cut(groupKind, "/")
	var out []int
	for j, f := range t.all {
		data, err := os.ReadFile(f.OSPath)
		if err != nil || !bytes.Contains(data, []byte(group)) || !bytes.Contains(data, []byte(kind)) {
			continue
		}
		for _, d := range t.docs(j) {
			if d.groupKind() == groupKind {
				if t.builtin(groupKind, d.obj) {
					return nil // its schema is built in: the CRD does not change the verdict
				}
				out = append(out, j)
				break
			}
		}
	}
	return out
}

// builtin reports whether the schema rule has a built-in schema for the group/kind of obj, so a
// CRD in the tree does not matter for it.
func (t *ties) builtin(groupKind string, obj map[string]any) bool {
	if b, ok := t.builtins[groupKind]; ok {
		return b
	}
	if t.builtins == nil {
		t.builtins = map[string]bool{}
	}
	if t.validator == nil {
		v, err := schema.New(*t.schema)
		if err != nil {
			return false
		}
		t.validator = v
	}
	_, err := t.validator.Validate(obj)
	b := !errors.Is(err, schema.ErrNoSchema)
	t.builtins[groupKind] = b
	return b
}
