package main

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
)

// newTxnCmd returns `samsa txn` with list, describe and abort, the
// counterparts of kafka-transactions.sh.
func newTxnCmd() *cobra.Command {
	cf := &clientFlags{}
	cmd := &cobra.Command{
		Use:     "txn",
		Aliases: []string{"transactions"},
		Short:   "List and describe transactions; abort a hanging transaction",
		Args:    cobra.NoArgs,
	}
	cf.register(cmd)
	cmd.AddCommand(newTxnListCmd(cf), newTxnDescribeCmd(cf), newTxnAbortCmd(cf))
	return cmd
}

// txnRow is one transactional id as list and describe show it.
type txnRow struct {
	id          string
	coordinator int32
	producerID  int64
	epoch       int16 // -1: not described
	state       string
	timeoutMs   int32
	startMs     int64 // -1: no transaction in progress
	partitions  kadm.TopicsSet
	err         error
}

// duration is how long the transaction has been open at now, or "-".
func (r txnRow) duration(now time.Time) string {
	if r.startMs < 0 || r.state == "Empty" || strings.HasPrefix(r.state, "Complete") || r.state == "Dead" {
		return "-"
	}
	d := now.Sub(time.UnixMilli(r.startMs))
	if d < 0 {
		d = 0
	}
	return d.Round(time.Millisecond).String()
}

func newTxnListCmd(cf *clientFlags) *cobra.Command {
	var states []string
	cmd := &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List transactional ids: producer id and epoch, state, coordinator, how long the open transaction has run",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cmd.SilenceUsage = true
			adm, err := cf.newAdmin(cmd)
			if err != nil {
				return err
			}
			defer adm.Close()
			ctx, cancel := cf.requestContext(cmd)
			defer cancel()
			listed, err := adm.ListTransactions(ctx, nil, states)
			if err != nil && len(listed) == 0 {
				return fmt.Errorf("cannot list transactions: %s", cf.explain(cmd, err))
			}
			ids := listed.TransactionalIDs()
			rows := make([]txnRow, 0, len(ids))
			var described kadm.DescribedTransactions
			if len(ids) > 0 {
				// The epoch and start time come from DescribeTransactions;
				// without them the listing still stands.
				described, _ = adm.DescribeTransactions(ctx, ids...)
			}
			for _, l := range listed.Sorted() {
				r := txnRow{id: l.TxnID, coordinator: l.Coordinator, producerID: l.ProducerID, epoch: -1, state: l.State, startMs: -1}
				if d, ok := described[l.TxnID]; ok && d.Err == nil {
					r.epoch, r.startMs, r.state = d.ProducerEpoch, d.StartTimestamp, d.State
				}
				rows = append(rows, r)
			}
			return writeTxnList(cmd.OutOrStdout(), rows, time.Now())
		},
	}
	cmd.Flags().StringSliceVar(&states, "state", nil, "only transactions in these states (comma-separated), e.g. Ongoing,PrepareCommit")
	return cmd
}

func writeTxnList(w io.Writer, rows []txnRow, now time.Time) error {
	tw := newTable(w)
	fmt.Fprintln(tw, "TRANSACTIONAL-ID\tPRODUCER-ID\tEPOCH\tSTATE\tCOORDINATOR\tDURATION")
	for _, r := range rows {
		epoch := "-"
		if r.epoch >= 0 {
			epoch = fmt.Sprint(r.epoch)
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%s\n", r.id, r.producerID, epoch, orDash(r.state), brokerID(r.coordinator), r.duration(now))
	}
	return tw.Flush()
}

func newTxnDescribeCmd(cf *clientFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "describe TRANSACTIONAL-ID...",
		Short: "Describe transactions: producer, state, timeout, start, duration and partitions",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, ids []string) error {
			cmd.SilenceUsage = true
			adm, err := cf.newAdmin(cmd)
			if err != nil {
				return err
			}
			defer adm.Close()
			ctx, cancel := cf.requestContext(cmd)
			defer cancel()
			ids = slices.Compact(slices.Sorted(slices.Values(ids)))
			described, err := adm.DescribeTransactions(ctx, ids...)
			if err != nil && len(described) == 0 {
				return fmt.Errorf("cannot describe transactions: %s", cf.explain(cmd, err))
			}
			var rows []txnRow
			var failures []string
			for _, id := range ids {
				d, ok := described[id]
				switch {
				case !ok:
					failures = append(failures, fmt.Sprintf("cannot describe transaction %s: the broker did not answer for it", id))
				case errors.Is(d.Err, kerr.TransactionalIDNotFound):
					failures = append(failures, fmt.Sprintf("transactional id %s does not exist", id))
				case d.Err != nil:
					failures = append(failures, fmt.Sprintf("cannot describe transaction %s: %s", id, cf.explain(cmd, d.Err)))
				default:
					rows = append(rows, txnRow{id: id, coordinator: d.Coordinator, producerID: d.ProducerID, epoch: d.ProducerEpoch,
						state: d.State, timeoutMs: d.TimeoutMillis, startMs: d.StartTimestamp, partitions: d.Topics})
				}
			}
			if len(rows) > 0 {
				if err := writeTxnDescribe(cmd.OutOrStdout(), rows, time.Now()); err != nil {
					return err
				}
			}
			if len(failures) > 0 {
				for _, f := range failures[:len(failures)-1] {
					fmt.Fprintf(cmd.ErrOrStderr(), "samsa: %s\n", f)
				}
				return errors.New(failures[len(failures)-1])
			}
			return nil
		},
	}
}

func writeTxnDescribe(w io.Writer, rows []txnRow, now time.Time) error {
	tw := newTable(w)
	fmt.Fprintln(tw, "TRANSACTIONAL-ID\tCOORDINATOR\tPRODUCER-ID\tEPOCH\tSTATE\tTIMEOUT-MS\tSTART\tDURATION\tPARTITIONS")
	for _, r := range rows {
		start := "-"
		if r.startMs >= 0 && r.duration(now) != "-" {
			start = time.UnixMilli(r.startMs).UTC().Format(time.RFC3339Nano)
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%s\t%d\t%s\t%s\t%s\n", r.id, brokerID(r.coordinator), r.producerID, r.epoch,
			orDash(r.state), r.timeoutMs, start, r.duration(now), txnPartitions(r.partitions))
	}
	return tw.Flush()
}

// txnPartitions renders topic-partitions as "t-0,t-1,u-3", or "-".
func txnPartitions(s kadm.TopicsSet) string {
	var out []string
	for _, tp := range s.Sorted() {
		for _, p := range tp.Partitions {
			out = append(out, fmt.Sprintf("%s-%d", tp.Topic, p))
		}
	}
	if len(out) == 0 {
		return "-"
	}
	return strings.Join(out, ",")
}

// abortOptions are the flags of `txn abort`: the partition and either the
// start offset of the hanging transaction, or its producer.
type abortOptions struct {
	topic            string
	partition        int32
	startOffset      int64
	producerID       int64
	producerEpoch    int16
	coordinatorEpoch int32
}

// validateAbort checks the flags as kafka-transactions.sh abort does.
func validateAbort(o *abortOptions, changed func(string) bool) error {
	if o.topic == "" {
		return errors.New("no partition given: --topic and --partition are required")
	}
	if !changed("partition") {
		return errors.New("no partition given: --partition is required")
	}
	if o.partition < 0 {
		return fmt.Errorf("invalid --partition %d: must be 0 or more", o.partition)
	}
	byOffset := changed("start-offset")
	byProducer := changed("producer-id") || changed("producer-epoch") || changed("coordinator-epoch")
	switch {
	case byOffset && byProducer:
		return errors.New("--start-offset cannot be used with --producer-id, --producer-epoch or --coordinator-epoch")
	case byOffset:
		if o.startOffset < 0 {
			return fmt.Errorf("invalid --start-offset %d: must be 0 or more", o.startOffset)
		}
	case byProducer:
		if !changed("producer-id") || !changed("producer-epoch") {
			return errors.New("--producer-id and --producer-epoch are both required to abort by producer")
		}
		if o.producerID < 0 || o.producerEpoch < 0 {
			return errors.New("invalid --producer-id or --producer-epoch: must be 0 or more")
		}
		if o.coordinatorEpoch < 0 {
			return fmt.Errorf("invalid --coordinator-epoch %d: must be 0 or more", o.coordinatorEpoch)
		}
	default:
		return errors.New("no transaction given: give --start-offset N, or --producer-id and --producer-epoch")
	}
	return nil
}

func newTxnAbortCmd(cf *clientFlags) *cobra.Command {
	var o abortOptions
	cmd := &cobra.Command{
		Use:   "abort --topic TOPIC --partition P (--start-offset N | --producer-id ID --producer-epoch E)",
		Short: "Abort a hanging transaction in one partition by writing an ABORT marker for its producer",
		Long: "Abort a hanging transaction in one partition, as kafka-transactions.sh abort does: the open\n" +
			"transaction starting at --start-offset is found with DescribeProducers, and an ABORT marker for\n" +
			"its producer is written to the partition leader (WriteTxnMarkers).",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := validateAbort(&o, func(name string) bool { return cmd.Flags().Changed(name) }); err != nil {
				return err
			}
			cmd.SilenceUsage = true
			adm, err := cf.newAdmin(cmd)
			if err != nil {
				return err
			}
			defer adm.Close()
			ctx, cancel := cf.requestContext(cmd)
			defer cancel()
			tp := fmt.Sprintf("%s-%d", o.topic, o.partition)
			if _, err := cf.lookupTopic(ctx, cmd, adm, o.topic); err != nil {
				return err
			}
			marker := kadm.TxnMarkers{
				ProducerID: o.producerID, ProducerEpoch: o.producerEpoch, CoordinatorEpoch: o.coordinatorEpoch,
				Topics: kadm.TopicsSet{o.topic: {o.partition: {}}},
			}
			if cmd.Flags().Changed("start-offset") {
				described, err := adm.DescribeProducers(ctx, kadm.TopicsSet{o.topic: {o.partition: {}}})
				if err != nil && len(described) == 0 {
					return fmt.Errorf("cannot describe the producers of %s: %s", tp, cf.explain(cmd, err))
				}
				dp, ok := described[o.topic].Partitions[o.partition]
				switch {
				case !ok:
					return fmt.Errorf("cannot describe the producers of %s: the broker did not answer for it", tp)
				case errors.Is(dp.Err, kerr.UnknownTopicOrPartition):
					return fmt.Errorf("partition %s does not exist", tp)
				case dp.Err != nil:
					return fmt.Errorf("cannot describe the producers of %s: %s", tp, cf.explainKafka(cmd, dp.Err, dp.ErrMessage))
				}
				var found *kadm.DescribedProducer
				for _, p := range dp.ActiveProducers.Sorted() {
					if p.CurrentTxnStartOffset == o.startOffset {
						found = &p
						break
					}
				}
				if found == nil {
					return fmt.Errorf("no open transaction starts at offset %d of %s", o.startOffset, tp)
				}
				marker.ProducerID, marker.ProducerEpoch = found.ProducerID, found.ProducerEpoch
				marker.CoordinatorEpoch = max(found.CoordinatorEpoch, 0)
			}
			resp, err := adm.WriteTxnMarkers(ctx, marker)
			if err != nil && len(resp) == 0 {
				return fmt.Errorf("cannot abort the transaction of producer %d in %s: %s", marker.ProducerID, tp, cf.explain(cmd, err))
			}
			pr, ok := resp[marker.ProducerID].Topics[o.topic].Partitions[o.partition]
			switch {
			case !ok:
				if err != nil {
					return fmt.Errorf("cannot abort the transaction of producer %d in %s: %s", marker.ProducerID, tp, cf.explain(cmd, err))
				}
				return fmt.Errorf("cannot abort the transaction of producer %d in %s: the broker did not answer for it", marker.ProducerID, tp)
			case pr.Err != nil:
				return fmt.Errorf("cannot abort the transaction of producer %d in %s: %s", marker.ProducerID, tp, cf.explain(cmd, pr.Err))
			}
			fmt.Fprintf(cmd.OutOrStdout(), "aborted the transaction of producer %d (epoch %d) in %s\n", marker.ProducerID, marker.ProducerEpoch, tp)
			return nil
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&o.topic, "topic", "", "topic of the partition holding the hanging transaction")
	fs.Int32Var(&o.partition, "partition", 0, "partition holding the hanging transaction")
	fs.Int64Var(&o.startOffset, "start-offset", -1, "first offset of the hanging transaction (as DescribeProducers shows it)")
	fs.Int64Var(&o.producerID, "producer-id", -1, "producer id of the transaction (instead of --start-offset)")
	fs.Int16Var(&o.producerEpoch, "producer-epoch", -1, "producer epoch of the transaction (with --producer-id)")
	fs.Int32Var(&o.coordinatorEpoch, "coordinator-epoch", 0, "coordinator epoch for the marker (with --producer-id)")
	return cmd
}
