package main

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// `samsa cluster remove-broker ID` decommissions a broker: it moves every
// replica the broker holds to another live broker
// (AlterPartitionReassignments), waits until no replica list names it,
// and unregisters it (UnregisterBroker).

// unregisterConfirmTimeout bounds how long remove-broker waits for the
// broker to leave DescribeCluster after UnregisterBroker succeeded.
const unregisterConfirmTimeout = 10 * time.Second

// parseBrokerID parses a broker id argument.
func parseBrokerID(s string) (int32, error) {
	id, err := strconv.ParseInt(strings.TrimSpace(s), 10, 32)
	if err != nil {
		return 0, fmt.Errorf("invalid broker id %q: want an integer", s)
	}
	if id < 0 {
		return 0, fmt.Errorf("invalid broker id %d: must not be negative", id)
	}
	return int32(id), nil
}

// planPartition is one partition's replica list as the plan starts from.
type planPartition struct {
	tp
	replicas []int32
}

// planMove replaces the removed broker in one partition's replicas.
type planMove struct {
	tp
	from, to []int32
}

// planBrokerRemoval replaces broker id in every replica list that names
// it by a live broker (registered, unfenced, not id) that does not already
// hold the partition, keeping the replica's position and so the replication
// factor and, unless id was first, the preferred leader. When racks are set
// it prefers a broker whose rack holds none of the partition's other
// replicas; then the broker with the fewest replicas (counting the moves
// planned so far); then the lowest id. It fails, naming them, if some
// partitions have no such broker.
func planBrokerRemoval(id int32, brokers []clusterBroker, parts []planPartition) ([]planMove, error) {
	rackOf := make(map[int32]string, len(brokers))
	racks := false
	var live []int32
	for _, b := range brokers {
		rackOf[b.id] = b.rack
		racks = racks || b.rack != ""
		if !b.fenced && b.id != id {
			live = append(live, b.id)
		}
	}
	slices.Sort(live)
	load := make(map[int32]int, len(live))
	for _, p := range parts {
		for _, r := range p.replicas {
			load[r]++
		}
	}
	parts = slices.Clone(parts)
	slices.SortFunc(parts, func(a, b planPartition) int { return compareTP(a.tp, b.tp) })

	var moves []planMove
	var stuck []string
	for _, p := range parts {
		at := slices.Index(p.replicas, id)
		if at < 0 {
			continue
		}
		usedRacks := make(map[string]bool)
		for _, r := range p.replicas {
			if r != id {
				usedRacks[rackOf[r]] = true
			}
		}
		var candidates []int32
		for _, b := range live {
			if !slices.Contains(p.replicas, b) {
				candidates = append(candidates, b)
			}
		}
		if len(candidates) == 0 {
			stuck = append(stuck, p.tp.String())
			continue
		}
		rackPenalty := func(b int32) int {
			if racks && usedRacks[rackOf[b]] {
				return 1
			}
			return 0
		}
		best := slices.MinFunc(candidates, func(a, b int32) int {
			return cmp.Or(cmp.Compare(rackPenalty(a), rackPenalty(b)), cmp.Compare(load[a], load[b]), cmp.Compare(a, b))
		})
		load[best]++
		to := slices.Clone(p.replicas)
		to[at] = best
		moves = append(moves, planMove{tp: p.tp, from: p.replicas, to: to})
	}
	if len(stuck) > 0 {
		liveText := "none"
		if len(live) > 0 {
			liveText = strings.Trim(int32List(live), "[]")
		}
		return nil, fmt.Errorf("cannot move %s off broker %d: every other live broker (%s) already holds a replica of %s; add a broker or lower the replication factor first",
			plural(int64(len(stuck)), "partition", "partitions"), id, liveText, pluralIt(len(stuck))+" "+strings.Join(firstN(stuck, 5), ", "))
	}
	return moves, nil
}

func pluralIt(n int) string {
	if n == 1 {
		return "it:"
	}
	return "each:"
}

func newClusterRemoveBrokerCmd(cf *clientFlags) *cobra.Command {
	var (
		dryRun      bool
		waitTimeout = defaultWaitTimeout
	)
	cmd := &cobra.Command{
		Use:   "remove-broker ID",
		Short: "Move a broker's replicas to other brokers, then unregister it",
		Long: `Decommission a broker: replace it in every replica list by another live
broker (rack-aware when brokers have broker.rack; the replication factor
stays), submit that as a partition reassignment, wait until no replica list
names the broker, and unregister it so it leaves the cluster.

Stop the broker's process as well (before or after): if it is started again
it registers again. Partitions whose only in-sync copy is on a stopped
broker cannot move until it is back. --dry-run prints the plan, as a table
and as Kafka's reassignment JSON, and changes nothing. --timeout bounds
each request; --wait-timeout bounds the wait for the replicas to move.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cmd.SilenceUsage = true
			id, err := parseBrokerID(args[0])
			if err != nil {
				return err
			}
			if waitTimeout <= 0 {
				return fmt.Errorf("invalid --wait-timeout %s: must be positive", waitTimeout)
			}
			cl, err := cf.newClient(cmd)
			if err != nil {
				return err
			}
			adm := cf.adminFor(cl)
			defer adm.Close()
			ctx, cancel := cf.requestContext(cmd)
			defer cancel()
			out, errOut := cmd.OutOrStdout(), cmd.ErrOrStderr()

			view, err := describeCluster(ctx, cl, adm)
			if err != nil {
				return fmt.Errorf("cannot list brokers: %s", cf.explain(cmd, err))
			}
			md, err := adm.Metadata(ctx)
			if err != nil {
				return fmt.Errorf("cannot list topics: %s", cf.explain(cmd, err))
			}
			ongoing, err := listReassignments(ctx, cl, adm, nil)
			if err != nil && !isUnsupported(err) {
				return fmt.Errorf("cannot list reassignments: %s", cf.explainAPI(cmd, err, "ListPartitionReassignments", kmsg.ListPartitionReassignments))
			}

			// A partition being reassigned is planned from its target
			// replicas (the current ones less those being removed).
			var parts []planPartition
			waitSet := make(kadm.TopicsSet)
			hosted := false
			for _, td := range md.Topics {
				for _, pd := range td.Partitions {
					p := planPartition{tp: tp{td.Topic, pd.Partition}, replicas: pd.Replicas}
					if slices.Contains(pd.Replicas, id) {
						hosted = true
					}
					if r, ok := ongoing[p.tp]; ok {
						p.replicas = slices.DeleteFunc(slices.Clone(r.Replicas), func(b int32) bool { return slices.Contains(r.RemovingReplicas, b) })
						if slices.Contains(r.Replicas, id) {
							waitSet.Add(p.topic, p.partition)
						}
					}
					parts = append(parts, p)
				}
			}
			target, known := view.broker(id)
			if !known && (view.withFenced || !hosted) {
				return fmt.Errorf("broker %d is not registered in the cluster (brokers: %s)", id, view.idList())
			}
			moves, err := planBrokerRemoval(id, view.brokers, parts)
			if err != nil {
				return err
			}
			for _, m := range moves {
				waitSet.Add(m.topic, m.partition)
			}

			if len(moves) == 0 {
				fmt.Fprintf(out, "broker %d holds no replicas to move\n", id)
			} else {
				tw := newTable(out)
				fmt.Fprintln(tw, "TOPIC\tPARTITION\tCURRENT\tNEW")
				for _, m := range moves {
					fmt.Fprintf(tw, "%s\t%d\t%s\t%s\n", m.topic, m.partition, int32List(m.from), int32List(m.to))
				}
				if err := tw.Flush(); err != nil {
					return err
				}
			}
			if known && target.fenced {
				for _, m := range moves {
					pd := md.Topics[m.topic].Partitions[m.partition]
					if !slices.ContainsFunc(pd.ISR, func(r int32) bool { b, ok := view.broker(r); return r != id && ok && !b.fenced }) {
						fmt.Fprintf(errOut, "warning: %s has no live in-sync replica besides broker %d, which is fenced: its move cannot finish until broker %d is back\n", m.tp, id, id)
					}
				}
			}
			if dryRun {
				if len(moves) > 0 {
					var plan []reassignTarget
					for _, m := range moves {
						plan = append(plan, reassignTarget{tp: m.tp, replicas: m.to})
					}
					fmt.Fprintf(out, "\nreassignment JSON (samsa partition reassign --file):\n%s\n", formatReassignmentJSON(plan))
				}
				fmt.Fprintf(out, "\ndry run: nothing changed; without --dry-run the replicas move and broker %d is then unregistered\n", id)
				return nil
			}

			if len(moves) > 0 {
				var req kadm.AlterPartitionAssignmentsReq
				for _, m := range moves {
					req.Assign(m.topic, m.partition, m.to)
				}
				resps, err := adm.AlterPartitionAssignments(ctx, req)
				if err != nil {
					return fmt.Errorf("cannot move the replicas of broker %d: %s", id, cf.explainAPI(cmd, err, "AlterPartitionReassignments", kmsg.AlterPartitionAssignments))
				}
				var failures []string
				for _, m := range moves {
					r, ok := resps[m.topic][m.partition]
					switch {
					case !ok:
						failures = append(failures, fmt.Sprintf("%s: the broker did not answer for it", m.tp))
					case r.Err != nil:
						failures = append(failures, fmt.Sprintf("%s: %s", m.tp, cf.explainKafka(cmd, r.Err, r.ErrMessage)))
					}
				}
				if len(failures) > 0 {
					msg := fmt.Sprintf("cannot move the replicas of broker %d: %s", id, strings.Join(firstN(failures, 5), "; "))
					if len(failures) < len(moves) {
						msg += "; the other partitions are moving (see samsa partition list-reassignments)"
					}
					return errors.New(msg)
				}
				fmt.Fprintf(out, "\nmoving %s off broker %d\n", plural(int64(len(moves)), "partition", "partitions"), id)
			}
			if err := cf.waitReassignments(cmd, cl, adm, waitTimeout, waitSet, nil, func(md kadm.Metadata) []string {
				return partitionsOn(md, id)
			}); err != nil {
				return err
			}
			if len(moves) > 0 {
				fmt.Fprintf(out, "broker %d holds no replicas any more\n", id)
			}

			uctx, ucancel := cf.requestContext(cmd)
			defer ucancel()
			ureq := kmsg.NewPtrUnregisterBrokerRequest()
			ureq.BrokerID = id
			uresp, err := ureq.RequestWith(uctx, cl)
			if err == nil {
				if uerr := kerr.ErrorForCode(uresp.ErrorCode); uerr != nil {
					err = &kadm.ErrAndMessage{Err: uerr, ErrMessage: derefString(uresp.ErrorMessage)}
				}
			}
			switch {
			case errors.Is(err, kerr.BrokerIDNotRegistered):
				fmt.Fprintf(out, "broker %d was already unregistered\n", id)
				return nil
			case err != nil:
				return fmt.Errorf("cannot unregister broker %d (its replicas have moved): %s", id, cf.explainAPI(cmd, err, "UnregisterBroker", kmsg.UnregisterBroker))
			}
			if err := confirmUnregistered(cmd, cf, cl, adm, id); err != nil {
				return err
			}
			fmt.Fprintf(out, "unregistered broker %d\n", id)
			return nil
		},
	}
	fs := cmd.Flags()
	fs.BoolVar(&dryRun, "dry-run", false, "print the plan and change nothing")
	fs.DurationVar(&waitTimeout, "wait-timeout", waitTimeout, "how long to wait for the replicas to move off the broker")
	return cmd
}

// partitionsOn lists the partitions whose replicas name broker id.
func partitionsOn(md kadm.Metadata, id int32) []string {
	var on []tp
	for _, td := range md.Topics {
		for _, pd := range td.Partitions {
			if slices.Contains(pd.Replicas, id) {
				on = append(on, tp{td.Topic, pd.Partition})
			}
		}
	}
	slices.SortFunc(on, compareTP)
	out := make([]string, len(on))
	for i, p := range on {
		out[i] = fmt.Sprintf("%s still has a replica on broker %d", p, id)
	}
	return out
}

// confirmUnregistered waits until DescribeCluster no longer lists broker
// id. A broker whose process still runs registers again.
func confirmUnregistered(cmd *cobra.Command, cf *clientFlags, cl *kgo.Client, adm *kadm.Client, id int32) error {
	deadline := time.Now().Add(unregisterConfirmTimeout)
	for {
		ctx, cancel := cf.requestContext(cmd)
		view, err := describeCluster(ctx, cl, adm)
		cancel()
		if err == nil && !view.has(id) {
			return nil
		}
		if time.Now().After(deadline) {
			if err != nil {
				return fmt.Errorf("unregistered broker %d, but cannot confirm it left the cluster: %s", id, cf.explain(cmd, err))
			}
			return fmt.Errorf("unregistered broker %d, but it is still listed: if its process is still running it registered again; stop it and run remove-broker %d again", id, id)
		}
		select {
		case <-commandContext(cmd).Done():
			return errors.New("interrupted")
		case <-time.After(reassignPollInterval):
		}
	}
}
