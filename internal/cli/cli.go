// Package cli wires ova-lint's commands to the linter: flags in, a report out, an exit code.
package cli

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/openova-io/ova-lint/internal/command"
	"github.com/openova-io/ova-lint/internal/serve"
)

// Exit codes (command's).
const (
	ExitOK       = command.ExitOK
	ExitFindings = command.ExitFindings
	ExitUsage    = command.ExitUsage
)

// IO holds the streams a command reads and writes, so tests run commands in-process.
type IO = command.IO

// Run executes ova-lint with args and returns the process exit code.
func Run(ctx context.Context, args []string, streams IO) int {
	return command.Execute(ctx, newRoot(streams), args, streams)
}

func newRoot(streams IO) *cobra.Command {
	root := &cobra.Command{
		Use:   "ova-lint",
		Short: "Policy and conformance linter for Flux/Gitea/ESO GitOps repositories",
		Long:  "ova-lint enforces the platform's GitOps invariants with one embedded Rego engine,\nin CI, in a pre-commit hook and as a validating admission webhook.",
	}
	root.AddCommand(newLintCmd(streams), newRulesCmd(streams), newConfigCmd(streams), command.NewVersionCmd(streams, "ova-lint"), serve.NewCommand(streams), newExplainCmd(streams), newGraphCmd(streams), newAuditCmd(streams))
	return root
}

// StdIO returns the process's streams.
func StdIO() IO { return command.StdIO() }
