package cli

import (
	"encoding/base64"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/openova-io/ova-lint/linter/report"
)

// secretValueRe finds the secret values of testdata/secrets: each is named sv-… (or, where the
// format fixes the shape, AgSv… and a number), so a new fixture value is covered by its name.
var secretValueRe = regexp.MustCompile(`sv-[a-z0-9!-]+|AgSv[A-Za-z0-9]+|84529173`)

// knownLeaks are secret values that an output still shows, with the rule that shows them. The
// test fails when one stops showing: delete its entry then. Do not add to this list.
var knownLeaks = map[string]string{}

// TestNoSecretValuesInAnyFormat lints a tree full of secret values (a plaintext Secret's
// stringData and data, literal env credentials, credentials in URLs, SOPS ENC values and
// metadata, a SealedSecret's encryptedData, values of the wrong type that the schema rule
// reports, a duplicate key, a file that does not parse) and checks that no output format shows
// any of them, with and without --verbose. Rules name keys and fields, never values. A waiver's
// reason is no secret and may be shown.
func TestNoSecretValuesInAnyFormat(t *testing.T) {
	dir := filepath.Join("testdata", "secrets")
	values := fixtureSecrets(t, dir)
	require.Greater(t, len(values), 20, "the fixtures hold the secret values")

	// what each output must show, so an empty or truncated output cannot pass
	wantRules := []string{"plaintext-secret", "literal-credential", "no-sops", "sealed-secret", "yaml-syntax", "duplicate-key", "schema", "gitea-url", "waiver-expired"}
	wantFiles := []string{"secret.yaml", "secret-schema.yaml", "secret-duplicate.yaml", "broken.yaml", "deployment.yaml", "sources.yaml", "sops.enc.yaml", "enc-value.yaml", "sealedsecret.yaml"}

	leaked := map[string]bool{}
	for _, format := range report.Formats() {
		for _, verbose := range []bool{false, true} {
			name := format
			args := []string{"lint", "--format", format, "--fail-on", "never", "--color", "always"}
			if verbose {
				name += "/verbose"
				args = append(args, "--verbose")
			}
			t.Run(name, func(t *testing.T) {
				code, out, stderr := run(t, append(args, dir)...)
				require.Equal(t, ExitOK, code, stderr)
				for _, r := range wantRules {
					assert.Contains(t, out, r)
				}
				for _, f := range wantFiles {
					assert.Contains(t, out, f)
				}
				if format == "text" {
					// the SealedSecret's info finding shows with --verbose only
					if verbose {
						assert.Contains(t, out, "no schema for bitnami.com/v1alpha1/SealedSecret")
					} else {
						assert.NotContains(t, out, "no schema for bitnami.com/v1alpha1/SealedSecret")
					}
				}
				lower := strings.ToLower(out + stderr)
				for _, v := range values {
					if strings.Contains(lower, strings.ToLower(v)) {
						if _, known := knownLeaks[v]; known {
							leaked[v] = true
							continue
						}
						t.Errorf("the %s output shows the secret value %q", name, v)
					}
				}
			})
		}
	}
	for v, rule := range knownLeaks {
		assert.Truef(t, leaked[v], "%s no longer shows %q: remove it from knownLeaks", rule, v)
	}
}

// fixtureSecrets returns the secret values of the files under dir, and their base64 forms.
func fixtureSecrets(t *testing.T, dir string) []string {
	t.Helper()
	seen := map[string]bool{}
	var out []string
	add := func(v string) {
		if !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	require.NoError(t, filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		for _, line := range strings.Split(string(data), "\n") {
			if strings.HasPrefix(strings.TrimSpace(line), "#") {
				continue // the comments name the convention, not a value
			}
			for _, v := range secretValueRe.FindAllString(line, -1) {
				add(v)
				add(base64.StdEncoding.EncodeToString([]byte(v)))
			}
			// a data: value is base64: its decoded form is a secret too
			if _, val, ok := strings.Cut(line, "token: "); ok {
				if dec, err := base64.StdEncoding.DecodeString(strings.TrimSpace(val)); err == nil {
					add(string(dec))
					add(strings.TrimSpace(val))
				}
			}
		}
		return nil
	}))
	return out
}
