// Package command holds what every ova-lint binary's commands share: the streams they use, the
// exit codes, the errors that choose one, the configuration and policy flags, and the version.
// It imports no linter, renderer or cluster client, so a binary of a few commands stays small.
package command

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"

	"github.com/spf13/cobra"

	"github.com/openova-io/ova-lint/linter/config"
	"github.com/openova-io/ova-lint/linter/engine"
)

// Exit codes.
const (
	ExitOK       = 0 // no error-severity finding
	ExitFindings = 1 // error findings (yaml-syntax included)
	ExitUsage    = 2 // usage error or unreadable input
)

// Version is set at build time with -ldflags "-X github.com/openova-io/ova-lint/internal/command.Version=...".
var Version = ""

// IO holds the streams a command reads and writes, so tests run commands in-process.
type IO struct {
	In       io.Reader
	Out, Err io.Writer
	// IsTerminal reports whether Out is a terminal (colour).
	IsTerminal bool
}

// StdIO returns the process's streams.
func StdIO() IO {
	tty := false
	if fi, err := os.Stdout.Stat(); err == nil {
		tty = fi.Mode()&os.ModeCharDevice != 0
	}
	return IO{In: os.Stdin, Out: os.Stdout, Err: os.Stderr, IsTerminal: tty}
}

// UsageError marks an error that exits with ExitUsage.
type UsageError struct{ Err error }

func (e UsageError) Error() string { return e.Err.Error() }
func (e UsageError) Unwrap() error { return e.Err }

// Usage returns a UsageError with a formatted message.
func Usage(format string, args ...any) error {
	return UsageError{Err: fmt.Errorf(format, args...)}
}

// ExitError carries an exit code without a message (findings were already printed).
type ExitError struct{ Code int }

func (e ExitError) Error() string { return fmt.Sprintf("exit %d", e.Code) }

// Execute runs root with args and returns the process exit code: ExitOK, an ExitError's code,
// or ExitUsage after printing any other error as "name: error".
func Execute(ctx context.Context, root *cobra.Command, args []string, streams IO) int {
	root.SilenceUsage, root.SilenceErrors = true, true
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return UsageError{Err: err} })
	root.SetArgs(args)
	root.SetIn(streams.In)
	root.SetOut(streams.Out)
	root.SetErr(streams.Err)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return ExitOK
	}
	var ee ExitError
	if errors.As(err, &ee) {
		return ee.Code
	}
	fmt.Fprintf(streams.Err, "%s: %v\n", root.Name(), err)
	return ExitUsage
}

// NewVersionCmd is the version command: the binary's name and VersionString.
func NewVersionCmd(streams IO, name string) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the " + name + " version",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			fmt.Fprintln(streams.Out, name, VersionString())
			return nil
		},
	}
}

// VersionString is Version, else the module version the binary was built from, else "dev".
func VersionString() string {
	if Version != "" {
		return Version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}

// CommonFlags are shared by the commands that build an engine: the configuration file and the
// extra policy directories.
type CommonFlags struct {
	ConfigFile string
	PolicyDirs []string
}

// Register adds --config and --policy to cmd.
func (c *CommonFlags) Register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&c.ConfigFile, "config", "", "configuration file (default: "+config.FileName+" found from the linted root upward, else the embedded defaults)")
	cmd.Flags().StringArrayVar(&c.PolicyDirs, "policy", nil, "extra directory of Rego rules (repeatable)")
}

// Load returns the effective config for a run rooted at dir. Its errors are UsageErrors; an
// invalid file's keeps the *config.Error.
func (c *CommonFlags) Load(dir string) (*config.Config, error) {
	path := c.ConfigFile
	if path == "" {
		found, err := config.Find(dir)
		if err != nil {
			return nil, Usage("%v", err)
		}
		path = found
	}
	if path == "" {
		return config.Default()
	}
	// the file is checked against the rule catalogue: unknown rule ids and parameters, and
	// parameter values that do not fit their rule's schema, are errors (exit 2)
	cat, err := engine.Catalogue(c.PolicyDirs...)
	if err != nil {
		return nil, Usage("%v", err)
	}
	cfg, err := config.LoadWith(path, cat)
	if err != nil {
		return nil, UsageError{Err: err}
	}
	return cfg, nil
}
