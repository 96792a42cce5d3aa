// Command ova-lint lints GitOps repositories against the platform's invariants and serves the
// same rules as a validating admission webhook.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/openova-io/ova-lint/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Run(ctx, os.Args[1:], cli.StdIO())
	stop()
	os.Exit(code)
}
