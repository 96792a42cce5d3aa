package cli

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/openova-io/ova-lint/linter"
	"github.com/openova-io/ova-lint/linter/config"
	"github.com/openova-io/ova-lint/linter/engine"
	"github.com/openova-io/ova-lint/linter/report"
)

// commonFlags are shared by the commands that build an engine.
type commonFlags struct {
	configFile string
	policyDirs []string
}

func (c *commonFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&c.configFile, "config", "", "configuration file (default: "+config.FileName+" found from the linted root upward, else the embedded defaults)")
	cmd.Flags().StringArrayVar(&c.policyDirs, "policy", nil, "extra directory of Rego rules (repeatable)")
}

// load returns the effective config for a run rooted at dir.
func (c *commonFlags) load(dir string) (*config.Config, error) {
	path := c.configFile
	if path == "" {
		found, err := config.Find(dir)
		if err != nil {
			return nil, usage("%v", err)
		}
		path = found
	}
	cfg, err := config.Load(path)
	if err != nil {
		return nil, usage("%v", err)
	}
	return cfg, nil
}

type lintFlags struct {
	commonFlags
	format  string
	exclude []string
	verbose bool
	color   string
}

func newLintCmd(streams IO) *cobra.Command {
	var f lintFlags
	cmd := &cobra.Command{
		Use:   "lint [PATH...]",
		Short: "Lint files and directories (default .; - reads standard input)",
		Long: "Lint YAML files and directories recursively. Exit status: 0 when no error-severity finding,\n" +
			"1 when there are error findings, 2 for a usage error or an unreadable path.",
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				args = []string{"."}
			}
			return runLint(cmd, streams, &f, args)
		},
	}
	f.register(cmd)
	cmd.Flags().StringVarP(&f.format, "format", "f", "text", "output format: text or json")
	cmd.Flags().StringArrayVar(&f.exclude, "exclude", nil, "glob of paths to skip (repeatable; ** allowed)")
	cmd.Flags().BoolVarP(&f.verbose, "verbose", "v", false, "also list info-severity findings in text output")
	cmd.Flags().StringVar(&f.color, "color", "auto", "colour text output: auto, always, never")
	return cmd
}

func runLint(cmd *cobra.Command, streams IO, f *lintFlags, paths []string) error {
	ctx := cmd.Context()
	write, err := report.Lookup(f.format)
	if err != nil {
		return usage("%v", err)
	}
	for _, p := range paths {
		if p == "-" {
			continue
		}
		if _, err := os.Stat(p); err != nil {
			return usage("cannot read %s: %v", p, err)
		}
	}
	root := paths[0]
	if root == "-" {
		root = "."
	}
	cfg, err := f.load(root)
	if err != nil {
		return err
	}
	cfg.Exclude = append(cfg.Exclude, f.exclude...)
	if err := cfg.Validate(); err != nil {
		return usage("%v", err)
	}
	eng, err := engine.New(ctx, engine.Options{PolicyDirs: f.policyDirs, Config: cfg})
	if err != nil {
		return usage("%v", err)
	}
	l := linter.New(eng, cfg, linter.Options{Stdin: streams.In})
	rep, err := l.Lint(ctx, paths)
	if err != nil {
		return usage("%v", err)
	}
	colour := f.color == "always" || (f.color == "auto" && streams.IsTerminal && os.Getenv("NO_COLOR") == "")
	opts := report.Options{Color: colour, Verbose: f.verbose, Rules: eng.Rules(), ToolVersion: version()}
	if err := write(streams.Out, rep, opts); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	if rep.Summary.Errors > 0 {
		return exitError{ExitFindings}
	}
	return nil
}
