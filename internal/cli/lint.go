package cli

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"
	"sigs.k8s.io/yaml"

	"github.com/openova-io/ova-lint/internal/command"
	"github.com/openova-io/ova-lint/linter"
	"github.com/openova-io/ova-lint/linter/cache"
	"github.com/openova-io/ova-lint/linter/changed"
	"github.com/openova-io/ova-lint/linter/config"
	"github.com/openova-io/ova-lint/linter/engine"
	"github.com/openova-io/ova-lint/linter/finding"
	"github.com/openova-io/ova-lint/linter/loader"
	"github.com/openova-io/ova-lint/linter/report"
	"github.com/openova-io/ova-lint/linter/schema"
	"github.com/openova-io/ova-lint/linter/treeindex"
)

type lintFlags struct {
	command.CommonFlags
	formats      []string
	exclude      []string
	verbose      bool
	color        string
	failOn       string
	reportUnused bool
	changed      bool
	base         string
	kubeVersion  string
	fluxVersion  string
	noSchema     bool
	cpuProfile   string
	render       string
	root         string
	substitute   []string
	substFrom    []string
	fix          bool
	diff         bool
	cacheDir     string
	noCache      bool
}

// cacheOptions turns on the result cache unless --no-cache. The cache is identified by the
// program's version (and, for a build that is not a release, the executable itself) and by the
// sources of the --policy directories; a cache that cannot be used is a warning, never an error.
func (f *lintFlags) cacheOptions(streams IO) (*linter.CacheOptions, error) {
	if f.noCache {
		return nil, nil
	}
	dir := f.cacheDir
	if dir == "" {
		var err error
		if dir, err = cache.DefaultDir(); err != nil {
			fmt.Fprintf(streams.Err, "ova-lint: warning: no result cache: %v\n", err)
			return nil, nil
		}
	}
	policies, err := linter.PolicyIdentity(f.PolicyDirs)
	if err != nil {
		return nil, command.Usage("%v", err)
	}
	v := command.VersionString()
	identity := v + "\n" + policies
	if !releaseVersion(v) {
		identity += "\n" + linter.ExecutableIdentity()
	}
	return &linter.CacheOptions{Dir: dir, Identity: identity, Report: func(_ cache.Stats, err error) {
		if err != nil {
			fmt.Fprintf(streams.Err, "ova-lint: warning: result cache: %v\n", err)
		}
	}}, nil
}

// compile builds the engine of cfg on another goroutine; the returned func waits for it. With
// the result cache the engine is lazy: a run whose results all come from the cache never
// compiles the rules (the linter starts compiling them once it sees files to lint), unless the
// tree index is empty (a first run lints every file: the rules compile while the tree is
// walked).
func (f *lintFlags) compile(ctx context.Context, cfg *config.Config, index func() *treeindex.Index) func() (*engine.Engine, error) {
	type built struct {
		eng *engine.Engine
		err error
	}
	done := make(chan built, 1)
	go func() {
		eng, err := engine.New(ctx, engine.Options{PolicyDirs: f.PolicyDirs, Config: cfg, Lazy: !f.noCache})
		if err == nil && !f.noCache && index().Empty() {
			err = eng.Prepare()
		}
		done <- built{eng, err}
	}()
	return func() (*engine.Engine, error) {
		b := <-done
		return b.eng, b.err
	}
}

// indexScope names the tree index of a run: the program and rules (what a recorded Flux pin
// means), the working directory and the paths (what the index's relative paths mean).
func indexScope(identity, root string, paths []string) string {
	cwd, _ := os.Getwd()
	return strings.Join(append([]string{identity, cwd, root}, paths...), "\n")
}

// releaseVersion reports whether v names one released build ("v1.2.3", not "dev",
// "(devel)" or a dirty git describe).
func releaseVersion(v string) bool {
	return strings.HasPrefix(v, "v") && !strings.Contains(v, "dirty") && !strings.Contains(v, "devel")
}

func newLintCmd(streams IO) *cobra.Command {
	var f lintFlags
	cmd := &cobra.Command{
		Use:   "lint [PATH...]",
		Short: "Lint files and directories (default .; - reads standard input)",
		Long: "Lint YAML files and directories recursively.\n\n" +
			"Exit status: 0 when nothing reaches the --fail-on threshold, 1 when a finding does, 2 for a\n" +
			"usage error or an unreadable path.\n\n" +
			"Formats (" + strings.Join(report.Formats(), ", ") + "): --format NAME writes to standard output,\n" +
			"--format NAME=FILE to a file; repeat the flag for several in one run, e.g.\n" +
			"  ova-lint lint --format sarif=ova-lint.sarif --format text\n\n" +
			"Partial runs (pre-commit, pull requests): --changed lints the given paths, or without paths\n" +
			"the files git reports as changed (against --base REF: the changes since the merge base),\n" +
			"plus the files that repo-scope rules tie to them (a Blueprint and its Chart.yaml, the\n" +
			"GitRepositories of one Gitea group).",
		RunE: func(cmd *cobra.Command, args []string) error {
			return runLint(cmd, streams, &f, args)
		},
	}
	f.Register(cmd)
	cmd.Flags().StringArrayVarP(&f.formats, "format", "f", []string{"text"}, "output format NAME or NAME=FILE (repeatable): "+strings.Join(report.Formats(), ", "))
	cmd.Flags().StringArrayVar(&f.exclude, "exclude", nil, "glob of paths to skip (repeatable; ** allowed)")
	cmd.Flags().BoolVarP(&f.verbose, "verbose", "v", false, "also list info-severity findings in text output")
	cmd.Flags().StringVar(&f.color, "color", "auto", "colour text output: auto, always, never")
	cmd.Flags().StringVar(&f.failOn, "fail-on", report.FailOnError, "exit 1 on findings of this severity or worse: error, warning, never")
	cmd.Flags().BoolVar(&f.reportUnused, "report-unused-waivers", false, "report waivers that exempt nothing (waiver-unused)")
	cmd.Flags().BoolVar(&f.changed, "changed", false, "lint only changed files (the PATHs, or git's changes) and the files tied to them")
	cmd.Flags().StringVar(&f.kubeVersion, "kubernetes-version", "", "Kubernetes schemas to validate against (default from config: 1.31; or 1.36)")
	cmd.Flags().StringVar(&f.fluxVersion, "flux-version", "", "Flux version to judge Flux objects by, 2.4 to 2.9 (default: fluxVersion of the config, else the version the tree pins, else 2.4)")
	cmd.Flags().BoolVar(&f.noSchema, "no-schema", false, "skip schema validation (the schema rule)")
	cmd.Flags().StringVar(&f.render, "render", "auto", "build Kustomizations and render HelmReleases and lint what Flux applies: auto (when the tree holds Flux objects or kustomize roots) or off")
	cmd.Flags().StringVar(&f.root, "root", "", "repository root that Kustomization paths and chart paths resolve against (default: the deepest directory holding every PATH)")
	cmd.Flags().StringArrayVar(&f.substitute, "substitute", nil, "KEY=VALUE for a postBuild variable that exists only in the cluster (repeatable; inline substitute and substituteFrom in the tree win)")
	cmd.Flags().StringArrayVar(&f.substFrom, "substitute-from", nil, "YAML or .env file of KEY: VALUE variables that exist only in the cluster, or a ConfigMap/Secret manifest (repeatable)")
	cmd.Flags().BoolVar(&f.fix, "fix", false, "apply the mechanical fixes of the findings in place, then lint again and report what remains (waived findings are not fixed)")
	cmd.Flags().BoolVar(&f.diff, "diff", false, "with --fix: print the fixes as a unified diff (paths relative to the repository root) and write nothing; reports go to --format NAME=FILE only")
	cmd.Flags().StringVar(&f.cacheDir, "cache-dir", "", "keep each file's results here between runs, keyed by its content and the rules, configuration and schema versions (default: ova-lint/results under the user cache directory, e.g. ~/.cache)")
	cmd.Flags().BoolVar(&f.noCache, "no-cache", false, "lint every file again: neither read nor write the result cache")
	cmd.Flags().StringVar(&f.cpuProfile, "cpuprofile", "", "write a CPU profile of the run to this file (go tool pprof)")
	_ = cmd.Flags().MarkHidden("cpuprofile")
	cmd.Flags().StringVar(&f.base, "base", "", "with --changed: lint the changes since the merge base of REF and HEAD (implies --changed)")
	return cmd
}

// output is one --format: a writer and where it writes ("" for standard output).
type output struct {
	name, path string
	write      report.Writer
}

func parseOutputs(specs []string) ([]output, error) {
	var outs []output
	stdout := 0
	for _, spec := range specs {
		name, path, hasPath := strings.Cut(spec, "=")
		name = strings.TrimSpace(name)
		w, err := report.Lookup(name)
		if err != nil {
			return nil, command.Usage("--format %s: %v", spec, err)
		}
		if hasPath && path == "" {
			return nil, command.Usage("--format %s: empty file name", spec)
		}
		if path == "-" {
			path = ""
		}
		if path == "" {
			stdout++
		}
		outs = append(outs, output{name: name, path: path, write: w})
	}
	if stdout > 1 {
		return nil, command.Usage("--format: at most one format writes to standard output; give the others a file (NAME=FILE)")
	}
	return outs, nil
}

func runLint(cmd *cobra.Command, streams IO, f *lintFlags, paths []string) error {
	ctx := cmd.Context()
	stopProfile, err := command.StartCPUProfile(f.cpuProfile)
	if err != nil {
		return err
	}
	defer stopProfile()
	outs, err := parseOutputs(f.formats)
	if err != nil {
		return err
	}
	switch f.failOn {
	case report.FailOnError, report.FailOnWarning, report.FailOnNever:
	default:
		return command.Usage("--fail-on %q: want error, warning or never", f.failOn)
	}
	if f.base != "" {
		f.changed = true
	}
	for _, p := range paths {
		if p == "-" {
			if f.fix || f.diff {
				return command.Usage("--fix cannot write standard input")
			}
			if f.changed {
				return command.Usage("--changed cannot read standard input")
			}
			continue
		}
		if _, err := os.Stat(p); err != nil && !f.changed {
			return command.Usage("cannot read %s: %v", p, err)
		}
	}

	cacheOpts, err := f.cacheOptions(streams)
	if err != nil {
		return err
	}
	// the tree index: an unchanged directory is not listed again, an unchanged file not read. It
	// is read on its own goroutine while the configuration loads; index waits for it (nil
	// without the cache: its methods then read the tree).
	index := func() *treeindex.Index { return nil }
	if cacheOpts != nil {
		opened := make(chan *treeindex.Index, 1)
		start := time.Now()
		go func() {
			ix, err := treeindex.Open(cacheOpts.Dir, indexScope(cacheOpts.Identity, f.root, paths), start)
			if err != nil {
				fmt.Fprintf(streams.Err, "ova-lint: warning: result cache: %v\n", err)
			}
			opened <- ix
		}()
		index = sync.OnceValue(func() *treeindex.Index {
			ix := <-opened
			cacheOpts.Index = ix
			return ix
		})
		defer func() {
			if err := index().Close(); err != nil {
				fmt.Fprintf(streams.Err, "ova-lint: warning: result cache: %v\n", err)
			}
		}()
	}

	var (
		cfg        *config.Config
		schemaOpts *schema.Options
		files      []loader.File
		skip       int
		linted     []loader.File // the files of the run, for --fix
		walked     loader.WalkResult
		compiled   func() (*engine.Engine, error)
	)
	if f.changed {
		index()
		cfg, schemaOpts, files, err = f.selectChanged(cmd, paths)
	} else {
		if len(paths) == 0 {
			paths = []string{"."}
		}
		root := paths[0]
		if root == "-" {
			root = "."
		}
		if cfg, err = f.Load(root); err == nil {
			cfg.Exclude = append(cfg.Exclude, f.exclude...)
			if err = cfg.Validate(); err != nil {
				err = command.Usage("%v", err)
			}
		}
		if err == nil {
			schemaOpts, err = f.schemaOptions(cfg)
		}
		if err == nil {
			// the rules compile while the tree is walked
			compiled = f.compile(ctx, cfg, index)
			if walked, err = loader.WalkWith(ctx, f.root, paths, cfg.Exclude, index().ReadDir); err != nil {
				err = command.Usage("%v", err)
			}
			linted = walked.Files
		}
	}
	if err != nil {
		return err
	}

	if compiled == nil {
		compiled = f.compile(ctx, cfg, index)
	}
	eng, err := compiled()
	if err != nil {
		return command.Usage("%v", err)
	}
	mode := linter.RenderMode(f.render)
	if mode != linter.RenderAuto && mode != linter.RenderOff {
		return command.Usage("--render %q: want auto or off", f.render)
	}
	vars, err := substitutions(f.substitute, f.substFrom)
	if err != nil {
		return err
	}
	l := linter.New(eng, cfg, linter.Options{
		Schema:              schemaOpts,
		Stdin:               streams.In,
		Partial:             f.changed,
		ReportUnusedWaivers: f.reportUnused,
		Render:              mode,
		Root:                f.root,
		Substitute:          vars,
		Cache:               cacheOpts,
	})
	lintOnce := func() (*finding.Report, error) {
		if f.changed {
			return l.LintFiles(ctx, files, skip)
		}
		return l.LintWalked(ctx, paths, walked)
	}
	rep, err := lintOnce()
	if err != nil {
		return command.Usage("%v", err)
	}
	if f.changed {
		linted = files
	}
	if schemaOpts != nil && rep.Summary.FluxVersion != "" {
		// the Flux version the run used (the tree's pin, when the user set none) judges fixes too
		o := *schemaOpts
		o.FluxVersion = rep.Summary.FluxVersion
		schemaOpts = &o
	}
	fixOpts := fixOptions(schemaOpts)
	if f.fix || f.diff {
		relint := func() (*finding.Report, error) {
			rep, err := lintOnce()
			if err != nil {
				return nil, command.Usage("%v", err)
			}
			return rep, nil
		}
		if rep, err = f.applyFixes(streams, rep, linted, fixOpts, relint); err != nil {
			return err
		}
	}
	for _, o := range outs {
		if o.name == "sarif" {
			planReplacements(rep, linted, fixOpts)
			break
		}
	}

	colour := f.color == "always" || (f.color == "auto" && streams.IsTerminal && os.Getenv("NO_COLOR") == "")
	for _, o := range outs {
		if f.diff && o.path == "" {
			continue // the diff is standard output's
		}
		opts := report.Options{Verbose: f.verbose, Rules: eng.Rules(), ToolVersion: command.VersionString(), FailOn: f.failOn}
		if err := writeOutput(streams.Out, o, rep, opts, colour); err != nil {
			return err
		}
	}
	if report.Failed(rep.Summary, f.failOn) {
		return command.ExitError{Code: ExitFindings}
	}
	return nil
}

// schemaOptions applies --kubernetes-version and --flux-version to cfg and returns the options
// of the schema rule, nil with --no-schema.
func (f *lintFlags) schemaOptions(cfg *config.Config) (*schema.Options, error) {
	if f.kubeVersion != "" {
		cfg.KubernetesVersion = f.kubeVersion
	}
	if f.fluxVersion != "" {
		cfg.FluxVersion = f.fluxVersion
		cfg.FluxVersionFrom = "set by --flux-version"
	}
	if f.noSchema {
		return nil, nil
	}
	opts := &schema.Options{KubernetesVersion: cfg.KubernetesVersion, FluxVersion: cfg.FluxVersion}
	if _, err := schema.New(*opts); err != nil {
		return nil, command.Usage("%v", err)
	}
	return opts, nil
}

func writeOutput(stdout io.Writer, o output, rep *finding.Report, opts report.Options, colour bool) error {
	if o.path == "" {
		opts.Color = colour && o.name == "text"
		if err := o.write(stdout, rep, opts); err != nil {
			return fmt.Errorf("write %s report: %w", o.name, err)
		}
		return nil
	}
	var buf bytes.Buffer
	if err := o.write(&buf, rep, opts); err != nil {
		return fmt.Errorf("write %s report: %w", o.name, err)
	}
	if dir := filepath.Dir(o.path); dir != "." {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return command.Usage("write %s report: %v", o.name, err)
		}
	}
	if err := os.WriteFile(o.path, buf.Bytes(), 0o644); err != nil {
		return command.Usage("write %s report: %v", o.name, err)
	}
	return nil
}

// selectChanged finds the files of a partial run: the changed paths (given, or from git) plus
// the files tied to them, found in one walk of the work tree's root.
func (f *lintFlags) selectChanged(cmd *cobra.Command, paths []string) (*config.Config, *schema.Options, []loader.File, error) {
	ctx := cmd.Context()
	if f.base != "" && len(paths) > 0 {
		return nil, nil, nil, command.Usage("--base takes the changed files from git: give no PATH")
	}
	root, gitErr := changed.GitRoot(ctx, ".")
	if gitErr != nil {
		if len(paths) == 0 {
			return nil, nil, nil, command.Usage("--changed without PATHs needs a git work tree: %v", gitErr)
		}
		root = "."
	}
	var rels []string
	if len(paths) > 0 {
		for _, p := range paths {
			rel, err := changed.Rel(root, p)
			if err != nil {
				return nil, nil, nil, command.Usage("--changed: %v", err)
			}
			rels = append(rels, rel)
		}
	} else {
		var err error
		if rels, err = changed.GitFiles(ctx, root, f.base); err != nil {
			return nil, nil, nil, command.Usage("--changed: %v", err)
		}
	}
	cfg, err := f.Load(root)
	if err != nil {
		return nil, nil, nil, err
	}
	cfg.Exclude = append(cfg.Exclude, f.exclude...)
	if err := cfg.Validate(); err != nil {
		return nil, nil, nil, command.Usage("%v", err)
	}
	schemaOpts, err := f.schemaOptions(cfg)
	if err != nil {
		return nil, nil, nil, err
	}
	// findings show paths relative to the working directory, rules see them relative to root
	walked, err := loader.Walk(ctx, []string{root}, cfg.Exclude)
	if err != nil {
		return nil, nil, nil, command.Usage("%v", err)
	}
	files, err := changed.Select(walked.Files, rels, cfg, changed.Options{Schema: schemaOpts})
	if err != nil {
		return nil, nil, nil, command.Usage("%v", err)
	}
	return cfg, schemaOpts, files, nil
}

// substitutions reads --substitute KEY=VALUE and --substitute-from files: a YAML mapping of
// variables, a ConfigMap or Secret manifest (its data), or a .env file of KEY=VALUE lines.
func substitutions(pairs, files []string) (map[string]string, error) {
	out := map[string]string{}
	for _, file := range files {
		raw, err := os.ReadFile(file)
		if err != nil {
			return nil, command.Usage("--substitute-from: %v", err)
		}
		var m map[string]any
		if yaml.Unmarshal(raw, &m) == nil && m != nil {
			if data, ok := m["data"].(map[string]any); ok && m["kind"] != nil {
				m = data
				if m2, ok := m["stringData"].(map[string]any); ok {
					m = m2
				}
			}
			for k, v := range m {
				out[k] = fmt.Sprint(v)
			}
			continue
		}
		for _, line := range strings.Split(string(raw), "\n") {
			line = strings.TrimSpace(line)
			if line == "" || strings.HasPrefix(line, "#") {
				continue
			}
			k, v, ok := strings.Cut(line, "=")
			if !ok {
				return nil, command.Usage("--substitute-from %s: %q is neither YAML nor KEY=VALUE", file, line)
			}
			out[strings.TrimSpace(k)] = strings.TrimSpace(v)
		}
	}
	for _, p := range pairs {
		k, v, ok := strings.Cut(p, "=")
		if !ok || k == "" {
			return nil, command.Usage("--substitute %q: want KEY=VALUE", p)
		}
		out[k] = v
	}
	return out, nil
}
