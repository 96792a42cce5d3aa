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

func matchSegments(pat, name []string) bool {
	for len(pat) > 0 {
		if pat[0] == "**" {
			rest := pat[1:]
			for i := 0; i <= len(name); i++ {
				if matchSegments(rest, name[i:]) {
					return true
				}
			}
			return false
		}
		if len(name) == 0 {
			return false
		}
		if ok, _ := path.Match(pat[0], name[0]); !ok {
			return false
		}
		pat, name = pat[1:], name[1:]
	}
	return len(name) == 0
}
