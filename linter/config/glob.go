package config

import (
	"fmt"
	"path"
	"strings"
)

// ValidateGlob reports a malformed glob.
func ValidateGlob(pattern string) error {
	for _, seg := range strings.Split(pattern, "/") {
		if seg == "**" {
			continue
		}
		if _, err := path.Match(seg, ""); err != nil {
			return fmt.Errorf("glob %q: %w", pattern, err)
		}
	}
	return nil
}

// MatchGlob reports whether the slash-separated name matches pattern, where a "**" segment
// matches any number of segments (none included) and other segments follow path.Match.
// A pattern without a slash matches the base name at any depth, as in .gitignore.
func MatchGlob(pattern, name string) bool {
	if !strings.Contains(pattern, "/") {
		base := name
		if i := strings.LastIndexByte(name, '/'); i >= 0 {
			base = name[i+1:]
		}
		ok, _ := path.Match(pattern, base)
		return ok
	}
	return matchSegments(strings.Split(strings.TrimPrefix(pattern, "./"), "/"), strings.Split(name, "/"))
}

// matchSegments matches name against pat segment by segment. A "**" matches any run of
// segments; on a mismatch the match resumes after the last "**" seen, one segment further into
// the name. Earlier "**" never need revisiting (the last one can absorb whatever they would),
// so the cost is at most len(pat)*len(name) segment matches, where trying every split for every
// "**" was exponential in their number.
func matchSegments(pat, name []string) bool {
	p, n := 0, 0
	star, resume := -1, 0 // the last "**" in pat, and the name segment it will absorb up to
	for n < len(name) {
		switch {
		case p < len(pat) && pat[p] == "**":
			star, resume = p, n
			p++
		case p < len(pat) && segmentMatch(pat[p], name[n]):
			p++
			n++
		case star >= 0:
			resume++
			p, n = star+1, resume
		default:
			return false
		}
	}
	for p < len(pat) && pat[p] == "**" {
		p++
	}
	return p == len(pat)
}

func segmentMatch(pattern, segment string) bool {
	ok, _ := path.Match(pattern, segment)
	return ok
}
