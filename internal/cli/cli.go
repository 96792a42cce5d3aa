// Package cli wires ova-lint's commands to the linter: flags in, a report out, an exit code.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"

	"github.com/spf13/cobra"
)

// Exit codes.
const (
	ExitOK       = 0 // no error-severity finding
	ExitFindings = 1 // error findings (yaml-syntax included)
	ExitUsage    = 2 // usage error or unreadable input
)

// Version is set at build time with -ldflags "-X github.com/openova-io/ova-lint/internal/cli.Version=...".
var Version = ""

// IO holds the streams a command reads and writes, so tests run commands in-process.
type IO struct {
	In       io.Reader
	Out, Err io.Writer
	// IsTerminal reports whether Out is a terminal (colour).
	IsTerminal bool
}

// usageError marks an error that exits with ExitUsage.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

func usage(format string, args ...any) error { return usageError{fmt.Errorf(format, args...)} }

// exitError carries an exit code without a message (findings were already printed).
type exitError struct{ code int }

func (e exitError) Error() string { return fmt.Sprintf("exit %d", e.code) }

// Run executes ova-lint with args and returns the process exit code.
func Run(ctx context.Context, args []string, streams IO) int {
	root := newRoot(streams)
	root.SetArgs(args)
	root.SetIn(streams.In)
	root.SetOut(streams.Out)
	root.SetErr(streams.Err)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return ExitOK
	}
	var ee exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	fmt.Fprintf(streams.Err, "ova-lint: %v\n", err)
	return ExitUsage
}

func newRoot(streams IO) *cobra.Command {
	root := &cobra.Command{
		Use:           "ova-lint",
		Short:         "Policy and conformance linter for Flux/Gitea/ESO GitOps repositories",
		Long:          "ova-lint enforces the platform's GitOps invariants with one embedded Rego engine,\nin CI, in a pre-commit hook and as a validating admission webhook.",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	root.AddCommand(newLintCmd(streams), newRulesCmd(streams), newConfigCmd(streams), newVersionCmd(streams), newServeCmd(streams), newExplainCmd(streams), newGraphCmd(streams), newAuditCmd(streams))
	return root
}

func newVersionCmd(streams IO) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the ova-lint version",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			fmt.Fprintln(streams.Out, "ova-lint", version())
			return nil
		},
	}
}

func version() string {
	if Version != "" {
		return Version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}

// StdIO returns the process's streams.
func StdIO() IO {
	tty := false
	if fi, err := os.Stdout.Stat(); err == nil {
		tty = fi.Mode()&os.ModeCharDevice != 0
	}
	return IO{In: os.Stdin, Out: os.Stdout, Err: os.Stderr, IsTerminal: tty}
}
