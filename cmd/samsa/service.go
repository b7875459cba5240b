package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kgo"
)

// serviceClient resolves the client flags of a service command (`samsa
// registry`, `samsa rest`): its seed brokers and the franz-go options
// (dial timeout, TLS and SASL) its Kafka clients start with.
func (f *clientFlags) serviceClient(cmd *cobra.Command, extra ...kgo.Opt) ([]string, []kgo.Opt, error) {
	if err := f.validate(); err != nil {
		return nil, nil, err
	}
	seeds, err := f.seeds(cmd)
	if err != nil {
		return nil, nil, err
	}
	sec, err := f.security(cmd)
	if err != nil {
		return nil, nil, err
	}
	opts := append(append(extra, kgo.DialTimeout(f.timeout)), sec.opts()...)
	return seeds, opts, nil
}

// service is what a service command runs.
type service interface {
	Start(context.Context) error
	URL() string
	Close() error
}

// runService starts svc, prints where it serves, and runs it until the
// command is interrupted.
func runService(cmd *cobra.Command, name string, svc service) error {
	if err := svc.Start(cmd.Context()); err != nil {
		return err
	}
	fmt.Fprintf(cmd.OutOrStdout(), "%s at %s\n", name, svc.URL())
	<-commandContext(cmd).Done()
	return svc.Close()
}
