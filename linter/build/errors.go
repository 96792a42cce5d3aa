package build

import (
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
)

// buildError is an error whose message was made safe to report: one line, paths relative to the
// repository root, Secret values redacted. Unwrap returns the library's error.
type buildError struct {
	msg string
	err error
}

func (e *buildError) Error() string { return e.msg }
func (e *buildError) Unwrap() error { return e.err }

// sanitizer rewrites library messages for reporting.
type sanitizer struct {
	roots []string // absolute root spellings, longest first

	mu      sync.Mutex
	secrets []string // Secret-derived values to redact
}

func newSanitizer(root string) *sanitizer {
	roots := []string{root}
	if r, err := filepath.EvalSymlinks(root); err == nil && r != root {
		roots = append(roots, r)
	}
	sort.Slice(roots, func(i, j int) bool { return len(roots[i]) > len(roots[j]) })
	return &sanitizer{roots: roots}
}

// addSecrets records values that must never appear in a message.
func (s *sanitizer) addSecrets(values map[string]string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, v := range values {
		// Values shorter than minSecret would redact ordinary words of the message.
		if len(strings.TrimSpace(v)) >= minSecret && !contains(s.secrets, v) {
			s.secrets = append(s.secrets, v)
		}
	}
	sort.Slice(s.secrets, func(i, j int) bool { return len(s.secrets[i]) > len(s.secrets[j]) })
}

func contains(list []string, v string) bool {
	for _, e := range list {
		if e == v {
			return true
		}
	}
	return false
}

// minSecret is the shortest Secret value redacted from messages.
const minSecret = 4

var spaceRun = regexp.MustCompile(`\s+`)

// message returns msg on one line, root-relative, redacted.
func (s *sanitizer) message(msg string) string {
	s.mu.Lock()
	secrets := append([]string(nil), s.secrets...)
	s.mu.Unlock()
	for _, v := range secrets {
		msg = strings.ReplaceAll(msg, v, "[redacted]")
	}
	for _, r := range s.roots {
		msg = strings.ReplaceAll(msg, r+string(filepath.Separator), "")
		msg = strings.ReplaceAll(msg, r, ".")
	}
	// A path above the root (a reference that leaves it) becomes relative too ("../x").
	msg = absPath.ReplaceAllStringFunc(msg, func(m string) string {
		i := strings.IndexByte(m, '/')
		lead, p := m[:i], m[i:]
		trail := ""
		for len(p) > 1 && strings.ContainsRune(":,;.)", rune(p[len(p)-1])) {
			trail = p[len(p)-1:] + trail
			p = p[:len(p)-1]
		}
		for _, r := range s.roots {
			if rel, ok := relAbove(r, p); ok {
				return lead + rel + trail
			}
		}
		return m
	})
	return strings.TrimSpace(spaceRun.ReplaceAllString(msg, " "))
}

// absPath matches an absolute path that starts a word.
var absPath = regexp.MustCompile(`(?:^|[\s'"(=\[])/[^\s'"]+`)

// relAbove returns p relative to root when the two share more than the filesystem root (so that an
// unrelated absolute string, such as a JSON pointer, is left alone).
func relAbove(root, p string) (string, bool) {
	first := func(s string) string {
		s = strings.TrimPrefix(s, "/")
		if i := strings.IndexByte(s, '/'); i >= 0 {
			return s[:i]
		}
		return s
	}
	if first(root) == "" || first(root) != first(p) {
		return "", false
	}
	rel, err := filepath.Rel(root, filepath.FromSlash(p))
	if err != nil {
		return "", false
	}
	return filepath.ToSlash(rel), true
}

// wrap returns err with context, made safe by message.
func (s *sanitizer) wrap(context string, err error) error {
	return &buildError{msg: s.message(context + ": " + err.Error()), err: err}
}
