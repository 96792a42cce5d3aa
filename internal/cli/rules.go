package cli

import (
	"encoding/json"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/openova-io/ova-lint/internal/command"
	"github.com/openova-io/ova-lint/linter/config"
	"github.com/openova-io/ova-lint/linter/engine"
)

func newRulesCmd(streams IO) *cobra.Command {
	var f command.CommonFlags
	var format string
	cmd := &cobra.Command{
		Use:   "rules",
		Short: "List the rule catalogue (id, severity, scope, where it runs, title)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := f.Load(".")
			if err != nil {
				return err
			}
			eng, err := engine.New(cmd.Context(), engine.Options{PolicyDirs: f.PolicyDirs, Config: cfg})
			if err != nil {
				return command.Usage("%v", err)
			}
			switch format {
			case "json":
				enc := json.NewEncoder(streams.Out)
				enc.SetIndent("", "  ")
				return enc.Encode(eng.Rules())
			case "text":
				tw := tabwriter.NewWriter(streams.Out, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "ID\tSEVERITY\tSCOPE\tRUNS\tTITLE")
				for _, r := range eng.Rules() {
					sev := r.Severity
					if r.Disabled {
						sev = "disabled"
					}
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", r.ID, sev, r.Scope, runs(r), r.Title)
				}
				return tw.Flush()
			default:
				return command.Usage("unknown format %q (text, json)", format)
			}
		},
	}
	f.Register(cmd)
	cmd.Flags().StringVarP(&format, "format", "f", "text", "text or json")
	return cmd
}

// runs says where a rule runs: "cli+admission" or "cli-only".
func runs(r *engine.Rule) string {
	if r.RunsAt(engine.RunsAdmission) {
		return strings.Join(r.Runs, "+")
	}
	return "cli-only"
}

func newConfigCmd(streams IO) *cobra.Command {
	var f command.CommonFlags
	var defaults, schema bool
	cmd := &cobra.Command{
		Use:   "config",
		Short: "Print the effective configuration (defaults merged with " + ".ova-lint.yaml)",
		Long: "Print the effective configuration (defaults merged with .ova-lint.yaml), after checking the file\n" +
			"against the rule catalogue. --schema prints instead the JSON schema it is checked against (the\n" +
			"rule ids, and each parameter as its rules declare it), for editors such as yaml-language-server.",
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			if schema {
				cat, err := engine.Catalogue(f.PolicyDirs...)
				if err != nil {
					return command.Usage("%v", err)
				}
				enc := json.NewEncoder(streams.Out)
				enc.SetIndent("", "  ")
				return enc.Encode(config.SchemaDoc(cat))
			}
			cfg, err := f.Load(".")
			if err != nil {
				return err
			}
			if cfg.Source != "" {
				fmt.Fprintf(streams.Out, "# effective configuration: embedded defaults + %s\n", cfg.Source)
			} else {
				fmt.Fprintln(streams.Out, "# effective configuration: embedded defaults")
			}
			out, err := cfg.YAML()
			if err != nil {
				return err
			}
			_, err = streams.Out.Write(out)
			return err
		},
	}
	f.Register(cmd)
	cmd.Flags().BoolVar(&schema, "schema", false, "print the JSON schema of "+config.FileName+" instead")
	_ = defaults
	return cmd
}
