package linter

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sync"
	"sync/atomic"

	"github.com/openova-io/ova-lint/linter/cache"
	"github.com/openova-io/ova-lint/linter/facts"
	"github.com/openova-io/ova-lint/linter/finding"
	"github.com/openova-io/ova-lint/linter/graph"
	"github.com/openova-io/ova-lint/linter/input"
	"github.com/openova-io/ova-lint/linter/loader"
	"github.com/openova-io/ova-lint/linter/treeindex"
	"github.com/openova-io/ova-lint/linter/waiver"
	"github.com/openova-io/ova-lint/policies"
)

// CacheOptions turn on the result cache: each file's own results (the findings and repo facts
// of its documents) are kept in Dir, keyed by the file's bytes and path and by the fingerprint
// of everything that judged it. The repo pass, the Flux graph (builds and renders, which depend
// on many files) and the schema check of kinds whose schema only the tree's CRDs give are
// computed on every run.
type CacheOptions struct {
	// Dir holds the cache (cache.DefaultDir for the user's cache directory).
	Dir string
	// Identity names the program and the rules it was given: its version and the sources of
	// --policy directories (see PolicyIdentity). A build without a release version should add
	// ExecutableIdentity, so that a rebuilt binary does not reuse results.
	Identity string
	// MaxBytes caps the cache directory; 0 means cache.DefaultMaxBytes.
	MaxBytes int64
	// Report, when set, is told at the end of the file pass how the cache went, or why it
	// could not be used (the run then goes on uncached).
	Report func(cache.Stats, error)
	// Index, when set, is the tree's index (the caller opens and closes it): an unchanged
	// directory is not listed again, and an unchanged file is not read again, its results found
	// by the digest the index recorded.
	Index *treeindex.Index
}

// PolicyIdentity hashes the Rego sources under dirs (the --policy directories), for
// CacheOptions.Identity.
func PolicyIdentity(dirs []string) (string, error) {
	h := cache.NewHasher()
	for _, dir := range dirs {
		h.String(dir)
		if err := hashTree(h, os.DirFS(dir)); err != nil {
			return "", fmt.Errorf("policy directory %s: %w", dir, err)
		}
	}
	return h.Sum().String(), nil
}

// hashTree adds every file under fsys (path and bytes, in walk order) to h.
func hashTree(h *cache.Hasher, fsys fs.FS) error {
	return fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		h.String(p).Bytes(b)
		return nil
	})
}

// resultCache is the cache of one run.
type resultCache struct {
	session     *cache.Session
	fingerprint []byte
	report      func(cache.Stats, error)
	// graph says the run builds the Flux graph: a hit must recover the documents it reads.
	graph bool
	// prepared starts compiling the rules and reading the schema catalogs, once.
	prepared sync.Once
	// deferred counts the files left until the rules are ready (at most maxLater: a run that
	// lints every file, the first one, waits for them rather than hold more bytes).
	deferred atomic.Int64
}

// maxLater bounds the files a run leaves until the rules are ready.
const maxLater = 64

// openCache opens the cache of this run's engine: its pack is that of the caller's identity, the
// embedded rules, the rule catalogue as configured, the whole configuration, the schema catalogue
// options and the loader's limits, as the run starts; seal then adds the Flux version the tree
// pins (and what it changed) to the fingerprint of every key. The pack is so read while the
// pre-scan looks for that version. It returns nil when the cache is off or cannot be used (the
// run is then uncached).
func (l *Linter) openCache(graph bool) *resultCache {
	co := l.opts.Cache
	if co == nil || co.Dir == "" {
		return nil
	}
	fail := func(err error) *resultCache {
		if co.Report != nil {
			co.Report(cache.Stats{}, err)
		}
		return nil
	}
	h := cache.NewHasher().String("ova-lint result cache v5", co.Identity)
	if err := hashTree(h, policies.FS); err != nil {
		return fail(fmt.Errorf("cache fingerprint: %w", err))
	}
	if err := hashJSON(h, l.engine.Rules(), l.cfg, l.cfg.FluxVersionFrom, l.opts.Schema, l.opts.Limits); err != nil {
		return fail(err)
	}
	fp := h.Sum()
	s, err := cache.Open(co.Dir, fp.String(), cache.Options{MaxBytes: co.MaxBytes})
	if err != nil {
		return fail(err)
	}
	return &resultCache{session: s, fingerprint: fp[:], report: co.Report, graph: graph}
}

// seal adds to the fingerprint of every key what the Flux version the tree pins decided: the
// version and where it came from, and the configuration and schema options it set (l is the
// run's linter after resolveFluxVersion). A nil cache stays nil.
func (c *resultCache) seal(l *Linter, fluxVersion, fluxSource string) *resultCache {
	if c == nil {
		return nil
	}
	h := cache.NewHasher().Bytes(c.fingerprint)
	if err := hashJSON(h, fluxVersion, fluxSource, l.cfg, l.opts.Schema); err != nil {
		c.session.Close() // nothing was read or added: only marked used
		if c.report != nil {
			c.report(cache.Stats{}, err)
		}
		return nil
	}
	fp := h.Sum()
	c.fingerprint = fp[:]
	return c
}

// hashJSON adds the JSON of each part to h.
func hashJSON(h *cache.Hasher, parts ...any) error {
	for _, p := range parts {
		b, err := json.Marshal(p)
		if err != nil {
			return fmt.Errorf("cache fingerprint: %w", err)
		}
		h.Bytes(b)
	}
	return nil
}

// ExecutableIdentity is the running executable's path, size and modification time: what tells
// two development builds apart.
func ExecutableIdentity() string {
	exe, err := os.Executable()
	if err != nil {
		return "unknown executable"
	}
	info, err := os.Stat(exe)
	if err != nil {
		return "unknown executable"
	}
	return fmt.Sprintf("%s %d %d", exe, info.Size(), info.ModTime().UnixNano())
}

// close writes the cache; a cache that cannot be written only costs the next run time.
func (c *resultCache) close() {
	if c == nil {
		return
	}
	st := c.session.Stats()
	err := c.session.Close()
	if c.report != nil {
		c.report(st, err)
	}
}

// key addresses one file's results: the SHA-256 of its bytes, its paths, whether it is a patch
// and whether the run builds the Flux graph (the file's graph documents are kept only then, so
// an entry of a run without the graph cannot say what a run with it must parse again).
func (c *resultCache) key(f loader.File, digest [32]byte, patch bool) cache.Key {
	p := "file"
	if patch {
		p = "patch"
	}
	g := "graph"
	if !c.graph {
		g = "no graph"
	}
	// cache.Hasher's stream (each part length-prefixed), built in one buffer: a hasher and a
	// byte copy of each string per file cost as much as the rest of a cache hit
	var stack [512]byte
	buf := stack[:0]
	part := func(b []byte) { buf = append(binary.LittleEndian.AppendUint64(buf, uint64(len(b))), b...) }
	str := func(s string) { buf = append(binary.LittleEndian.AppendUint64(buf, uint64(len(s))), s...) }
	part(c.fingerprint)
	str(f.Display)
	str(f.Rel)
	str(f.Root)
	str(p)
	str(g)
	part(digest[:])
	return cache.Key(sha256.Sum256(buf))
}

// lintFileCached is lintFile through the cache: a file seen before with the same bytes under
// the same fingerprint takes its results from the cache; a file whose documents need the
// whole tree's CRDs for their schema (or are CRDs) is always linted. A file the tree index
// vouches for is not read at all unless its cached result must parse it again.
//
// With later, a file that must be linted while the rules (or the schema catalogs) are not ready
// yet is left for later (fileResult.later): the workers take the files the cache answers for
// meanwhile, instead of waiting on the first file to lint.
func (l *Linter) lintFileCached(ctx context.Context, c *resultCache, i int, f loader.File, schemas *schemaCheck, patch, later bool) fileResult {
	if c == nil || f.OSPath == loader.Stdin {
		return l.lintFile(ctx, i, f, schemas, patch)
	}
	data, digest, err := l.content(i, f)
	if err != nil {
		return fileResult{err: fmt.Errorf("read %s: %w", f.Display, err)}
	}
	k := c.key(f, digest, patch)
	if raw, ok := c.session.Get(k); ok {
		if res, needs, err := decodeResult(raw); err == nil {
			if needs.waivers || (needs.graph && c.graph) {
				if data == nil {
					if data, err = l.read(i, f); err != nil {
						return fileResult{err: fmt.Errorf("read %s: %w", f.Display, err)}
					}
				}
				d := sha256.Sum256(data)
				if d == digest {
					l.reparse(f, data, &res, c.graph)
					schemas.deferCached(f, res.docs)
					return res
				}
				// changed since the index's stat: linted below, under its new digest
				digest, k = d, c.key(f, d, patch)
			} else {
				schemas.deferCached(f, res.docs)
				return res
			}
		} else {
			c.session.Drop(k) // did not decode: recomputed below, never trusted
		}
	}
	if later && !l.ready(schemas) && c.deferred.Add(1) <= maxLater {
		c.prepared.Do(func() { l.prepare(schemas, nil) })
		if data != nil && l.preread.has(i, f.OSPath) && l.preread.known[i] && digest == l.preread.digests[i] {
			l.preread.data[i].Store(&data) // taken again then (digest is always data's here)
		}
		return fileResult{later: true}
	}
	if data == nil {
		if data, err = l.read(i, f); err != nil {
			return fileResult{err: fmt.Errorf("read %s: %w", f.Display, err)}
		}
		if d := sha256.Sum256(data); d != digest {
			k = c.key(f, d, patch)
		}
	}
	res := l.lintData(ctx, f, data, schemas, patch)
	if res.err == nil && (schemas == nil || !schemas.holds(f.Display)) {
		if raw, err := encodeResult(&res); err == nil {
			c.session.Put(k, raw)
		}
	}
	return res
}

// ready reports whether linting a file would not wait: the rules are compiled, and the schema
// catalogs read.
func (l *Linter) ready(schemas *schemaCheck) bool {
	return l.engine.Prepared() && (schemas == nil || schemas.validator.Loaded())
}

// prepare compiles the rules and reads the schema catalogs, each on a goroutine of its own.
// The schemas of the objects in files (the few a warm run will lint) are compiled ahead as
// well: compiling a large schema costs as much as the rules.
func (l *Linter) prepare(schemas *schemaCheck, files []loader.File) {
	go func() { _ = l.engine.Prepare() }() // an error shows when a file is linted
	if schemas == nil {
		return
	}
	go func() {
		if schemas.validator.Load() != nil {
			return
		}
		for _, f := range files {
			data, err := loader.ReadFile(f.OSPath, l.opts.Limits)
			if err != nil {
				continue // the lint reports it
			}
			docs, _ := loader.Parse(data, l.opts.Limits)
			for _, d := range docs {
				if m, ok := d.Object.(map[string]any); ok {
					schemas.validator.Precompile(m)
				}
			}
		}
	}()
}

// content returns the bytes of file i of the run (f) and their SHA-256, or only the digest (nil
// bytes) when the tree index vouches for the file: the Flux-version pre-scan found it unchanged,
// or, when no pre-scan ran over it, the index does now. A file read here is recorded in the
// index.
func (l *Linter) content(i int, f loader.File) ([]byte, [32]byte, error) {
	if data, digest, ok := l.preread.take(i, f.OSPath); ok {
		return data, digest, nil
	}
	if digest, ok := l.preread.digest(i, f.OSPath); ok {
		return nil, digest, nil
	}
	if l.preread.has(i, f.OSPath) { // the pre-scan could not read it: reading reports why
		data, err := l.read(i, f)
		return data, sha256.Sum256(data), err
	}
	if entry, ok := l.index().Lookup(f.OSPath); ok {
		return nil, entry.Digest, nil
	}
	data, digest, record, err := l.readRecorded(f)
	if err != nil {
		return nil, [32]byte{}, err
	}
	if record != nil {
		record(encodePin(l.pinOf(f, data)))
	}
	return data, digest, nil
}

// readRecorded reads file f from disk and returns its bytes and their SHA-256. record, nil when
// the run has no tree index or the file no stat, records the file in the index with its digest
// and the given meta (its Flux pin), under the stat of the opened file taken before it was read.
func (l *Linter) readRecorded(f loader.File) (data []byte, digest [32]byte, record func(meta []byte), err error) {
	data, fi, err := loader.ReadFileInfo(f.OSPath, l.opts.Limits)
	if err != nil {
		return nil, digest, nil, err
	}
	digest = sha256.Sum256(data)
	ix := l.index()
	if ix == nil || fi == nil {
		return data, digest, nil, nil
	}
	st, ok := treeindex.StatOf(fi)
	if !ok {
		return data, digest, nil, nil
	}
	return data, digest, func(meta []byte) {
		ix.Record(f.OSPath, st, treeindex.File{Digest: digest, Meta: meta})
	}, nil
}

// index is the run's tree index, nil when there is none.
func (l *Linter) index() *treeindex.Index {
	if l.opts.Cache == nil {
		return nil
	}
	return l.opts.Cache.Index
}

// reparse recovers what a cached result does not keep because it holds YAML nodes: the waiver
// annotations and, when the run builds the Flux graph, the documents the graph reads and the
// chart of a Chart.yaml.
func (l *Linter) reparse(f loader.File, data []byte, res *fileResult, graphToo bool) {
	docs, _ := loader.Parse(data, l.opts.Limits)
	for _, doc := range docs {
		kind, ns, name := input.Identity(doc.Object)
		if s, ok := waiver.SiteOf(f.Display, doc.Node, doc.Object, kind, ns, name); ok {
			res.waivers = append(res.waivers, s)
		}
		if m, ok := doc.Object.(map[string]any); ok && graphToo {
			if graph.Relevant(m) {
				res.graph = append(res.graph, graph.Doc{Rel: f.Rel, Index: doc.Index, Object: m, Node: doc.Node})
			}
			if ch, ok := graph.ChartOf(f.Rel, m); ok {
				res.chart = &ch
			}
		}
	}
}

// needs says what a hit has to parse its file again for.
type needs struct {
	waivers, graph bool
}

// encodeResult writes a file's result, and what a hit needs to parse it again for. The
// payload is allocated at its exact size, and the facts of r are re-pointed into it: until the
// pack is written, the run holds one copy of each fact, not the fact and the payload.
func encodeResult(r *fileResult) ([]byte, error) {
	var w cache.Writer
	w.Bool(r.binary)
	w.Bool(r.patch)
	w.Int(r.documents)
	w.Bool(len(r.waivers) > 0)
	w.Bool(len(r.graph) > 0 || r.chart != nil)
	writeFindings(&w, r.findings)
	w.Int(len(r.docs))
	var at []int // where each fact's encoding starts in the payload, in order
	for _, d := range r.docs {
		w.Int(d.index)
		writeFindings(&w, d.findings)
		w.Int(len(d.facts))
		for _, f := range d.facts {
			w.String(f.Pkg)
			w.Blob(f.Enc)
			at = append(at, w.Len()-len(f.Enc))
		}
		if len(d.facts) > 0 {
			w.Blob(d.factsSum[:])
		}
		w.Int(len(d.noSchema))
		for _, n := range d.noSchema {
			w.Int(n.doc)
			w.Value(n.path)
			w.String(n.apiVersion)
			w.String(n.kind)
			w.String(n.idKind)
			w.String(n.ns)
			w.String(n.name)
			w.Int(n.line)
			w.Int(n.column)
			w.String(n.message)
		}
	}
	raw, err := w.Bytes()
	if err != nil {
		return nil, err
	}
	raw = bytes.Clone(raw)
	for _, d := range r.docs {
		for j := range d.facts {
			f := &d.facts[j]
			f.Enc = raw[at[0] : at[0]+len(f.Enc) : at[0]+len(f.Enc)]
			at = at[1:]
		}
	}
	return raw, nil
}

func decodeResult(raw []byte) (r fileResult, n needs, err error) {
	rd := cache.NewReader(raw)
	r.binary = rd.Bool()
	r.patch = rd.Bool()
	r.documents = rd.Int()
	n.waivers = rd.Bool()
	n.graph = rd.Bool()
	r.findings = readFindings(rd)
	if n := rd.Len(); n > 0 {
		r.docs = make([]docResult, n)
		for i := range r.docs {
			d := &r.docs[i]
			d.index = rd.Int()
			d.findings = readFindings(rd)
			if nf := rd.Len(); nf > 0 {
				// the facts stay encoded: the repo pass reads them only when its own cache
				// entry misses (decodeFacts)
				rest := rd.Rest()
				for range nf {
					rd.Blob() // the package
					rd.Blob() // the fact
				}
				d.nFacts, d.factsRaw = nf, rest[:len(rest)-len(rd.Rest())]
				if sum := rd.Blob(); len(sum) == len(d.factsSum) {
					copy(d.factsSum[:], sum)
				} else {
					return fileResult{}, needs{}, errors.New("cache: bad facts digest in entry")
				}
			}
			if nn := rd.Len(); nn > 0 {
				d.noSchema = make([]noSchemaDoc, nn)
				for j := range d.noSchema {
					n := &d.noSchema[j]
					n.doc = rd.Int()
					n.path, _ = rd.Value().([]any)
					n.apiVersion, n.kind = rd.String(), rd.String()
					n.idKind, n.ns, n.name = rd.String(), rd.String(), rd.String()
					n.line, n.column = rd.Int(), rd.Int()
					n.message = rd.String()
				}
			}
		}
	}
	if err := rd.Done(); err != nil {
		return fileResult{}, needs{}, err
	}
	return r, n, nil
}

// decodeFacts returns the facts of a document: its own, or those its cached result keeps
// encoded.
func (d *docResult) decodeFacts() ([]facts.Fact, error) {
	if d.factsRaw == nil {
		return d.facts, nil
	}
	rd := cache.NewReader(d.factsRaw)
	out := make([]facts.Fact, d.nFacts)
	for j := range out {
		out[j] = facts.Fact{Pkg: rd.String(), Enc: rd.Blob()}
		if err := facts.Check(out[j].Enc); err != nil {
			return nil, err
		}
	}
	if err := rd.Done(); err != nil {
		return nil, err
	}
	return out, nil
}

// factCount is how many facts the document has.
func (d *docResult) factCount() int {
	if d.factsRaw != nil {
		return d.nFacts
	}
	return len(d.facts)
}

func writeFindings(w *cache.Writer, fs []finding.Finding) {
	w.Int(len(fs))
	for _, f := range fs {
		w.String(f.Rule)
		w.String(f.Severity)
		w.String(f.File)
		w.Int(f.Line)
		w.Int(f.Column)
		w.String(f.Kind)
		w.String(f.Namespace)
		w.String(f.Name)
		w.String(f.Message)
		w.Strings(f.Chain)
		w.String(f.Path)
		w.String(f.Problem)
		w.String(f.Fix)
		w.String(f.Source)
		w.String(f.Unfixable)
		w.Int(len(f.Edits))
		for _, e := range f.Edits {
			w.Value(e.Path)
			w.Value(e.Value)
			w.Bool(e.Remove)
		}
		if len(f.Replacements) > 0 {
			w.Value(struct{}{}) // computed later by the fixer, never by a file's lint: refuse
		}
	}
}

func readFindings(r *cache.Reader) []finding.Finding {
	n := r.Len()
	if n == 0 {
		return nil
	}
	out := make([]finding.Finding, n)
	for i := range out {
		f := &out[i]
		f.Rule = r.String()
		f.Severity = r.String()
		f.File = r.String()
		f.Line = r.Int()
		f.Column = r.Int()
		f.Kind = r.String()
		f.Namespace = r.String()
		f.Name = r.String()
		f.Message = r.String()
		f.Chain = r.Strings()
		f.Path = r.String()
		f.Problem = r.String()
		f.Fix = r.String()
		f.Source = r.String()
		f.Unfixable = r.String()
		if ne := r.Len(); ne > 0 {
			f.Edits = make([]finding.Edit, ne)
			for j := range f.Edits {
				p, _ := r.Value().([]any)
				f.Edits[j] = finding.Edit{Path: p, Value: r.Value(), Remove: r.Bool()}
			}
		}
	}
	return out
}
