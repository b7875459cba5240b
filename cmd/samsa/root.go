package main

import (
	"errors"

	"github.com/spf13/cobra"
)

// errSilent is returned by a command that has already told the user what went
// wrong; main exits non-zero without printing it again.
var errSilent = errors.New("silent")

func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:           "samsa",
		Short:         "Samsa: a Kafka-compatible streaming platform in one binary",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(
		newServeCmd(),
		newTopicCmd(),
		newProduceCmd(),
		newConsumeCmd(),
		newClusterCmd(),
		newPartitionCmd(),
		newGroupCmd(),
		newExporterCmd(),
		newRegistryCmd(),
		newRESTCmd(),
		newConnectCmd(),
		newTxnCmd(),
		newBenchCmd(),
		newUserCmd(),
		newACLCmd(),
		newQuotaCmd(),
		newClientConfigHelpCmd(),
	)
	return root
}
