// Command ova-lint-webhook is ova-lint's admission webhook alone: `ova-lint-webhook serve` is
// `ova-lint serve` (the same command, engine, rules and flags) without the linter's renderers
// (Helm, kustomize) and its other commands. The container image runs it: it maps a fraction of
// ova-lint's pages (docs/performance.md, "The webhook's memory").
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/openova-io/ova-lint/internal/command"
	"github.com/openova-io/ova-lint/internal/serve"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	streams := command.StdIO()
	root := &cobra.Command{
		Use:   "ova-lint-webhook",
		Short: "ova-lint's rules as a validating admission webhook (the serve command of ova-lint alone)",
	}
	root.AddCommand(serve.NewCommand(streams), command.NewVersionCmd(streams, "ova-lint-webhook"))
	code := command.Execute(ctx, root, os.Args[1:], streams)
	stop()
	os.Exit(code)
}
