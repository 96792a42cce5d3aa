package cli

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestPreCommitHook runs the real pre-commit framework (Debian's pre-commit package; `make test`
// installs it through hack/install-test-deps.sh) against this repository's .pre-commit-hooks.yaml,
// in a temporary git repository, through `git commit` and the installed git hook:
// a commit with a violation is refused and shows the finding, a clean commit passes, a staged
// Chart.yaml pulls in its blueprint, and a waiver annotation lets a commit through.
//
// The hooks repository is this repository at HEAD (pre-commit clones it and builds ova-lint with
// `go install`, as it does for users): uncommitted changes are not part of the test.
func TestPreCommitHook(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: skipping the pre-commit framework test")
	}
	if _, err := exec.LookPath("pre-commit"); err != nil {
		t.Skip("pre-commit is not installed: run hack/install-test-deps.sh (make test does) to run this test")
	}
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git is not installed")
	}
	hooksRepo, err := filepath.Abs(filepath.Join("..", ".."))
	require.NoError(t, err)
	rev, err := exec.Command("git", "-C", hooksRepo, "rev-parse", "HEAD").Output()
	if err != nil {
		t.Skipf("%s is not a git checkout (pre-commit needs a git repository of the hooks): %v", hooksRepo, err)
	}
	if err := exec.Command("git", "-C", hooksRepo, "cat-file", "-e", "HEAD:.pre-commit-hooks.yaml").Run(); err != nil {
		t.Skip(".pre-commit-hooks.yaml is not committed yet: the test uses the hooks repository at HEAD")
	}

	goEnv := func(key string) string { return hostGoEnv(t, key) }
	home := t.TempDir()
	env := append(os.Environ(),
		"PRE_COMMIT_HOME="+filepath.Join(home, "pre-commit"),
		"HOME="+home,
		"GIT_CONFIG_GLOBAL=/dev/null",
		"GIT_CONFIG_NOSYSTEM=1",
		"GIT_AUTHOR_NAME=ova-lint test", "GIT_AUTHOR_EMAIL=test@example.org",
		"GIT_COMMITTER_NAME=ova-lint test", "GIT_COMMITTER_EMAIL=test@example.org",
		// pre-commit builds the hook with GOPATH in its own cache: keep the module and build
		// caches of this machine, so the build is offline and incremental
		"GOMODCACHE="+goEnv("GOMODCACHE"),
		"GOCACHE="+goEnv("GOCACHE"),
		"GOPROXY="+goEnv("GOPROXY"),
		"GOFLAGS=",
		"GOTOOLCHAIN=local",
		"NO_COLOR=1",
	)

	repo := filepath.Join(t.TempDir(), "gitops")
	require.NoError(t, os.MkdirAll(repo, 0o755))
	sh := func(args ...string) (string, error) {
		cmd := exec.Command(args[0], args[1:]...)
		cmd.Dir = repo
		cmd.Env = env
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	must := func(args ...string) string {
		t.Helper()
		out, err := sh(args...)
		require.NoError(t, err, "%s\n%s", strings.Join(args, " "), out)
		return out
	}
	write := func(name, content string) {
		t.Helper()
		p := filepath.Join(repo, name)
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(content), 0o644))
	}
	commit := func(msg string, paths ...string) (string, error) {
		t.Helper()
		must(append([]string{"git", "add", "--"}, paths...)...)
		return sh("git", "commit", "-m", msg)
	}

	must("git", "init", "-q", "-b", "main")
	write(".pre-commit-config.yaml", "repos:\n  - repo: "+hooksRepo+"\n    rev: "+strings.TrimSpace(string(rev))+"\n    hooks:\n      - id: ova-lint\n")
	must("git", "add", ".pre-commit-config.yaml")
	must("git", "commit", "-q", "--no-verify", "-m", "pre-commit config")
	must("pre-commit", "install")
	t.Log("installing the hook environment (go install in pre-commit's clone of the repository)...")
	must("pre-commit", "install-hooks")

	steps := []struct {
		name     string
		files    map[string]string
		pass     bool
		inOut    []string // substrings of the hook's output
		notInOut []string
	}{
		{
			name:  "clean commit passes",
			files: map[string]string{"clusters/fsn1/sources.yaml": gitRepository("platform", "main", "")},
			pass:  true, inOut: []string{"ova-lint", "Passed"},
		},
		{
			name:  "violation is refused with the finding",
			files: map[string]string{"clusters/fsn1/apps.yaml": gitRepository("apps", "develop", "")},
			pass:  false, inOut: []string{"Failed", "clusters/fsn1/apps.yaml:10:5: error gitrepository-ref"},
		},
		{
			name: "waiver lets the commit through",
			files: map[string]string{"clusters/fsn1/apps.yaml": gitRepository("apps", "develop",
				"  annotations:\n    ova-lint.openova.io/waive: \"gitrepository-ref; reason=release train (OPS-42); until=2999-12-31\"\n")},
			pass: true, inOut: []string{"Passed"},
		},
		{
			name: "blueprint and chart in step pass",
			files: map[string]string{
				"platform/billing/blueprint.yaml":    blueprint("1.0.0"),
				"platform/billing/chart/Chart.yaml":  chart("1.0.0"),
				"platform/billing/chart/values.yaml": "replicas: 1\n",
			},
			pass: true, inOut: []string{"Passed"},
		},
		{
			name:     "a staged Chart.yaml pulls in its blueprint",
			files:    map[string]string{"platform/billing/chart/Chart.yaml": chart("1.1.0")},
			pass:     false,
			inOut:    []string{"platform/billing/blueprint.yaml:8:3: error blueprint-version"},
			notInOut: []string{"clusters/fsn1"}, // unrelated files are not linted
		},
		{
			name:  "non-YAML change skips the hook",
			files: map[string]string{"README.md": "# gitops\n"},
			pass:  true, inOut: []string{"(no files to check)Skipped"},
		},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			var paths []string
			for name, content := range st.files {
				write(name, content)
				paths = append(paths, name)
			}
			out, err := commit(st.name, paths...)
			t.Logf("git commit:\n%s", out)
			if st.pass {
				require.NoError(t, err, "the commit should pass:\n%s", out)
			} else {
				require.Error(t, err, "the commit should be refused:\n%s", out)
				// leave the tree clean for the next step
				must("git", "reset", "-q", "--hard", "HEAD")
			}
			for _, s := range st.inOut {
				require.Contains(t, out, s)
			}
			for _, s := range st.notInOut {
				require.NotContains(t, out, s)
			}
		})
	}
}

// hostGoEnv returns `go env key` as the go command resolves it outside this test binary, with
// the XDG_CACHE_HOME the binary was started with rather than TestMain's: GOCACHE defaults to
// $XDG_CACHE_HOME/go-build, and with TestMain's the hook's `go install` would compile the
// standard library and every dependency again in an empty cache (about 2 minutes per test
// instead of about 10 seconds).
func hostGoEnv(t *testing.T, key string) string {
	t.Helper()
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "XDG_CACHE_HOME=") {
			env = append(env, kv)
		}
	}
	if xdgCacheHomeSet {
		env = append(env, "XDG_CACHE_HOME="+xdgCacheHome)
	}
	cmd := exec.Command("go", "env", key)
	cmd.Env = env
	out, err := cmd.Output()
	require.NoError(t, err)
	return strings.TrimSpace(string(out))
}

func gitRepository(name, branch, annotations string) string {
	return "apiVersion: source.toolkit.fluxcd.io/v1\nkind: GitRepository\nmetadata:\n  name: " + name +
		"\n  namespace: flux-system\n" + annotations +
		"spec:\n  interval: 1m\n  url: https://gitea.fsn1.acme.example/platform/" + name + ".git\n" +
		"  ref:\n    branch: " + branch + "\n  secretRef:\n    name: gitea-token\n"
}

func blueprint(version string) string {
	return "apiVersion: catalyst.openova.io/v1alpha1\nkind: Blueprint\nmetadata:\n  name: bp-billing\nspec:\n  card:\n    title: Billing\n  version: " + version + "\n"
}

func chart(version string) string {
	return "apiVersion: v2\nname: bp-billing\nversion: " + version + "\nannotations:\n  catalyst.openova.io/no-upstream: \"true\"\n"
}
