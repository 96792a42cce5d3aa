package schema

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	jsonschema "github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/openova-io/ova-lint/linter/schema/internal/convert"
)

// Options selects the schema catalog.
type Options struct {
	// KubernetesVersion selects the core Kubernetes schemas: "1.31" (the
	// default, the platform's k3s) or another value from Versions. "v1.31"
	// and "1.31.4" are accepted too.
	KubernetesVersion string
	// FluxVersion selects the Flux CRDs (and the kustomize version whose
	// kustomization.yaml schema goes with them): "2.4" (the default, the
	// platform pins Flux v2.4.0) or another value from Versions.
	FluxVersion string
}

// Error is one schema violation.
type Error struct {
	// Path is the location of the offending field from the document root:
	// mapping keys, and sequence indices as decimal strings. Empty for the
	// root. For an unknown field it is the field itself (its last element is
	// the unknown key); for a missing required field it is the object that
	// lacks it; otherwise the field whose value is wrong.
	Path []string
	// Message names types, field names and schema constraints only, never
	// the value found in the document.
	Message string
	// Keyword is the JSON Schema keyword that failed ("additionalProperties",
	// "required", "type", "enum", "pattern", ...).
	Keyword string
}

func (e Error) String() string {
	if len(e.Path) == 0 {
		return e.Message
	}
	return strings.Join(e.Path, ".") + ": " + e.Message
}

// ErrNoSchema is wrapped by the error Validate returns when no schema exists
// for a document's apiVersion and kind. Use errors.As with *NoSchemaError
// for the details.
var ErrNoSchema = errors.New("no schema")

// NoSchemaError reports a kind without a schema.
type NoSchemaError struct {
	APIVersion string
	Kind       string
	// Known lists the apiVersions that do have a schema for this kind, if any
	// (e.g. the versions a CRD still serves).
	Known []string
}

func (e *NoSchemaError) Error() string {
	msg := "no schema for " + e.APIVersion + "/" + e.Kind
	if len(e.Known) > 0 {
		msg += " (schemas exist for " + strings.Join(e.Known, ", ") + ")"
	}
	return msg
}

func (e *NoSchemaError) Unwrap() error { return ErrNoSchema }

// Validator validates documents. Create it with New. Validate,
// ValidateKustomization and ValidateChart are safe for concurrent use;
// AddCRD must not run concurrently with them.
type Validator struct {
	kubeVersion string
	fluxVersion string

	// once reads the catalogs (into compiler and index) on first use; loadErr is its failure;
	// done says it has returned.
	once    sync.Once
	loadErr error
	done    atomic.Bool

	mu       sync.Mutex // serialises compilation and AddCRD
	compiler *jsonschema.Compiler
	crdSeq   int

	// index maps convert.KindKey and special file types to schema URLs. It
	// is replaced, never modified, so readers need no lock.
	index atomic.Pointer[index]
	// compiled caches *jsonschema.Schema by schema URL.
	compiled sync.Map
}

type index struct {
	kinds map[string]string // convert.KindKey -> schema URL
	files map[string]string // fileChart, ... -> schema URL
}

// New selects the embedded catalogs for the versions in opts; an unsupported version is an
// error. The catalogs are read on first use (a run whose results all come from a cache never
// needs them) and schemas are compiled on first use and then cached.
func New(opts Options) (*Validator, error) {
	kubes, fluxes := Versions()
	kube, err := pickVersion("Kubernetes", opts.KubernetesVersion, defaultKubernetesVersion, kubes)
	if err != nil {
		return nil, err
	}
	flux, err := pickVersion("Flux", opts.FluxVersion, defaultFluxVersion, fluxes)
	if err != nil {
		return nil, err
	}
	return &Validator{kubeVersion: kube, fluxVersion: flux}, nil
}

// Load reads the catalogs now, if they are not yet (New leaves them for the first use).
func (v *Validator) Load() error {
	_, err := v.loaded()
	return err
}

// Loaded reports, without waiting, whether the catalogs are read (or failed to be).
func (v *Validator) Loaded() bool { return v.done.Load() }

// loaded returns the index, reading the catalogs the first time.
func (v *Validator) loaded() (*index, error) {
	v.once.Do(func() {
		defer v.done.Store(true)
		v.loadErr = v.read()
	})
	if v.loadErr != nil {
		return nil, v.loadErr
	}
	return v.index.Load(), nil
}

// read reads the catalogs of the selected versions into the compiler and the index.
func (v *Validator) read() error {
	v.compiler = newCompiler()
	idx := &index{kinds: map[string]string{}, files: map[string]string{}}
	// Later catalogs win on a clash; none is expected.
	for _, name := range []string{"kubernetes-" + v.kubeVersion, "extra", "flux-" + v.fluxVersion} {
		c, err := readCatalog(name)
		if err != nil {
			return err
		}
		res := resourceName(name)
		if err := v.compiler.AddResource(convert.CatalogBase+res, map[string]any{"definitions": c.definitions}); err != nil {
			return fmt.Errorf("schema: catalog %s: %w", name, err)
		}
		for k, def := range c.kinds {
			idx.kinds[k] = definitionURL(res, def)
		}
		for k, def := range c.files {
			idx.files[k] = definitionURL(res, def)
		}
	}
	v.index.Store(idx)
	return nil
}

// KubernetesVersion reports the selected Kubernetes minor version.
func (v *Validator) KubernetesVersion() string { return v.kubeVersion }

// FluxVersion reports the selected Flux line.
func (v *Validator) FluxVersion() string { return v.fluxVersion }

// newCompiler configures jsonschema/v6 the way kubeconform's validator
// does (draft-04 by default, the "duration" format), with a loader that
// refuses everything: every schema is registered up front.
func newCompiler() *jsonschema.Compiler {
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft4)
	c.RegisterFormat(&jsonschema.Format{Name: "duration", Validate: validateDuration})
	c.UseLoader(noLoader{})
	return c
}

// noLoader is the compiler's only URL loader: it never fetches anything.
type noLoader struct{}

func (noLoader) Load(url string) (any, error) {
	return nil, fmt.Errorf("schema: refusing to load %s: schemas are never fetched", url)
}

// AddCRD registers the served versions of a CustomResourceDefinition found
// in the linted tree. Its kinds then validate against it, taking precedence
// over the embedded catalog (the tree says what the cluster will run).
// AddCRD must not be called while a Validate call is running.
func (v *Validator) AddCRD(crd map[string]any) error {
	norm, err := jsonValue(crd)
	if err != nil {
		return fmt.Errorf("schema: CustomResourceDefinition: %w", err)
	}
	m, ok := norm.(map[string]any)
	if !ok {
		return errors.New("schema: CustomResourceDefinition is not an object")
	}
	vers, err := convert.CRD(m, convert.ObjectMetaRef)
	if err != nil {
		return fmt.Errorf("schema: %w", err)
	}
	if _, err := v.loaded(); err != nil {
		return err
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	old := v.index.Load()
	idx := &index{kinds: make(map[string]string, len(old.kinds)+len(vers)), files: old.files}
	for k, u := range old.kinds {
		idx.kinds[k] = u
	}
	var errs []error
	for _, ver := range vers {
		v.crdSeq++
		res := fmt.Sprintf("crd/%d.json", v.crdSeq)
		def := convert.KindKey(ver.APIVersion, ver.Kind)
		doc, err := jsonValue(map[string]any{"definitions": map[string]any{def: ver.Schema}})
		if err == nil {
			err = v.compiler.AddResource(convert.CatalogBase+res, doc)
		}
		url := definitionURL(res, def)
		if err == nil {
			var s *jsonschema.Schema
			if s, err = v.compiler.Compile(url); err == nil {
				v.compiled.Store(url, s)
			}
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("schema: CustomResourceDefinition %s/%s: %w", ver.APIVersion, ver.Kind, err))
			continue
		}
		idx.kinds[def] = url
	}
	v.index.Store(idx)
	return errors.Join(errs...)
}

// Validate validates a Kubernetes object (a decoded YAML or JSON document)
// against the schema for its apiVersion and kind. It returns the violations
// (nil when valid), or an error wrapping ErrNoSchema (a *NoSchemaError)
// when no schema exists for the kind. A document without apiVersion or kind
// yields a violation, not an error. obj is not modified.
func (v *Validator) Validate(obj map[string]any) ([]Error, error) {
	apiVersion, e1 := typeField(obj, "apiVersion")
	kind, e2 := typeField(obj, "kind")
	if errs := append(e1, e2...); len(errs) > 0 {
		return errs, nil
	}
	idx, err := v.loaded()
	if err != nil {
		return nil, err
	}
	url, ok := idx.kinds[convert.KindKey(apiVersion, kind)]
	if !ok {
		return nil, v.noSchema(idx, apiVersion, kind)
	}
	return v.validateURL(url, obj)
}

// Precompile compiles the schema Validate would use for obj, so that a later Validate does not
// wait for it; an object of no known kind is ignored.
func (v *Validator) Precompile(obj map[string]any) {
	apiVersion, _ := obj["apiVersion"].(string)
	kind, _ := obj["kind"].(string)
	idx, err := v.loaded()
	if err != nil {
		return
	}
	if url, ok := idx.kinds[convert.KindKey(apiVersion, kind)]; ok {
		_, _ = v.schema(url) // an error shows when the object is validated
	}
}

// ValidateKustomization validates a kustomize kustomization file
// (kustomization.yaml, .yml or Kustomization), which is kustomize
// configuration, not a cluster object: apiVersion and kind may be absent,
// and `kind: Component` selects the Component schema. The schema is that of
// the kustomize version the selected Flux line's kustomize-controller uses.
func (v *Validator) ValidateKustomization(obj map[string]any) ([]Error, error) {
	key := fileKustomization
	if k, _ := obj["kind"].(string); k == "Component" {
		key = fileComponent
	}
	return v.validateFile(key, obj)
}

// ValidateChart validates a Helm Chart.yaml.
func (v *Validator) ValidateChart(obj map[string]any) ([]Error, error) {
	return v.validateFile(fileChart, obj)
}

func (v *Validator) validateFile(key string, obj map[string]any) ([]Error, error) {
	idx, err := v.loaded()
	if err != nil {
		return nil, err
	}
	url, ok := idx.files[key]
	if !ok {
		return nil, fmt.Errorf("schema: no schema for %s", key)
	}
	return v.validateURL(url, obj)
}

func (v *Validator) validateURL(url string, obj map[string]any) ([]Error, error) {
	s, err := v.schema(url)
	if err != nil {
		return nil, err
	}
	inst, _ := normalize(obj)
	err = s.Validate(inst)
	if err == nil {
		return nil, nil
	}
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return nil, fmt.Errorf("schema: %w", err)
	}
	return flatten(ve), nil
}

// schema returns the compiled schema at url, compiling it on first use.
func (v *Validator) schema(url string) (*jsonschema.Schema, error) {
	if s, ok := v.compiled.Load(url); ok {
		return s.(*jsonschema.Schema), nil
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if s, ok := v.compiled.Load(url); ok {
		return s.(*jsonschema.Schema), nil
	}
	s, err := v.compiler.Compile(url)
	if err != nil {
		return nil, fmt.Errorf("schema: compiling %s: %w", url, err)
	}
	v.compiled.Store(url, s)
	return s, nil
}

// typeField reads apiVersion or kind, which every object needs to be
// matched with a schema.
func typeField(obj map[string]any, name string) (string, []Error) {
	switch x := obj[name].(type) {
	case string:
		if x != "" {
			return x, nil
		}
	case nil:
	default:
		got := "object"
		switch x.(type) {
		case bool:
			got = "boolean"
		case []any:
			got = "array"
		case int, int64, uint64, float64:
			got = "number"
		}
		return "", []Error{{Path: []string{name}, Keyword: "type", Message: "invalid type: got " + got + ", want string"}}
	}
	return "", []Error{{Path: []string{}, Keyword: "required", Message: fmt.Sprintf("missing required field %q", name)}}
}

func (v *Validator) noSchema(idx *index, apiVersion, kind string) error {
	e := &NoSchemaError{APIVersion: apiVersion, Kind: kind}
	group := ""
	if i := strings.LastIndex(apiVersion, "/"); i >= 0 {
		group = apiVersion[:i]
	}
	for k := range idx.kinds {
		av, kd, ok := cutKindKey(k)
		if !ok || kd != kind || av == apiVersion {
			continue
		}
		g := ""
		if i := strings.LastIndex(av, "/"); i >= 0 {
			g = av[:i]
		}
		if g == group {
			e.Known = append(e.Known, av)
		}
	}
	sort.Strings(e.Known)
	return e
}

func cutKindKey(k string) (apiVersion, kind string, ok bool) {
	i := strings.LastIndex(k, "/")
	if i < 0 {
		return "", "", false
	}
	return k[:i], k[i+1:], true
}

// jsonValue converts a decoded YAML value into the JSON data model the
// compiler expects (numbers as json.Number), through a JSON round trip.
func jsonValue(v any) (any, error) {
	n, _ := normalize(v)
	raw, err := json.Marshal(n)
	if err != nil {
		return nil, err
	}
	return jsonschema.UnmarshalJSON(bytes.NewReader(raw))
}

// APIVersions lists what the catalogue knows as Helm's .Capabilities.APIVersions does: every
// "group/version" and "group/version/Kind" (core: "v1" and "v1/Kind"), sorted; nil when the
// catalogs cannot be read.
func (v *Validator) APIVersions() []string {
	idx, err := v.loaded()
	if err != nil {
		return nil
	}
	seen := map[string]bool{}
	for k := range idx.kinds {
		seen[k] = true
		if i := strings.LastIndexByte(k, '/'); i > 0 {
			seen[k[:i]] = true
		}
	}
	out := make([]string, 0, len(seen))
	for k := range seen {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
