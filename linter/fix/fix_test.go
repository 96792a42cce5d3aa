package fix

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/openova-io/ova-lint/linter/finding"
	"github.com/openova-io/ova-lint/linter/schema"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// testRequest is a Request as the testdata writes it.
type testRequest struct {
	Line  int    `json:"line"`
	Kind  string `json:"kind"`
	Name  string `json:"name"`
	Edits []struct {
		Path   []any `json:"path"`
		Value  any   `json:"value"`
		Remove bool  `json:"remove"`
	} `json:"edits"`
}

func readRequests(t *testing.T, dir string) []Request {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(dir, "requests.json"))
	require.NoError(t, err)
	var trs []testRequest
	require.NoError(t, json.Unmarshal(raw, &trs))
	reqs := make([]Request, 0, len(trs))
	for _, tr := range trs {
		r := Request{Line: tr.Line, Kind: tr.Kind, Name: tr.Name}
		for _, e := range tr.Edits {
			path := make([]any, len(e.Path))
			for i, p := range e.Path {
				if n, ok := p.(float64); ok {
					path[i] = int(n)
				} else {
					path[i] = p
				}
			}
			r.Edits = append(r.Edits, finding.Edit{Path: path, Value: e.Value, Remove: e.Remove})
		}
		reqs = append(reqs, r)
	}
	return reqs
}

// acceptAPIVersion is the guard the CLI uses: the real schema validator (Flux 2.4 schemas).
func acceptAPIVersion(t *testing.T) func(map[string]any) error {
	v, err := schema.New(schema.Options{})
	require.NoError(t, err)
	return func(obj map[string]any) error {
		errs, err := v.Validate(obj)
		if err != nil {
			return err
		}
		if len(errs) > 0 {
			return errors.New(errs[0].String())
		}
		return nil
	}
}

// TestApply applies testdata/<case>/requests.json to before.yaml and compares the file with
// after.yaml and what became of each request with results.txt (-update rewrites both).
func TestApply(t *testing.T) {
	cases, err := os.ReadDir("testdata")
	require.NoError(t, err)
	opts := Options{AcceptAPIVersion: acceptAPIVersion(t)}
	for _, c := range cases {
		if !c.IsDir() {
			continue
		}
		t.Run(c.Name(), func(t *testing.T) {
			dir := filepath.Join("testdata", c.Name())
			before, err := os.ReadFile(filepath.Join(dir, "before.yaml"))
			require.NoError(t, err)
			reqs := readRequests(t, dir)
			out, results, err := Apply(before, reqs, opts)
			require.NoError(t, err)
			var res strings.Builder
			for i, r := range results {
				if r.Applied {
					fmt.Fprintf(&res, "%d: applied\n", i)
				} else {
					fmt.Fprintf(&res, "%d: skipped: %s\n", i, r.Reason)
				}
			}
			goldenFile(t, filepath.Join(dir, "after.yaml"), out)
			goldenFile(t, filepath.Join(dir, "results.txt"), []byte(res.String()))
			if len(reqs) == 0 {
				require.Equal(t, before, out, "a file with no edit stays byte-identical")
			}
			// each applied request alone plans replacements that give what Apply gave for it
			for i, r := range results {
				if !r.Applied {
					continue
				}
				reps, err := Plan(before, reqs[i], opts)
				require.NoError(t, err)
				alone, _, err := Apply(before, reqs[i:i+1], opts)
				require.NoError(t, err)
				require.Equal(t, string(alone), string(replay(t, before, reps)), "request %d", i)
			}
		})
	}
}

// replay applies replacements (line/column positions) the way a SARIF consumer does.
func replay(t *testing.T, data []byte, reps []finding.Replacement) []byte {
	t.Helper()
	f, err := parse(data)
	require.NoError(t, err)
	out := append([]byte{}, data...)
	for i := len(reps) - 1; i >= 0; i-- {
		r := reps[i]
		start := f.offsetOfPosition(r.StartLine, r.StartColumn)
		end := f.offsetOfPosition(r.EndLine, r.EndColumn)
		out = append(out[:start], append([]byte(r.Text), out[end:]...)...)
	}
	return out
}

// offsetOfPosition is the inverse of position (no byte order mark skipping: SARIF columns
// count from the start of the line).
func (f *file) offsetOfPosition(line, col int) int {
	if line > len(f.lineStarts) {
		return len(f.data)
	}
	o := f.lineStarts[line-1]
	for c := 1; c < col; c++ {
		_, size := decodeRune(f.data[o:])
		o += size
	}
	return o
}

func goldenFile(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		require.NoError(t, os.WriteFile(path, got, 0o644))
		return
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "missing golden file (go test ./linter/fix -update)")
	require.Equal(t, string(want), string(got), "%s differs (go test ./linter/fix -update to accept)", path)
}

func TestUnparsable(t *testing.T) {
	data := []byte("a: [1\n")
	out, results, err := Apply(data, []Request{{Line: 1, Edits: []finding.Edit{{Path: []any{"a"}, Value: 1}}}}, Options{})
	require.Error(t, err)
	require.Equal(t, data, out)
	require.False(t, results[0].Applied)
}

func TestOnlyChangedBytes(t *testing.T) {
	// every byte outside the fixed value is the same: comments, quoting, spacing
	before, err := os.ReadFile(filepath.Join("testdata", "quoting", "before.yaml"))
	require.NoError(t, err)
	out, _, err := Apply(before, []Request{{Line: 7, Edits: []finding.Edit{{Path: []any{"spec", "interval"}, Value: "1m"}}}}, Options{})
	require.NoError(t, err)
	require.Equal(t, string(bytes.Replace(before, []byte(`interval: "5m"`), []byte(`interval: "1m"`), 1)), string(out))
}

// TestDiff checks that the unified diff of every golden case applies with git apply and gives
// the fixed file.
func TestDiff(t *testing.T) {
	git, err := exec.LookPath("git")
	if err != nil {
		t.Skip("git is not installed")
	}
	cases, err := os.ReadDir("testdata")
	require.NoError(t, err)
	for _, c := range cases {
		before, err1 := os.ReadFile(filepath.Join("testdata", c.Name(), "before.yaml"))
		after, err2 := os.ReadFile(filepath.Join("testdata", c.Name(), "after.yaml"))
		if err1 != nil || err2 != nil {
			continue
		}
		t.Run(c.Name(), func(t *testing.T) {
			d := Diff("f.yaml", before, after)
			if bytes.Equal(before, after) {
				require.Empty(t, d)
				return
			}
			dir := t.TempDir()
			require.NoError(t, os.WriteFile(filepath.Join(dir, "f.yaml"), before, 0o644))
			require.NoError(t, os.WriteFile(filepath.Join(dir, "fix.diff"), []byte(d), 0o644))
			cmd := exec.Command(git, "apply", "fix.diff")
			cmd.Dir = dir
			out, err := cmd.CombinedOutput()
			require.NoError(t, err, "%s\n%s", out, d)
			got, err := os.ReadFile(filepath.Join(dir, "f.yaml"))
			require.NoError(t, err)
			require.Equal(t, string(after), string(got), d)
		})
	}
}
