package changed_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/openova-io/ova-lint/linter/changed"
	"github.com/openova-io/ova-lint/linter/config"
	"github.com/openova-io/ova-lint/linter/loader"
	"github.com/openova-io/ova-lint/linter/schema"
)

func TestSelect(t *testing.T) {
	root := filepath.Join("testdata", "tree")
	walked, err := loader.Walk(context.Background(), []string{root}, nil)
	require.NoError(t, err)
	cfg, err := config.Default()
	require.NoError(t, err)
	withHost, err := config.Parse([]byte("params: {gitea: {host: gitea.fsn1.example.org}}"))
	require.NoError(t, err)
	grouped, err := config.Parse([]byte(`params: {gitea: {group_pattern: 'clusters/([^/]+)/'}}`))
	require.NoError(t, err)

	schemaOn := &schema.Options{KubernetesVersion: cfg.KubernetesVersion, FluxVersion: cfg.FluxVersion}
	tests := []struct {
		name    string
		cfg     *config.Config
		changed []string
		want    []string
		schema  *schema.Options
	}{
		{"nothing", cfg, nil, nil, nil},
		{"not yaml", cfg, []string{"README.md"}, nil, nil},
		{"helm template is skipped", cfg, []string{"platform/billing/chart/templates/deployment.yaml"}, nil, nil},
		{"unrelated object", cfg, []string{"clusters/a/kustomization.yaml"}, []string{"clusters/a/kustomization.yaml"}, nil},
		{"blueprint pulls its chart", cfg, []string{"platform/billing/blueprint.yaml"},
			[]string{"platform/billing/blueprint.yaml", "platform/billing/chart/Chart.yaml"}, nil},
		{"chart pulls its blueprint", cfg, []string{"platform/billing/chart/Chart.yaml"},
			[]string{"platform/billing/blueprint.yaml", "platform/billing/chart/Chart.yaml"}, nil},
		{"relative chart path, both ways", cfg, []string{"platform/shared-chart/Chart.yaml"},
			[]string{"platform/other/blueprint.yaml", "platform/shared-chart/Chart.yaml"}, nil},
		{"remote chart ties nothing", cfg, []string{"platform/remote/blueprint.yaml"}, []string{"platform/remote/blueprint.yaml"}, nil},
		{"gitrepository pulls the others of its tree", cfg, []string{"clusters/a/sources.yaml"},
			[]string{"clusters/a/sources.yaml", "clusters/b/sources.yaml"}, nil},
		{"gitea.host set: each object on its own", withHost, []string{"clusters/a/sources.yaml"}, []string{"clusters/a/sources.yaml"}, nil},
		{"group_pattern: only its group", grouped, []string{"clusters/a/sources.yaml"}, []string{"clusters/a/sources.yaml"}, nil},
		{"a directory stands for its files", cfg, []string{"platform/other"},
			[]string{"platform/other/blueprint.yaml", "platform/shared-chart/Chart.yaml"}, nil},
		{"deleted or unknown path", cfg, []string{"gone.yaml"}, nil, nil},
		{"custom resource pulls its CRD", cfg, []string{"apps/widget.yaml"}, []string{"apps/widget.yaml", "crds/widget.yaml"}, schemaOn},
		{"CRD pulls its resources", cfg, []string{"crds/widget.yaml"}, []string{"apps/widget.yaml", "crds/widget.yaml"}, schemaOn},
		{"no CRD ties without the schema rule", cfg, []string{"apps/widget.yaml"}, []string{"apps/widget.yaml"}, nil},
		{"built-in schema: the vendored CRD is not pulled", withHost, []string{"clusters/a/sources.yaml"}, []string{"clusters/a/sources.yaml"}, schemaOn},
		{"built-in schema: the vendored CRD pulls nothing", cfg, []string{"crds/gitrepository.yaml"}, []string{"crds/gitrepository.yaml"}, schemaOn},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := changed.Select(walked.Files, tt.changed, tt.cfg, changed.Options{Schema: tt.schema})
			require.NoError(t, err)
			var rels []string
			for _, f := range got {
				rels = append(rels, f.Rel)
			}
			require.Equal(t, tt.want, rels)
		})
	}
}

func TestGitFiles(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git is not installed")
	}
	ctx := context.Background()
	dir := t.TempDir()
	run := func(args ...string) {
		t.Helper()
		cmd := exec.Command("git", args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.org", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.org", "GIT_CONFIG_GLOBAL=/dev/null")
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "%s", out)
	}
	write := func(name, content string) {
		t.Helper()
		p := filepath.Join(dir, name)
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(content), 0o644))
	}
	run("init", "-q", "-b", "main")
	write("a.yaml", "a: 1\n")
	write("gone.yaml", "g: 1\n")
	write(".gitignore", "ignored.yaml\n")
	run("add", ".")
	// before the first commit: the index is the change set
	root, err := changed.GitRoot(ctx, dir)
	require.NoError(t, err)
	files, err := changed.GitFiles(ctx, root, "")
	require.NoError(t, err)
	require.Equal(t, []string{".gitignore", "a.yaml", "gone.yaml"}, files)

	run("commit", "-q", "-m", "base")
	run("branch", "base")
	write("a.yaml", "a: 2\n")       // modified, unstaged
	write("dir/b.yaml", "b: 1\n")   // untracked
	write("ignored.yaml", "i: 1\n") // ignored
	write("c.yaml", "c: 1\n")
	run("add", "c.yaml") // staged
	run("rm", "-q", "gone.yaml")

	files, err = changed.GitFiles(ctx, root, "")
	require.NoError(t, err)
	require.Equal(t, []string{"a.yaml", "c.yaml", "dir/b.yaml"}, files)

	run("add", ".")
	run("commit", "-q", "-m", "change")
	files, err = changed.GitFiles(ctx, root, "base")
	require.NoError(t, err)
	require.Equal(t, []string{"a.yaml", "c.yaml", "dir/b.yaml"}, files)

	_, err = changed.GitFiles(ctx, root, "no-such-ref")
	require.Error(t, err)
}
