package config

import (
	"path"
	"reflect"
	"strings"
	"testing"
	"time"
)

// The fuzz targets run their seed corpora (testdata/fuzz/FuzzXxx) with every go test; fuzz
// them with e.g. go test ./linter/config -run '^$' -fuzz '^FuzzMatchGlob$' -fuzztime 30s.

const slow = 5 * time.Second

// FuzzParse: Parse never panics or hangs; a configuration it accepts validates, prints (ova-lint
// config) and reads back to the same configuration, and selects environments without panicking.
func FuzzParse(f *testing.F) {
	f.Fuzz(func(t *testing.T, raw []byte) {
		start := time.Now()
		c, err := Parse(raw)
		if d := time.Since(start); d > slow {
			t.Fatalf("Parse took %v on %d bytes", d, len(raw))
		}
		if err != nil {
			return
		}
		if err := c.Validate(); err != nil {
			t.Fatalf("Parse accepted a configuration that does not validate: %v", err)
		}
		out, err := c.YAML()
		if err != nil {
			t.Fatalf("YAML: %v", err)
		}
		again, err := Parse(out)
		if err != nil {
			t.Fatalf("the printed configuration does not parse: %v\n%s", err, out)
		}
		// the printed configuration states fluxVersion, so reading it back says the file set it
		again.FluxVersionFrom = c.FluxVersionFrom
		if !reflect.DeepEqual(c, again) {
			t.Fatalf("the printed configuration reads back differently:\n%#v\n%#v\n%s", c, again, out)
		}
		c.EnvironmentFor("clusters/staging/app.yaml", map[string]string{"environment": "staging"}, "apps-staging")
	})
}

// FuzzMatchGlob: MatchGlob never panics, takes time polynomial in its input (no exponential
// backtracking over "**"), and agrees with the direct recursive definition where that one is
// cheap enough to run.
func FuzzMatchGlob(f *testing.F) {
	f.Fuzz(func(t *testing.T, pattern, name string) {
		start := time.Now()
		got := MatchGlob(pattern, name)
		if d := time.Since(start); d > slow {
			t.Fatalf("MatchGlob took %v", d)
		}
		_ = ValidateGlob(pattern)
		if !strings.Contains(pattern, "/") {
			return // the base name alone, by path.Match
		}
		pat := strings.Split(strings.TrimPrefix(pattern, "./"), "/")
		segs := strings.Split(name, "/")
		if strings.Count(pattern, "**") > 5 || len(segs) > 16 {
			return // the reference is exponential in the number of "**"
		}
		if want := matchRecursive(pat, segs); got != want {
			t.Fatalf("MatchGlob(%q, %q) = %v, the definition says %v", pattern, name, got, want)
		}
	})
}

// matchRecursive is the definition: "**" matches any number of segments, other segments one
// segment by path.Match. It tries every split for every "**": exponential in their number.
func matchRecursive(pat, name []string) bool {
	for len(pat) > 0 {
		if pat[0] == "**" {
			for i := 0; i <= len(name); i++ {
				if matchRecursive(pat[1:], name[i:]) {
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
