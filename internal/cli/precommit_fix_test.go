package cli

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestPreCommitFixHook runs the ova-lint-fix hook of this repository's .pre-commit-hooks.yaml
// through the real pre-commit framework and `git commit`, as TestPreCommitHook does for
// ova-lint: a staged file with a fixable finding fails the commit ("files were modified by this
// hook"), the fix is left in the work tree unstaged (the index keeps what was staged), and once
// the user stages the fix the commit passes.
func TestPreCommitFixHook(t *testing.T) {
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
		t.Skipf("%s is not a git checkout: %v", hooksRepo, err)
	}
	hooks, err := exec.Command("git", "-C", hooksRepo, "show", "HEAD:.pre-commit-hooks.yaml").Output()
	if err != nil || !strings.Contains(string(hooks), "id: ova-lint-fix\n") {
		t.Skip("the ova-lint-fix hook is not committed yet: the test uses the hooks repository at HEAD")
	}
	goEnv := func(key string) string { return hostGoEnv(t, key) }
	home := t.TempDir()
	env := append(os.Environ(),
		"PRE_COMMIT_HOME="+filepath.Join(home, "pre-commit"), "HOME="+home,
		"GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1",
		"GIT_AUTHOR_NAME=ova-lint test", "GIT_AUTHOR_EMAIL=test@example.org",
		"GIT_COMMITTER_NAME=ova-lint test", "GIT_COMMITTER_EMAIL=test@example.org",
		"GOMODCACHE="+goEnv("GOMODCACHE"), "GOCACHE="+goEnv("GOCACHE"), "GOPROXY="+goEnv("GOPROXY"),
		"GOFLAGS=", "GOTOOLCHAIN=local", "NO_COLOR=1",
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

	must("git", "init", "-q", "-b", "main")
	write(".pre-commit-config.yaml", "repos:\n  - repo: "+hooksRepo+"\n    rev: "+strings.TrimSpace(string(rev))+"\n    hooks:\n      - id: ova-lint-fix\n")
	must("git", "add", ".pre-commit-config.yaml")
	must("git", "commit", "-q", "--no-verify", "-m", "pre-commit config")
	must("pre-commit", "install")
	t.Log("installing the hook environment (go install in pre-commit's clone of the repository)...")
	must("pre-commit", "install-hooks")

	// a fixable finding (prune: false, with a comment that stays) and a clean neighbour
	broken := gitRepository("platform", "main", "") + "---\n" +
		"apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: apps\n  namespace: flux-system\n" +
		"spec:\n  interval: 10m\n  path: ./apps\n  prune: false # to be fixed\n  wait: true\n  healthChecks:\n" +
		"    - {apiVersion: v1, kind: ConfigMap, name: app, namespace: app}\n  sourceRef:\n    kind: GitRepository\n    name: platform\n"
	fixed := strings.Replace(broken, "prune: false # to be fixed", "prune: true # to be fixed", 1)
	write("clusters/fsn1/sync.yaml", broken)
	write("apps/configmap.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app\n  namespace: app\ndata:\n  k: v\n")
	must("git", "add", "clusters/fsn1/sync.yaml", "apps/configmap.yaml")
	out, err := sh("git", "commit", "-m", "apps")
	t.Logf("git commit:\n%s", out)
	require.Error(t, err, "a hook that fixes files fails the commit:\n%s", out)
	require.Contains(t, out, "Failed")
	require.Contains(t, out, "files were modified by this hook")

	raw, err := os.ReadFile(filepath.Join(repo, "clusters/fsn1/sync.yaml"))
	require.NoError(t, err)
	require.Equal(t, fixed, string(raw), "the fix is in the work tree")
	require.Equal(t, broken, must("git", "show", ":clusters/fsn1/sync.yaml"), "the index keeps what was staged")
	require.Equal(t, "clusters/fsn1/sync.yaml\n", must("git", "diff", "--name-only"), "the fix is left unstaged")

	must("git", "add", "clusters/fsn1/sync.yaml")
	out, err = sh("git", "commit", "-m", "apps, fixed")
	t.Logf("git commit:\n%s", out)
	require.NoError(t, err, "once the fix is staged the commit passes:\n%s", out)
	require.Contains(t, out, "Passed")
}
