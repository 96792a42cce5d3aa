// Command gen builds ova-lint's embedded schema catalog from Go module
// sources: the module cache, filled through the Go module proxy with `go mod
// download`. It is run by `go generate ./linter/schema`; its output is
// committed, so building and running ova-lint needs no generation step and
// never touches the network.
//
// Catalogs written to -out (gzip'd JSON, see linter/schema/catalog.go):
//
//	kubernetes-<minor>.json.gz  k8s.io/kubernetes api/openapi-spec/swagger.json
//	flux-<line>.json.gz         Flux CRDs of one Flux release + kustomize's kustomization.yaml
//	extra.json.gz               External Secrets Operator, cert-manager, Blueprint, Chart.yaml
//	SOURCES.md                  where every schema came from
//
// Fetching happens only here, only through the go command (module proxy).
package main

import (
	"bytes"
	"compress/gzip"
	_ "embed"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/openova-io/ova-lint/linter/schema/internal/convert"
)

//go:embed kustomize_reflect.go.txt
var kustomizeReflect string

//go:embed handwritten/blueprint-crd.yaml
var blueprintCRD []byte

//go:embed handwritten/chart.schema.json
var chartSchema []byte

// catalog is the on-disk format read by linter/schema.
type catalog struct {
	Name        string            `json:"name"`
	Sources     []string          `json:"sources"`
	Kinds       map[string]string `json:"kinds"`           // apiVersion/kind -> definition
	Files       map[string]string `json:"files,omitempty"` // special file type -> definition
	Definitions map[string]any    `json:"definitions"`
}

type generator struct {
	work    string // scratch directory
	cgBin   string // controller-gen binary, installed on first use
	sources []string

	// what apis.json.gz is made of (see apis.go)
	fluxAPIs  map[string]fluxAPIs // Flux line -> CRD versions
	kubeKinds map[string][]string // Kubernetes minor -> apiVersion/Kind keys
}

func main() {
	log.SetFlags(0)
	log.SetPrefix("schemagen: ")
	out := flag.String("out", "catalog", "output directory")
	only := flag.String("only", "", "build only these catalogs (comma separated: kubernetes,flux,extra)")
	keep := flag.Bool("keep", false, "keep the scratch directory")
	flag.Parse()

	work, err := os.MkdirTemp("", "ova-lint-schemagen-")
	if err != nil {
		log.Fatal(err)
	}
	if !*keep {
		defer os.RemoveAll(work)
	} else {
		log.Printf("scratch directory: %s", work)
	}
	g := &generator{work: work}
	want := func(name string) bool {
		if *only == "" {
			return true
		}
		for _, s := range strings.Split(*only, ",") {
			if strings.TrimSpace(s) == name {
				return true
			}
		}
		return false
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		log.Fatal(err)
	}
	var written []*catalog
	if want("kubernetes") {
		for _, k := range kubeSources {
			c, err := g.kubernetes(k)
			if err != nil {
				log.Fatalf("kubernetes %s: %v", k.Minor, err)
			}
			written = append(written, c)
		}
	}
	if want("flux") {
		for _, f := range fluxLines {
			c, err := g.flux(f)
			if err != nil {
				log.Fatalf("flux %s: %v", f.Line, err)
			}
			written = append(written, c)
		}
	}
	if want("extra") {
		c, err := g.extra()
		if err != nil {
			log.Fatalf("extra: %v", err)
		}
		written = append(written, c)
	}
	for _, c := range written {
		if err := writeCatalog(filepath.Join(*out, c.Name+".json.gz"), c); err != nil {
			log.Fatal(err)
		}
	}
	if *only == "" {
		a, err := g.apis()
		if err != nil {
			log.Fatalf("apis: %v", err)
		}
		if err := writeGzipJSON(filepath.Join(*out, "apis.json.gz"), a); err != nil {
			log.Fatal(err)
		}
		if err := writeSources(filepath.Join(*out, "SOURCES.md"), written); err != nil {
			log.Fatal(err)
		}
	}
}

// goCmd runs the go command. Outside a temporary module it runs in the
// scratch directory so that it never touches the repository's go.mod.
func (g *generator) goCmd(dir string, args ...string) ([]byte, error) {
	if dir == "" {
		dir = g.work
	}
	cmd := exec.Command("go", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOWORK=off")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return out, fmt.Errorf("go %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return out, nil
}

// modDir downloads module@version into the module cache and returns its directory.
func (g *generator) modDir(module, version string) (string, error) {
	cmd := exec.Command("go", "mod", "download", "-json", module+"@"+version)
	cmd.Dir = g.work
	cmd.Env = append(os.Environ(), "GOFLAGS=", "GOWORK=off")
	out, _ := cmd.Output() // the JSON carries the error, if any
	var res struct{ Dir, Error string }
	if err := json.Unmarshal(out, &res); err != nil {
		return "", fmt.Errorf("go mod download %s@%s: %v", module, version, err)
	}
	if res.Error != "" {
		return "", errors.New(res.Error)
	}
	return res.Dir, nil
}

func (g *generator) kubernetes(k kubeSource) (*catalog, error) {
	dir, err := g.modDir("k8s.io/kubernetes", k.Version)
	if err != nil {
		return nil, err
	}
	raw, err := os.ReadFile(filepath.Join(dir, "api", "openapi-spec", "swagger.json"))
	if err != nil {
		return nil, err
	}
	var doc map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil {
		return nil, err
	}
	defs, kinds, err := convert.Swagger(doc)
	if err != nil {
		return nil, err
	}
	log.Printf("kubernetes %s: %d kinds from k8s.io/kubernetes@%s", k.Minor, len(kinds), k.Version)
	if g.kubeKinds == nil {
		g.kubeKinds = map[string][]string{}
	}
	g.kubeKinds[k.Minor] = convert.SortedKeys(kinds)
	return &catalog{
		Name:        "kubernetes-" + k.Minor,
		Sources:     []string{"k8s.io/kubernetes@" + k.Version + " api/openapi-spec/swagger.json"},
		Kinds:       kinds,
		Definitions: defs,
	}, nil
}

var crdURL = regexp.MustCompile(`^https://github\.com/fluxcd/([a-z-]+)/releases/download/(v[0-9][^/]*)/[a-z-]+\.crds\.yaml$`)

// fluxControllers reads the controllers and versions a flux2 release pins.
func fluxControllers(flux2Dir string) (map[string]string, error) {
	files, err := filepath.Glob(filepath.Join(flux2Dir, "manifests", "bases", "*", "kustomization.yaml"))
	if err != nil {
		return nil, err
	}
	ctrls := map[string]string{}
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		var k struct{ Resources []string }
		if err := yaml.Unmarshal(raw, &k); err != nil {
			return nil, fmt.Errorf("%s: %v", f, err)
		}
		for _, r := range k.Resources {
			if m := crdURL.FindStringSubmatch(r); m != nil {
				ctrls[m[1]] = m[2]
			}
		}
	}
	if len(ctrls) == 0 {
		return nil, fmt.Errorf("no controller CRD URLs in %s/manifests/bases", flux2Dir)
	}
	return ctrls, nil
}

func majorSuffix(version string) string {
	major := strings.SplitN(strings.TrimPrefix(version, "v"), ".", 2)[0]
	if major == "0" || major == "1" {
		return ""
	}
	return "/v" + major
}

func (g *generator) flux(f fluxLine) (*catalog, error) {
	c := &catalog{
		Name:        "flux-" + f.Line,
		Kinds:       map[string]string{},
		Files:       map[string]string{},
		Definitions: map[string]any{},
	}
	ctrls := f.Controllers
	if ctrls == nil {
		flux2Dir, err := g.modDir("github.com/fluxcd/flux2/v2", f.Flux2)
		if err != nil {
			return nil, err
		}
		if ctrls, err = fluxControllers(flux2Dir); err != nil {
			return nil, err
		}
		c.Sources = append(c.Sources, fmt.Sprintf("github.com/fluxcd/flux2/v2@%s manifests/bases (controller versions)", f.Flux2))
	} else {
		c.Sources = append(c.Sources, fmt.Sprintf("github.com/fluxcd/flux2/v2@%s manifests/bases (controller versions pinned in internal/gen/sources.go: the checksum database does not serve this flux2 version)", f.Flux2))
	}
	apis := fluxAPIs{}
	for _, name := range convert.SortedKeys(ctrls) {
		version := ctrls[name]
		docs, src, err := g.controllerCRDs(name, version)
		if err != nil {
			return nil, fmt.Errorf("%s %s: %v", name, version, err)
		}
		n, err := addCRDs(c, docs)
		if err != nil {
			return nil, fmt.Errorf("%s %s: %v", name, version, err)
		}
		apis.add(docs)
		c.Sources = append(c.Sources, fmt.Sprintf("%s (%d kinds)", src, n))
	}
	if g.fluxAPIs == nil {
		g.fluxAPIs = map[string]fluxAPIs{}
	}
	g.fluxAPIs[f.Line] = apis
	if err := g.kustomize(c, f.Kustomize); err != nil {
		return nil, fmt.Errorf("kustomize %s: %v", f.Kustomize, err)
	}
	log.Printf("flux %s: %d kinds", f.Line, len(c.Kinds))
	return c, nil
}

// controllerCRDs returns a Flux controller's CRD documents: from the root
// module's config/crd/bases when the proxy serves it, otherwise generated by
// controller-gen from the controller's /api module.
func (g *generator) controllerCRDs(name, version string) ([]map[string]any, string, error) {
	suffix := majorSuffix(version)
	root := "github.com/fluxcd/" + name + suffix
	if dir, err := g.modDir(root, version); err == nil {
		bases := filepath.Join(dir, "config", "crd", "bases")
		if docs, err := readCRDDir(bases); err == nil && len(docs) > 0 {
			return docs, fmt.Sprintf("%s@%s config/crd/bases", root, version), nil
		}
	}
	api := "github.com/fluxcd/" + name + "/api" + suffix
	docs, err := g.controllerGenCRDs(api, version)
	if err != nil {
		return nil, "", err
	}
	cg := strings.TrimPrefix(controllerGen[strings.LastIndex(controllerGen, "/")+1:], "controller-gen")
	return docs, fmt.Sprintf("%s@%s via controller-gen%s (root module not served by the proxy)", api, version, cg), nil
}

func (g *generator) controllerGenCRDs(apiModule, version string) ([]map[string]any, error) {
	if g.cgBin == "" {
		bin := filepath.Join(g.work, "bin")
		cmd := exec.Command("go", "install", controllerGen)
		cmd.Dir = g.work
		cmd.Env = append(os.Environ(), "GOBIN="+bin, "GOFLAGS=", "GOWORK=off")
		if out, err := cmd.CombinedOutput(); err != nil {
			return nil, fmt.Errorf("go install %s: %v\n%s", controllerGen, err, out)
		}
		g.cgBin = filepath.Join(bin, "controller-gen")
	}
	apiDir, err := g.modDir(apiModule, version)
	if err != nil {
		return nil, err
	}
	pkgs, err := goPackages(apiDir, apiModule)
	if err != nil {
		return nil, err
	}
	mod := filepath.Join(g.work, "cg-"+strings.ReplaceAll(apiModule, "/", "_")+"-"+version)
	if err := os.MkdirAll(mod, 0o755); err != nil {
		return nil, err
	}
	var imports strings.Builder
	for _, p := range pkgs {
		fmt.Fprintf(&imports, "\t_ %q\n", p)
	}
	files := map[string]string{
		"go.mod":   "module schemagen.local/crds\n\ngo 1.26\n",
		"tools.go": "package crds\n\nimport (\n" + imports.String() + ")\n",
	}
	for n, s := range files {
		if err := os.WriteFile(filepath.Join(mod, n), []byte(s), 0o644); err != nil {
			return nil, err
		}
	}
	if _, err := g.goCmd(mod, "get", apiModule+"@"+version); err != nil {
		return nil, err
	}
	if _, err := g.goCmd(mod, "mod", "tidy"); err != nil {
		return nil, err
	}
	outDir := filepath.Join(mod, "out")
	cmd := exec.Command(g.cgBin, "crd", "paths="+apiModule+"/...", "output:crd:dir="+outDir)
	cmd.Dir = mod
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOWORK=off")
	if out, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("controller-gen over %s: %v\n%s", apiModule, err, out)
	}
	return readCRDDir(outDir)
}

// goPackages lists the importable packages of a module directory.
func goPackages(dir, module string) ([]string, error) {
	var pkgs []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			rel, _ := filepath.Rel(dir, path)
			base := d.Name()
			if rel != "." && (base == "testdata" || base == "internal" || strings.HasPrefix(base, ".") || strings.HasPrefix(base, "_")) {
				return filepath.SkipDir
			}
			if rel != "." {
				if _, err := os.Stat(filepath.Join(path, "go.mod")); err == nil {
					return filepath.SkipDir // nested module
				}
			}
			return nil
		}
		if strings.HasSuffix(path, ".go") && !strings.HasSuffix(path, "_test.go") {
			rel, _ := filepath.Rel(dir, filepath.Dir(path))
			p := module
			if rel != "." {
				p += "/" + filepath.ToSlash(rel)
			}
			if len(pkgs) == 0 || pkgs[len(pkgs)-1] != p {
				pkgs = append(pkgs, p)
			}
		}
		return nil
	})
	return pkgs, err
}

// readCRDDir reads every CustomResourceDefinition in the YAML files of dir.
func readCRDDir(dir string) ([]map[string]any, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var docs []map[string]any
	for _, e := range entries {
		if e.IsDir() || !(strings.HasSuffix(e.Name(), ".yaml") || strings.HasSuffix(e.Name(), ".yml")) {
			continue
		}
		raw, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			return nil, err
		}
		ds, err := crdDocs(raw)
		if err != nil {
			return nil, fmt.Errorf("%s: %v", e.Name(), err)
		}
		docs = append(docs, ds...)
	}
	return docs, nil
}

// crdDocs decodes the CustomResourceDefinition documents of a YAML stream
// into JSON-compatible values.
func crdDocs(raw []byte) ([]map[string]any, error) {
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	var docs []map[string]any
	for {
		var v any
		if err := dec.Decode(&v); err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			return nil, err
		}
		m, ok := v.(map[string]any)
		if !ok || m["kind"] != "CustomResourceDefinition" {
			continue
		}
		// Round-trip through JSON: yaml.v3 yields int and time.Time values.
		j, err := json.Marshal(m)
		if err != nil {
			return nil, err
		}
		var jm map[string]any
		if err := json.Unmarshal(j, &jm); err != nil {
			return nil, err
		}
		docs = append(docs, jm)
	}
	return docs, nil
}

// addCRDs converts CRDs into c and returns the number of kinds added.
func addCRDs(c *catalog, docs []map[string]any) (int, error) {
	n := 0
	for _, d := range docs {
		vers, err := convert.CRD(d, convert.ObjectMetaRef)
		if err != nil {
			return n, err
		}
		for _, v := range vers {
			key := convert.KindKey(v.APIVersion, v.Kind)
			if _, dup := c.Kinds[key]; dup {
				return n, fmt.Errorf("kind %s defined twice", key)
			}
			c.Kinds[key] = key
			c.Definitions[key] = v.Schema
			n++
		}
	}
	return n, nil
}

// kustomize derives the kustomization.yaml schemas from kustomize's own Go
// types (sigs.k8s.io/kustomize/api/types), by reflection, following
// encoding/json's rules: kustomize decodes kustomization.yaml with
// json.Decoder.DisallowUnknownFields, so the types are the schema.
func (g *generator) kustomize(c *catalog, version string) error {
	mod := filepath.Join(g.work, "kustomize-"+version)
	if err := os.MkdirAll(mod, 0o755); err != nil {
		return err
	}
	files := map[string]string{
		"go.mod":  "module schemagen.local/kustomize\n\ngo 1.26\n",
		"main.go": kustomizeReflect,
	}
	for n, s := range files {
		if err := os.WriteFile(filepath.Join(mod, n), []byte(s), 0o644); err != nil {
			return err
		}
	}
	if _, err := g.goCmd(mod, "get", "sigs.k8s.io/kustomize/api@"+version); err != nil {
		return err
	}
	if _, err := g.goCmd(mod, "mod", "tidy"); err != nil {
		return err
	}
	out, err := g.goCmd(mod, "run", ".")
	if err != nil {
		return err
	}
	var res struct {
		Root        string         `json:"root"`
		Definitions map[string]any `json:"definitions"`
	}
	if err := json.Unmarshal(out, &res); err != nil {
		return err
	}
	for name, d := range res.Definitions {
		c.Definitions["kustomize/"+name] = rewriteRefs(d, "#/definitions/", "#/definitions/kustomize~1")
	}
	root, ok := c.Definitions["kustomize/"+res.Root].(map[string]any)
	if !ok {
		return fmt.Errorf("kustomize reflection produced no %s", res.Root)
	}
	for _, k := range []struct{ apiVersion, kind string }{
		{"kustomize.config.k8s.io/v1beta1", "Kustomization"},
		{"kustomize.config.k8s.io/v1alpha1", "Component"},
	} {
		// kustomize's EnforceFields: kind Kustomization or Component, and the
		// apiVersion that goes with it.
		def := deepCopy(root).(map[string]any)
		props := def["properties"].(map[string]any)
		props["apiVersion"] = map[string]any{"type": "string", "enum": []any{k.apiVersion}}
		props["kind"] = map[string]any{"type": "string", "enum": []any{k.kind}}
		key := convert.KindKey(k.apiVersion, k.kind)
		c.Definitions[key] = def
		c.Kinds[key] = key
		c.Files["kustomization.yaml#"+k.kind] = key
	}
	c.Sources = append(c.Sources, fmt.Sprintf("sigs.k8s.io/kustomize/api@%s types.Kustomization (reflection; kustomization.yaml)", version))
	return nil
}

func rewriteRefs(v any, from, to string) any {
	switch v := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(v))
		for k, x := range v {
			if s, ok := x.(string); ok && k == "$ref" && strings.HasPrefix(s, from) {
				m[k] = to + strings.TrimPrefix(s, from)
				continue
			}
			m[k] = rewriteRefs(x, from, to)
		}
		return m
	case []any:
		l := make([]any, len(v))
		for i, x := range v {
			l[i] = rewriteRefs(x, from, to)
		}
		return l
	}
	return v
}

func deepCopy(v any) any { return rewriteRefs(v, "\x00", "") }

func (g *generator) extra() (*catalog, error) {
	c := &catalog{
		Name:        "extra",
		Kinds:       map[string]string{},
		Files:       map[string]string{},
		Definitions: map[string]any{},
	}
	for _, m := range extraCRDs {
		dir, err := g.modDir(m.Module, m.Version)
		if err != nil {
			return nil, err
		}
		docs, err := readCRDDir(filepath.Join(dir, filepath.FromSlash(m.Dir)))
		if err != nil {
			return nil, err
		}
		n, err := addCRDs(c, docs)
		if err != nil {
			return nil, fmt.Errorf("%s: %v", m.Module, err)
		}
		c.Sources = append(c.Sources, fmt.Sprintf("%s@%s %s (%d kinds; %s)", m.Module, m.Version, m.Dir, n, m.Why))
	}
	docs, err := crdDocs(blueprintCRD)
	if err != nil {
		return nil, fmt.Errorf("blueprint CRD: %v", err)
	}
	n, err := addCRDs(c, docs)
	if err != nil {
		return nil, fmt.Errorf("blueprint CRD: %v", err)
	}
	c.Sources = append(c.Sources, fmt.Sprintf("hand-written internal/gen/handwritten/blueprint-crd.yaml (%d kinds: catalyst.openova.io Blueprint)", n))

	var chart map[string]any
	if err := json.Unmarshal(chartSchema, &chart); err != nil {
		return nil, fmt.Errorf("chart schema: %v", err)
	}
	delete(chart, "$schema")
	c.Definitions["helm.sh/Chart"] = chart
	c.Files["Chart.yaml"] = "helm.sh/Chart"
	c.Sources = append(c.Sources, "hand-written internal/gen/handwritten/chart.schema.json (Helm Chart.yaml, apiVersion v1 and v2)")
	log.Printf("extra: %d kinds", len(c.Kinds))
	return c, nil
}

func writeCatalog(path string, c *catalog) error {
	sort.Strings(c.Sources)
	return writeGzipJSON(path, c)
}

func writeGzipJSON(path string, v any) error {
	raw, err := json.Marshal(v) // map keys are sorted: output is deterministic
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		return err
	}
	if _, err := zw.Write(raw); err != nil {
		return err
	}
	if err := zw.Close(); err != nil {
		return err
	}
	log.Printf("%s: %d bytes (%d uncompressed)", path, buf.Len(), len(raw))
	return os.WriteFile(path, buf.Bytes(), 0o644)
}

func writeSources(path string, cats []*catalog) error {
	var b strings.Builder
	b.WriteString("# Schema catalog sources\n\nGenerated by `go generate ./linter/schema` (internal/gen); do not edit.\n")
	for _, c := range cats {
		fmt.Fprintf(&b, "\n## %s (%d kinds)\n\n", c.Name, len(c.Kinds))
		for _, s := range c.Sources {
			fmt.Fprintf(&b, "- %s\n", s)
		}
	}
	return os.WriteFile(path, []byte(b.String()), 0o644)
}
