package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// The first SIGINT or SIGTERM asks for a clean stop (ctx ends); stop
	// then restores the default action, so a second one ends the process
	// at once, whatever the clean stop is still waiting for.
	context.AfterFunc(ctx, stop)
	root := newRootCmd()
	if err := root.ExecuteContext(ctx); err != nil {
		if !errors.Is(err, errSilent) {
			fmt.Fprintf(os.Stderr, "samsa: %v\n", err)
		}
		os.Exit(1)
	}
}
