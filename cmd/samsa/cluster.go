package main

import (
	"cmp"
	"fmt"
	"net"
	"slices"
	"strconv"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kadm"
)

// newClusterCmd returns `samsa cluster`, the parent of cluster-wide
// commands: info, brokers, quorum and remove-broker here, start-local in
// cluster_local.go.
func newClusterCmd() *cobra.Command {
	cf := &clientFlags{}
	cmd := &cobra.Command{
		Use:   "cluster",
		Short: "Inspect the cluster: brokers, controller quorum; remove brokers",
		Args:  cobra.NoArgs,
	}
	cf.register(cmd)
	cmd.AddCommand(newClusterInfoCmd(cf))
	cmd.AddCommand(newClusterBrokersCmd(cf))
	cmd.AddCommand(newClusterQuorumCmd(cf))
	cmd.AddCommand(newClusterRemoveBrokerCmd(cf))
	cmd.AddCommand(newClusterStartLocalCmd())
	return cmd
}

func newClusterInfoCmd(cf *clientFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "info",
		Short: "Show the cluster id, controller, brokers and topic count",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cmd.SilenceUsage = true
			adm, err := cf.newAdmin(cmd)
			if err != nil {
				return err
			}
			defer adm.Close()
			ctx, cancel := cf.requestContext(cmd)
			defer cancel()

			md, err := adm.Metadata(ctx)
			if err != nil {
				return fmt.Errorf("cannot describe the cluster: %s", cf.explain(cmd, err))
			}
			topics, internal := 0, 0
			for _, td := range md.Topics {
				if td.IsInternal {
					internal++
				} else {
					topics++
				}
			}
			out := cmd.OutOrStdout()
			tw := newTable(out)
			clusterID := md.Cluster
			if clusterID == "" {
				clusterID = "-"
			}
			fmt.Fprintf(tw, "CLUSTER\t%s\n", clusterID)
			fmt.Fprintf(tw, "CONTROLLER\t%s\n", brokerID(md.Controller))
			if internal > 0 {
				fmt.Fprintf(tw, "TOPICS\t%d (+%d internal)\n", topics, internal)
			} else {
				fmt.Fprintf(tw, "TOPICS\t%d\n", topics)
			}
			if err := tw.Flush(); err != nil {
				return err
			}

			fmt.Fprintf(out, "\nBROKERS\n")
			tw = newTable(out)
			fmt.Fprintln(tw, "ID\tHOST:PORT\tRACK")
			brokers := slices.Clone(md.Brokers)
			slices.SortFunc(brokers, func(a, b kadm.BrokerDetail) int { return cmp.Compare(a.NodeID, b.NodeID) })
			for _, b := range brokers {
				rack := "-"
				if b.Rack != nil && *b.Rack != "" {
					rack = *b.Rack
				}
				fmt.Fprintf(tw, "%d\t%s\t%s\n", b.NodeID, net.JoinHostPort(b.Host, strconv.Itoa(int(b.Port))), rack)
			}
			return tw.Flush()
		},
	}
}
