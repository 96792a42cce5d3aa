package schema

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// APIs returns the API deprecation data of the catalogue (catalog/apis.json.gz, written by
// internal/gen), as plain JSON values for the policy engine (data.ova.apis):
//
//	flux.<line>["<group>/<Kind>"]      {storage, versions: {<v>: {served, deprecated, warning}}}
//	kubernetes.minors                  the carried Kubernetes minors, oldest first
//	kubernetes.removed["<apiVersion>/<Kind>"]  {deprecated_in, removed_in, replacement, derived}
//
// The Flux part is what each carried Flux line's CRDs say of their versions; the Kubernetes
// part is the documented table of removed core APIs plus what the carried swagger.json files
// show (served by one minor, absent from a later one: derived).
func APIs() (map[string]any, error) {
	raw, err := catalogFS.ReadFile("catalog/apis.json.gz")
	if err != nil {
		return nil, fmt.Errorf("schema: api data: %w", err)
	}
	zr, err := gzip.NewReader(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("schema: api data: %w", err)
	}
	data, err := io.ReadAll(zr)
	if err != nil {
		return nil, fmt.Errorf("schema: api data: %w", err)
	}
	var out map[string]any
	if err := json.Unmarshal(data, &out); err != nil {
		return nil, fmt.Errorf("schema: api data: %w", err)
	}
	delete(out, "sources")
	return out, nil
}

// NearestFluxVersion returns the carried Flux line closest to v ("v2.7.2", "2.7", "2.10"):
// the same minor when carried, else the newest carried line below it, else the oldest carried
// line. It returns "" when v is not a 2.x version.
func NearestFluxVersion(v string) string {
	_, carried := Versions()
	want, ok := minorNumber(normalizeVersion(v))
	if !ok || !strings.HasPrefix(normalizeVersion(v), "2.") {
		return ""
	}
	best, bestN := "", -1
	for _, c := range carried {
		n, ok := minorNumber(c)
		if !ok {
			continue
		}
		if n <= want && n > bestN {
			best, bestN = c, n
		}
	}
	if best != "" {
		return best
	}
	// older than every carried line: the oldest one
	for _, c := range carried {
		n, ok := minorNumber(c)
		if ok && (bestN < 0 || n < bestN) {
			best, bestN = c, n
		}
	}
	return best
}

// minorNumber returns the minor of "2.7".
func minorNumber(v string) (int, bool) {
	_, minor, ok := strings.Cut(v, ".")
	if !ok {
		return 0, false
	}
	n, err := strconv.Atoi(minor)
	return n, err == nil
}
