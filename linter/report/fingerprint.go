package report

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"

	"github.com/openova-io/ova-lint/linter/finding"
)

// Fingerprints returns a stable identity for each finding, for formats that track findings
// across runs (GitLab Code Quality's fingerprint, SARIF's partialFingerprints). It hashes the
// rule, the file, the object (kind, namespace, name) and what is wrong, but not the line and
// column, so a finding keeps its fingerprint when lines above it move. Findings that would
// collide get their occurrence number mixed in, in report order.
func Fingerprints(fs []finding.Finding) []string {
	out := make([]string, len(fs))
	seen := map[string]int{}
	for i, f := range fs {
		what := f.Problem
		if what == "" {
			what = f.Message
		}
		base := f.Rule + "\x00" + f.File + "\x00" + f.Kind + "\x00" + f.Namespace + "\x00" + f.Name + "\x00" + what
		n := seen[base]
		seen[base] = n + 1
		if n > 0 {
			base += "\x00" + strconv.Itoa(n)
		}
		sum := sha256.Sum256([]byte(base))
		out[i] = hex.EncodeToString(sum[:])
	}
	return out
}
