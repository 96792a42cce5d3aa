package linter

import (
	"bytes"
	"context"
	"fmt"
	"path"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/openova-io/ova-lint/linter/cache"
	"github.com/openova-io/ova-lint/linter/input"
	"github.com/openova-io/ova-lint/linter/loader"
	"github.com/openova-io/ova-lint/linter/schema"
)

// fluxPin is a Flux version the tree pins, and where.
type fluxPin struct {
	// Version is the pinned Flux version as written ("v2.7.2"), Line the carried Flux line it
	// selects ("2.7").
	Version, Line string
	// Source says where the pin was read, for the summary.
	Source string
}

// gotkHeader is the first line `flux bootstrap` and `flux install --export` write into
// gotk-components.yaml.
var gotkHeader = regexp.MustCompile(`(?m)^#\s*Flux Version:\s*(v?\d+\.\d+\.\d+\S*)\s*$`)

// flux2Chart reads "major.minor" of the fluxcd-community flux2 chart version: an exact
// version, or a range that fixes the minor (2.14.x, ~2.14.0, 2.14.*).
var flux2Chart = regexp.MustCompile(`^[=~v]*(\d+)\.(\d+)(?:\.(?:\d+\S*|x|\*))?$`)

// fluxOfChart maps a fluxcd-community flux2 chart version to the Flux minor it ships.
// Since chart 2.12 the chart's minor is Flux's minor plus ten (chart 2.12.x ships Flux 2.2,
// 2.13.x 2.3, 2.14.x 2.4 — charts/flux2/Chart.yaml appVersion in
// github.com/fluxcd-community/helm-charts, as the platform's bp-flux Chart.yaml records for
// 2.13 and 2.14); older charts (2.0–2.11 shipped Flux 0.x and 2.0–2.1) are older than every
// carried Flux line and are not mapped.
func fluxOfChart(version string) (string, bool) {
	m := flux2Chart.FindStringSubmatch(strings.TrimSpace(version))
	if m == nil {
		return "", false
	}
	major, _ := strconv.Atoi(m[1])
	minor, _ := strconv.Atoi(m[2])
	if major != 2 || minor < 12 {
		return "", false
	}
	return fmt.Sprintf("2.%d", minor-10), true
}

// detectFluxVersion reads the Flux version the tree pins: the header of a gotk-components.yaml
// (flux bootstrap), else a Flux Operator FluxInstance's spec.distribution.version (or the
// flux-instance chart's values.instance.distribution.version in a HelmRelease), else the
// version of the flux2 chart that a HelmRelease installs or a Chart.yaml depends on. Files are
// taken in path order; the first pin of the best kind wins. ok is false when the tree pins
// nothing. With keep (files are the run's own), what was learnt of each file is kept for the
// file pass.
func (l *Linter) detectFluxVersion(ctx context.Context, files []loader.File, keep bool) (fluxPin, bool, *preread) {
	// every file is read on the workers; the pin is then chosen in path order
	type candidate struct {
		pin    *fluxPin
		rank   int // rankGotk, rankOperator, rankChart; 0: none
		data   []byte
		digest [32]byte // of the bytes, when known
		known  bool
	}
	found := make([]candidate, len(files))
	l.parallel(ctx, len(files), func(i int) {
		c := &found[i]
		c.pin, c.rank, c.data, c.digest, c.known = l.filePin(files[i])
	})
	var read *preread
	if keep {
		// the bytes read here are the lint's too: each file is read once; a file the tree
		// index vouched for is not read, its digest finds its results
		read = &preread{paths: make([]string, len(files)), data: make([]atomic.Pointer[[]byte], len(files)), digests: make([][32]byte, len(files)), known: make([]bool, len(files))}
		for i, c := range found {
			read.paths[i] = files[i].OSPath
			read.digests[i], read.known[i] = c.digest, c.known
			if c.data != nil {
				read.data[i].Store(&c.data)
			}
		}
	}
	best := -1
	for i := range found {
		c := &found[i]
		if c.pin != nil && (best < 0 || c.rank < found[best].rank || (c.rank == found[best].rank && files[i].Rel < files[best].Rel)) {
			best = i
		}
	}
	if best < 0 || ctx.Err() != nil {
		return fluxPin{}, false, read
	}
	return *found[best].pin, true, read
}

// preread holds what the pre-scan learnt of each file of the run (by its index in the run's
// files), until the file pass takes it: the bytes it read (each file is read once, and its
// bytes are not kept after its lint) and their SHA-256, or only the digest the tree index
// recorded for an unchanged file.
type preread struct {
	paths   []string // the OS path of each file; read-only once built
	data    []atomic.Pointer[[]byte]
	digests [][32]byte // read-only once built
	known   []bool
}

// has reports whether file i of the run is osPath, as the pre-scan saw it.
func (p *preread) has(i int, osPath string) bool {
	return p != nil && i >= 0 && i < len(p.paths) && p.paths[i] == osPath
}

// take returns the bytes read for file i (osPath), and their digest, once.
func (p *preread) take(i int, osPath string) ([]byte, [32]byte, bool) {
	if !p.has(i, osPath) {
		return nil, [32]byte{}, false
	}
	if b := p.data[i].Swap(nil); b != nil {
		return *b, p.digests[i], true
	}
	return nil, [32]byte{}, false
}

// digest returns the digest the pre-scan knows for file i (osPath) without its bytes.
func (p *preread) digest(i int, osPath string) ([32]byte, bool) {
	if !p.has(i, osPath) || !p.known[i] {
		return [32]byte{}, false
	}
	return p.digests[i], true
}

// filePin is the Flux pin one file holds and its kind (rankGotk is the best), with the file's
// bytes (nil when they were not read) and their SHA-256 (known: false when the file could not
// be read). A file the tree index vouches for is not read: its pin and digest are the index's.
func (l *Linter) filePin(f loader.File) (pin *fluxPin, rank int, data []byte, digest [32]byte, known bool) {
	if f.OSPath == loader.Stdin {
		return nil, 0, nil, digest, false
	}
	if !pinCandidate(f) {
		return nil, 0, nil, digest, false
	}
	ix := l.index()
	if entry, ok := ix.Lookup(f.OSPath); ok {
		if pin, rank, ok := decodePin(entry.Meta); ok {
			return pin, rank, nil, entry.Digest, true
		}
	}
	data, digest, record, err := l.readRecorded(f)
	if err != nil {
		return nil, 0, nil, digest, false // lintFile reports unreadable files
	}
	pin, rank = l.pinOf(f, data)
	if record != nil {
		record(encodePin(pin, rank))
	}
	return pin, rank, data, digest, true
}

// pinCandidate reports whether a file can pin the Flux version: a YAML file.
func pinCandidate(f loader.File) bool {
	return strings.HasSuffix(f.Rel, ".yaml") || strings.HasSuffix(f.Rel, ".yml")
}

// pinOf is the Flux pin in the bytes of file f, and its kind.
func (l *Linter) pinOf(f loader.File, data []byte) (*fluxPin, int) {
	if path.Base(f.Rel) == "gotk-components.yaml" {
		if m := gotkHeader.FindSubmatch(data); m != nil {
			v := string(m[1])
			if line := schema.NearestFluxVersion(v); line != "" {
				return &fluxPin{Version: v, Line: line, Source: fmt.Sprintf("%s: # Flux Version: %s", f.Display, v)}, rankGotk
			}
		}
		return nil, 0
	}
	if !bytes.Contains(data, []byte("flux2")) && !bytes.Contains(data, []byte("distribution")) {
		return nil, 0
	}
	return l.docPin(f, data)
}

// encodePin is the tree index's record of a file's pin.
func encodePin(pin *fluxPin, rank int) []byte {
	var w cache.Writer
	w.Int(1) // the pin was looked for
	w.Int(rank)
	if pin != nil {
		w.String(pin.Version)
		w.String(pin.Line)
		w.String(pin.Source)
	}
	b, _ := w.Bytes() // ints and strings: no error
	return b
}

// decodePin reads encodePin; ok is false when meta holds no pin record.
func decodePin(meta []byte) (*fluxPin, int, bool) {
	r := cache.NewReader(meta)
	if r.Int() != 1 {
		return nil, 0, false
	}
	rank := r.Int()
	var pin *fluxPin
	if rank != 0 {
		pin = &fluxPin{Version: r.String(), Line: r.String(), Source: r.String()}
	}
	if r.Done() != nil {
		return nil, 0, false
	}
	return pin, rank, true
}

// Kinds of pin, best first.
const (
	rankGotk     = 1 + iota // gotk-components.yaml's header
	rankOperator            // FluxInstance, flux-instance chart values
	rankChart               // fluxcd-community flux2 chart
)

// fluxDistribution reads "major.minor" of a Flux Operator distribution version: "2.7.2",
// "2.7.x", "v2.7.*" (a range that fixes the minor; "2.x" fixes none).
var fluxDistribution = regexp.MustCompile(`^[=~^v]*(\d+)\.(\d+)(?:\.(?:\d+\S*|x|\*))?$`)

// docPin looks for a Flux pin in the documents of one file.
func (l *Linter) docPin(f loader.File, data []byte) (*fluxPin, int) {
	docs, _ := loader.Parse(data, l.opts.Limits)
	var chart *fluxPin
	for _, d := range docs {
		m, ok := d.Object.(map[string]any)
		if !ok {
			continue
		}
		kind, _ := m["kind"].(string)
		apiVersion, _ := m["apiVersion"].(string)
		switch {
		case kind == "FluxInstance" && strings.HasPrefix(apiVersion, "fluxcd.controlplane.io/"):
			if p := distributionPin(f, dig(m, "spec", "distribution"), "FluxInstance spec.distribution.version"); p != nil {
				return p, rankOperator
			}
		case kind == "HelmRelease":
			spec := dig(m, "spec", "chart", "spec")
			name, _ := spec["chart"].(string)
			switch name {
			case "flux-instance":
				if p := distributionPin(f, dig(m, "spec", "values", "instance", "distribution"), "HelmRelease flux-instance values.instance.distribution.version"); p != nil {
					return p, rankOperator
				}
			case "flux2":
				version, _ := spec["version"].(string)
				if chart == nil {
					chart = chartPin(f, "HelmRelease chart flux2", version)
				}
			}
		case path.Base(f.Rel) == "Chart.yaml":
			deps, _ := m["dependencies"].([]any)
			for _, dep := range deps {
				dm, _ := dep.(map[string]any)
				if name, _ := dm["name"].(string); name == "flux2" && chart == nil {
					version, _ := dm["version"].(string)
					chart = chartPin(f, "Chart.yaml dependency flux2", version)
				}
			}
		}
	}
	return chart, rankChart
}

func distributionPin(f loader.File, dist map[string]any, where string) *fluxPin {
	v, _ := dist["version"].(string)
	m := fluxDistribution.FindStringSubmatch(strings.TrimSpace(v))
	if m == nil || m[1] != "2" {
		return nil
	}
	flux := m[1] + "." + m[2]
	line := schema.NearestFluxVersion(flux)
	if line == "" {
		return nil
	}
	return &fluxPin{Version: flux, Line: line, Source: fmt.Sprintf("%s: %s %s", f.Display, where, v)}
}

func chartPin(f loader.File, where, version string) *fluxPin {
	if version == "" {
		return nil
	}
	flux, ok := fluxOfChart(version)
	if !ok {
		return nil
	}
	line := schema.NearestFluxVersion(flux)
	if line == "" {
		return nil
	}
	return &fluxPin{Version: flux, Line: line, Source: fmt.Sprintf("%s: %s %s (ships Flux %s)", f.Display, where, version, flux)}
}

func dig(m map[string]any, keys ...string) map[string]any {
	for _, k := range keys {
		m, _ = m[k].(map[string]any)
	}
	return m
}

// resolveFluxVersion decides the Flux version of a run: the configuration's when the user set
// it, else what the tree pins, else the profile's default. It returns the linter to run with
// (its configuration and schema options carry the version) and the summary's account of it
// ("" when the profile default was used).
func (l *Linter) resolveFluxVersion(ctx context.Context, files []loader.File) (*Linter, string, string) {
	if l.cfg.FluxVersionFrom != "" {
		return l, input.Minor(l.cfg.FluxVersion), l.cfg.FluxVersionFrom
	}
	keep := l.pinFiles == nil // a --changed run: the pin is the whole tree's, the lint reads fewer
	if !keep {
		files = l.pinFiles
	}
	pin, ok, read := l.detectFluxVersion(ctx, files, keep)
	out := *l
	out.preread = read
	if !ok {
		return &out, "", ""
	}
	cfg := *l.cfg
	cfg.FluxVersion = pin.Line
	out.cfg = &cfg
	if l.opts.Schema != nil {
		s := *l.opts.Schema
		s.FluxVersion = pin.Line
		out.opts.Schema = &s
	}
	src := "pinned by " + pin.Source
	if strings.TrimPrefix(pin.Version, "v") != pin.Line && !strings.HasPrefix(strings.TrimPrefix(pin.Version, "v"), pin.Line+".") {
		src += "; nearest carried Flux line " + pin.Line
	}
	return &out, pin.Line, src
}

// fluxVersionNote ends the fix of a schema error in a Flux object: which Flux line the schemas
// are of and why, so that a field newer than that line points at the real cause.
func fluxVersionNote(line, source string) string {
	if source == "" {
		return fmt.Sprintf("; these are Flux %s's schemas, the profile default (the tree pins no Flux version): if the cluster runs a newer Flux, set fluxVersion in .ova-lint.yaml or pass --flux-version", line)
	}
	return fmt.Sprintf("; these are Flux %s's schemas (%s)", line, source)
}
