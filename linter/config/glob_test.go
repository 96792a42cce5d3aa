package config

import (
	"strings"
	"testing"
	"time"
)

func TestMatchGlob(t *testing.T) {
	tests := []struct {
		pattern, name string
		want          bool
	}{
		{"**/staging/**", "clusters/fsn1/staging/app.yaml", true},
		{"**/staging/**", "staging/app.yaml", true},
		{"**/staging/**", "staging", true},
		{"**/staging/**", "clusters/production/app.yaml", false},
		{"vendor/**", "vendor/a/b.yaml", true},
		{"vendor/**", "src/vendor/a.yaml", false},
		{"./vendor/*.yaml", "vendor/a.yaml", true},
		{"clusters/*/flux-system/*.yaml", "clusters/fsn1/flux-system/sources.yaml", true},
		{"clusters/*/flux-system/*.yaml", "clusters/fsn1/x/flux-system/sources.yaml", false},
		{"a/**/b/**/c", "a/b/c", true},
		{"a/**/b/**/c", "a/x/b/y/z/c", true},
		{"a/**/b/**/c", "a/x/y/z/c", false},
		{"**/**/x", "x", true},
		{"**", "anything/at/all", true},
		{"a/**", "a", true},
		{"*.yaml", "deep/in/the/tree/file.yaml", true}, // no slash: the base name
		{"*-staging", "apps-staging", true},
		{"a/[", "a/[", false}, // malformed: no match
		{"", "", true},
		{"a//b", "a//b", true},
	}
	for _, tt := range tests {
		t.Run(tt.pattern+" "+tt.name, func(t *testing.T) {
			if got := MatchGlob(tt.pattern, tt.name); got != tt.want {
				t.Errorf("MatchGlob(%q, %q) = %v, want %v", tt.pattern, tt.name, got, tt.want)
			}
			if strings.Contains(tt.pattern, "/") {
				if want := matchRecursive(strings.Split(strings.TrimPrefix(tt.pattern, "./"), "/"), strings.Split(tt.name, "/")); want != tt.want {
					t.Errorf("the reference says %v", want)
				}
			}
		})
	}
}

// TestMatchGlobPathological: patterns of many "**" against long paths that do not match took
// time exponential in the number of "**" (every split tried for each); now at most
// segments(pattern) x segments(name) segment matches.
func TestMatchGlobPathological(t *testing.T) {
	long := strings.Repeat("d/", 200) + "file.yaml"
	tests := []struct {
		name, pattern, path string
		want                bool
	}{
		{"many ** and no match", strings.Repeat("**/", 40) + "nomatch", long, false},
		{"** between literals, no match", strings.Repeat("**/d/", 30) + "x", long, false},
		{"many ** and a match", strings.Repeat("**/", 40) + "file.yaml", long, true},
		{"** with wildcards", strings.Repeat("**/*/", 25) + "*.json", long, false},
		{"a config's worth of **", strings.Repeat("**/", 1000) + "x", strings.Repeat("y/", 1000) + "x", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			if got := MatchGlob(tt.pattern, tt.path); got != tt.want {
				t.Errorf("MatchGlob = %v, want %v", got, tt.want)
			}
			if d := time.Since(start); d > time.Second {
				t.Errorf("MatchGlob took %v", d)
			}
		})
	}
}

func TestValidateGlob(t *testing.T) {
	for pattern, ok := range map[string]bool{"**/staging/**": true, "a/[b": false, "[": false, "a/*.yaml": true, `a\`: false} {
		if err := ValidateGlob(pattern); (err == nil) != ok {
			t.Errorf("ValidateGlob(%q) = %v", pattern, err)
		}
	}
}
