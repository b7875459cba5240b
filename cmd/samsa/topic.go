package main

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// newTopicCmd returns `samsa topic` with create, list, describe, delete and
// alter-config.
func newTopicCmd() *cobra.Command {
	cf := &clientFlags{}
	cmd := &cobra.Command{
		Use:   "topic",
		Short: "Create, list, describe, delete and configure topics",
		Args:  cobra.NoArgs,
	}
	cf.register(cmd)
	cmd.AddCommand(
		newTopicCreateCmd(cf),
		newTopicListCmd(cf),
		newTopicDescribeCmd(cf),
		newTopicDeleteCmd(cf),
		newTopicAlterConfigCmd(cf),
	)
	return cmd
}

func newTopicCreateCmd(cf *clientFlags) *cobra.Command {
	var (
		partitions   int32
		replicas     int16
		configs      []string
		ifNotExists  bool
		validateOnly bool
	)
	cmd := &cobra.Command{
		Use:   "create NAME",
		Short: "Create a topic",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cmd.SilenceUsage = true
			topic := args[0]
			if partitions == 0 || partitions < -1 {
				return fmt.Errorf("invalid --partitions %d: must be at least 1 (or -1 for the broker default)", partitions)
			}
			if replicas == 0 || replicas < -1 {
				return fmt.Errorf("invalid --replication-factor %d: must be at least 1 (or -1 for the broker default)", replicas)
			}
			cfgs, err := parseConfigPairs(configs, "--config")
			if err != nil {
				return err
			}
			adm, err := cf.newAdmin(cmd)
			if err != nil {
				return err
			}
			defer adm.Close()
			ctx, cancel := cf.requestContext(cmd)
			defer cancel()

			create := adm.CreateTopics
			if validateOnly {
				create = adm.ValidateCreateTopics
			}
			resps, err := create(ctx, partitions, replicas, cfgs, topic)
			if err != nil {
				return fmt.Errorf("cannot create topic %s: %s", topic, cf.explain(cmd, err))
			}
			r, err := resps.On(topic, nil)
			if err != nil {
				return fmt.Errorf("cannot create topic %s: the broker did not answer for it", topic)
			}
			out := cmd.OutOrStdout()
			switch {
			case errors.Is(r.Err, kerr.TopicAlreadyExists) && ifNotExists:
				fmt.Fprintf(out, "topic %s already exists\n", topic)
				return nil
			case errors.Is(r.Err, kerr.TopicAlreadyExists):
				return fmt.Errorf("topic %s already exists", topic)
			case r.Err != nil:
				return fmt.Errorf("cannot create topic %s: %s", topic, cf.explainKafka(cmd, r.Err, r.ErrMessage))
			}
			shape := createdShape(r)
			if validateOnly {
				fmt.Fprintf(out, "topic %s is valid, not created (--validate-only)%s\n", topic, shape)
				return nil
			}
			fmt.Fprintf(out, "created topic %s%s\n", topic, shape)
			return nil
		},
	}
	fs := cmd.Flags()
	fs.Int32VarP(&partitions, "partitions", "p", -1, "number of partitions (-1: the broker's num.partitions)")
	fs.Int16VarP(&replicas, "replication-factor", "r", -1, "replicas per partition (-1: the broker's default.replication.factor)")
	fs.StringArrayVarP(&configs, "config", "c", nil, "topic config key=value (repeatable), e.g. -c cleanup.policy=compact")
	fs.BoolVar(&ifNotExists, "if-not-exists", false, "succeed if the topic already exists")
	fs.BoolVar(&validateOnly, "validate-only", false, "ask the broker to validate the request without creating the topic")
	return cmd
}

// createdShape describes a CreateTopics answer: ": 3 partitions, replication
// factor 1, id ..."; brokers before Kafka 2.4 do not report the shape.
func createdShape(r kadm.CreateTopicResponse) string {
	var parts []string
	if r.NumPartitions > 0 {
		parts = append(parts, plural(int64(r.NumPartitions), "partition", "partitions"))
	}
	if r.ReplicationFactor > 0 {
		parts = append(parts, fmt.Sprintf("replication factor %d", r.ReplicationFactor))
	}
	if r.ID != (kadm.TopicID{}) {
		parts = append(parts, "id "+topicIDString(r.ID))
	}
	if len(parts) == 0 {
		return ""
	}
	return ": " + strings.Join(parts, ", ")
}

// parseConfigPairs parses repeated key=value flags into a CreateTopics
// config map, rejecting duplicates.
func parseConfigPairs(pairs []string, flag string) (map[string]*string, error) {
	if len(pairs) == 0 {
		return nil, nil
	}
	out := make(map[string]*string, len(pairs))
	for _, p := range pairs {
		k, v, err := splitKeyValue(p, flag)
		if err != nil {
			return nil, err
		}
		if _, dup := out[k]; dup {
			return nil, fmt.Errorf("config %s given twice in %s", k, flag)
		}
		out[k] = kadm.StringPtr(v)
	}
	return out, nil
}

func newTopicListCmd(cf *clientFlags) *cobra.Command {
	var internal bool
	cmd := &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List topics: name, partitions, replicas, id",
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

			list := adm.ListTopics
			if internal {
				list = adm.ListTopicsWithInternal
			}
			tds, err := list(ctx)
			if err != nil {
				return fmt.Errorf("cannot list topics: %s", cf.explain(cmd, err))
			}
			tw := newTable(cmd.OutOrStdout())
			fmt.Fprintln(tw, "NAME\tPARTITIONS\tREPLICAS\tID")
			for _, td := range tds.Sorted() {
				fmt.Fprintf(tw, "%s\t%d\t%d\t%s\n", td.Topic, len(td.Partitions), td.Partitions.NumReplicas(), topicIDString(td.ID))
			}
			return tw.Flush()
		},
	}
	cmd.Flags().BoolVar(&internal, "internal", false, "also list internal topics (such as __consumer_offsets)")
	return cmd
}

func newTopicDescribeCmd(cf *clientFlags) *cobra.Command {
	var all bool
	cmd := &cobra.Command{
		Use:   "describe NAME",
		Short: "Describe a topic: id, configs, and per-partition leader, replicas, ISR and offsets",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cmd.SilenceUsage = true
			topic := args[0]
			cl, err := cf.newClient(cmd)
			if err != nil {
				return err
			}
			adm := cf.adminFor(cl)
			defer adm.Close()
			ctx, cancel := cf.requestContext(cmd)
			defer cancel()

			td, err := cf.lookupTopic(ctx, cmd, adm, topic)
			if err != nil {
				return err
			}
			rcs, err := adm.DescribeTopicConfigs(ctx, topic)
			if err != nil {
				return fmt.Errorf("cannot describe configs of topic %s: %s", topic, cf.explain(cmd, err))
			}
			rc, err := rcs.On(topic, nil)
			if err == nil && rc.Err != nil {
				err = errors.New(cf.explainKafka(cmd, rc.Err, rc.ErrMessage))
			}
			if err != nil {
				return fmt.Errorf("cannot describe configs of topic %s: %w", topic, err)
			}
			starts, err := adm.ListStartOffsets(ctx, topic)
			if err != nil {
				return fmt.Errorf("cannot list offsets of topic %s: %s", topic, cf.explain(cmd, err))
			}
			ends, err := adm.ListEndOffsets(ctx, topic)
			if err != nil {
				return fmt.Errorf("cannot list offsets of topic %s: %s", topic, cf.explain(cmd, err))
			}
			extras := fetchPartitionExtras(ctx, cl, adm, td)
			return writeTopicDescription(cmd, td, rc.Configs, all, starts, ends, extras)
		},
	}
	cmd.Flags().BoolVar(&all, "all", false, "show every config, including defaults")
	return cmd
}

// partitionExtras is what describe shows beyond Metadata's leader,
// replicas and ISR, by partition: KIP-966's eligible leader replicas
// (DescribeTopicPartitions) and a reassignment in progress
// (ListPartitionReassignments). Both are best effort: a broker without the
// API, or failing to answer, leaves them empty.
type partitionExtras struct {
	elr, lastKnownELR map[int32][]int32
	adding, removing  map[int32][]int32
}

func fetchPartitionExtras(ctx context.Context, cl *kgo.Client, adm *kadm.Client, td kadm.TopicDetail) partitionExtras {
	x := partitionExtras{
		elr: map[int32][]int32{}, lastKnownELR: map[int32][]int32{},
		adding: map[int32][]int32{}, removing: map[int32][]int32{},
	}
	req := kmsg.NewPtrDescribeTopicPartitionsRequest()
	rt := kmsg.NewDescribeTopicPartitionsRequestTopic()
	rt.Topic = td.Topic
	req.Topics = append(req.Topics, rt)
	for range 1000 { // pages of up to ResponsePartitionLimit partitions
		resp, err := req.RequestWith(ctx, cl)
		if err != nil {
			break
		}
		for _, t := range resp.Topics {
			if t.Topic == nil || *t.Topic != td.Topic || t.ErrorCode != 0 {
				continue
			}
			for _, p := range t.Partitions {
				x.elr[p.Partition] = p.EligibleLeaderReplicas
				x.lastKnownELR[p.Partition] = p.LastKnownELR
			}
		}
		if resp.NextCursor == nil || resp.NextCursor.Topic != td.Topic {
			break
		}
		c := kmsg.NewDescribeTopicPartitionsRequestCursor()
		c.Topic, c.Partition = resp.NextCursor.Topic, resp.NextCursor.Partition
		req.Cursor = &c
	}
	set := make(kadm.TopicsSet)
	for p := range td.Partitions {
		set.Add(td.Topic, p)
	}
	if ongoing, err := listReassignments(ctx, cl, adm, set); err == nil {
		for p, r := range ongoing {
			x.adding[p.partition] = r.AddingReplicas
			x.removing[p.partition] = r.RemovingReplicas
		}
	}
	return x
}

// anyNonEmpty reports whether some partition has a non-empty list in m.
func anyNonEmpty(m map[int32][]int32) bool {
	for _, l := range m {
		if len(l) > 0 {
			return true
		}
	}
	return false
}

func writeTopicDescription(cmd *cobra.Command, td kadm.TopicDetail, configs []kadm.Config, all bool, starts, ends kadm.ListedOffsets, x partitionExtras) error {
	out := cmd.OutOrStdout()
	tw := newTable(out)
	fmt.Fprintf(tw, "NAME\t%s\n", td.Topic)
	fmt.Fprintf(tw, "ID\t%s\n", topicIDString(td.ID))
	fmt.Fprintf(tw, "PARTITIONS\t%d\n", len(td.Partitions))
	fmt.Fprintf(tw, "REPLICAS\t%d\n", td.Partitions.NumReplicas())
	if td.IsInternal {
		fmt.Fprintf(tw, "INTERNAL\ttrue\n")
	}
	if err := tw.Flush(); err != nil {
		return err
	}

	slices.SortFunc(configs, func(a, b kadm.Config) int { return strings.Compare(a.Key, b.Key) })
	title := "CONFIGS (non-default; --all for every config)"
	if all {
		title = "CONFIGS"
	}
	fmt.Fprintf(out, "\n%s\n", title)
	tw = newTable(out)
	fmt.Fprintln(tw, "KEY\tVALUE\tSOURCE")
	for _, c := range configs {
		if !all && (c.Source == kmsg.ConfigSourceDefaultConfig || c.Source == kmsg.ConfigSourceUnknown) {
			continue
		}
		val := c.MaybeValue()
		if c.Sensitive {
			val = "(sensitive)"
		} else if c.Value == nil {
			val = "(null)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", c.Key, val, c.Source)
	}
	if err := tw.Flush(); err != nil {
		return err
	}

	// The OFFLINE, ELR, LAST-KNOWN-ELR, ADDING, REMOVING and ERROR columns
	// appear only when some partition has something to show in them.
	withErrors, withOffline := false, false
	for _, p := range td.Partitions {
		withErrors = withErrors || p.Err != nil
		withOffline = withOffline || len(p.OfflineReplicas) > 0
	}
	withELR := anyNonEmpty(x.elr) || anyNonEmpty(x.lastKnownELR)
	withReassign := anyNonEmpty(x.adding) || anyNonEmpty(x.removing)
	fmt.Fprintf(out, "\nPARTITIONS\n")
	tw = newTable(out)
	header := "PARTITION\tLEADER\tEPOCH\tREPLICAS\tISR"
	if withOffline {
		header += "\tOFFLINE"
	}
	if withELR {
		header += "\tELR\tLAST-KNOWN-ELR"
	}
	if withReassign {
		header += "\tADDING\tREMOVING"
	}
	header += "\tLOG-START-OFFSET\tLOG-END-OFFSET"
	if withErrors {
		header += "\tERROR"
	}
	fmt.Fprintln(tw, header)
	for _, p := range td.Partitions.Sorted() {
		fmt.Fprintf(tw, "%d\t%s\t%d\t%s\t%s",
			p.Partition, brokerID(p.Leader), p.LeaderEpoch, int32List(p.Replicas), int32List(p.ISR))
		if withOffline {
			fmt.Fprintf(tw, "\t%s", int32List(p.OfflineReplicas))
		}
		if withELR {
			fmt.Fprintf(tw, "\t%s\t%s", int32List(x.elr[p.Partition]), int32List(x.lastKnownELR[p.Partition]))
		}
		if withReassign {
			fmt.Fprintf(tw, "\t%s\t%s", int32List(x.adding[p.Partition]), int32List(x.removing[p.Partition]))
		}
		fmt.Fprintf(tw, "\t%s\t%s", listedOffset(starts, td.Topic, p.Partition), listedOffset(ends, td.Topic, p.Partition))
		if withErrors {
			errText := "-"
			if p.Err != nil {
				errText = errName(p.Err)
			}
			fmt.Fprintf(tw, "\t%s", errText)
		}
		fmt.Fprintln(tw)
	}
	return tw.Flush()
}

func errName(err error) string {
	if ke, ok := errors.AsType[*kerr.Error](err); ok {
		return ke.Message
	}
	return oneLine(err.Error())
}

func brokerID(id int32) string {
	if id < 0 {
		return "none"
	}
	return fmt.Sprint(id)
}

func int32List(ids []int32) string {
	s := make([]string, len(ids))
	for i, id := range ids {
		s[i] = fmt.Sprint(id)
	}
	return "[" + strings.Join(s, ",") + "]"
}

func listedOffset(l kadm.ListedOffsets, topic string, partition int32) string {
	o, ok := l.Lookup(topic, partition)
	if !ok {
		return "-"
	}
	if o.Err != nil {
		return errName(o.Err)
	}
	return fmt.Sprint(o.Offset)
}

func newTopicDeleteCmd(cf *clientFlags) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "delete NAME...",
		Aliases: []string{"rm"},
		Short:   "Delete topics",
		Args:    cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cmd.SilenceUsage = true
			adm, err := cf.newAdmin(cmd)
			if err != nil {
				return err
			}
			defer adm.Close()
			ctx, cancel := cf.requestContext(cmd)
			defer cancel()

			topics := slices.Compact(slices.Sorted(slices.Values(args)))
			resps, err := adm.DeleteTopics(ctx, topics...)
			if err != nil {
				return fmt.Errorf("cannot delete %s: %s", topicsNoun(topics), cf.explain(cmd, err))
			}
			var failures []string
			for _, t := range topics {
				r, ok := resps[t]
				switch {
				case !ok:
					failures = append(failures, fmt.Sprintf("cannot delete topic %s: the broker did not answer for it", t))
				case errors.Is(r.Err, kerr.UnknownTopicOrPartition):
					failures = append(failures, fmt.Sprintf("topic %s does not exist", t))
				case r.Err != nil:
					failures = append(failures, fmt.Sprintf("cannot delete topic %s: %s", t, cf.explainKafka(cmd, r.Err, r.ErrMessage)))
				default:
					fmt.Fprintf(cmd.OutOrStdout(), "deleted topic %s\n", t)
				}
			}
			if len(failures) > 0 {
				return errors.New(strings.Join(failures, "; "))
			}
			return nil
		},
	}
	return cmd
}

func topicsNoun(topics []string) string {
	if len(topics) == 1 {
		return "topic " + topics[0]
	}
	return "topics " + strings.Join(topics, ", ")
}

func newTopicAlterConfigCmd(cf *clientFlags) *cobra.Command {
	var (
		sets    []string
		deletes []string
	)
	cmd := &cobra.Command{
		Use:   "alter-config NAME --set key=value ... --delete key ...",
		Short: "Set or delete topic configs (IncrementalAlterConfigs)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cmd.SilenceUsage = true
			topic := args[0]
			alters, err := buildAlterConfigs(sets, deletes)
			if err != nil {
				return err
			}
			adm, err := cf.newAdmin(cmd)
			if err != nil {
				return err
			}
			defer adm.Close()
			ctx, cancel := cf.requestContext(cmd)
			defer cancel()

			resps, err := adm.AlterTopicConfigs(ctx, alters, topic)
			if err != nil {
				if errors.Is(err, kerr.UnknownTopicOrPartition) {
					return fmt.Errorf("topic %s does not exist", topic)
				}
				return fmt.Errorf("cannot alter configs of topic %s: %s", topic, cf.explain(cmd, err))
			}
			r, err := resps.On(topic, nil)
			if err != nil {
				return fmt.Errorf("cannot alter configs of topic %s: the broker did not answer for it", topic)
			}
			if errors.Is(r.Err, kerr.UnknownTopicOrPartition) {
				return fmt.Errorf("topic %s does not exist", topic)
			}
			if r.Err != nil {
				return fmt.Errorf("cannot alter configs of topic %s: %s", topic, cf.explainKafka(cmd, r.Err, r.ErrMessage))
			}
			out := cmd.OutOrStdout()
			for _, a := range alters {
				if a.Op == kadm.SetConfig {
					fmt.Fprintf(out, "set %s=%s on topic %s\n", a.Name, *a.Value, topic)
				} else {
					fmt.Fprintf(out, "deleted %s from topic %s\n", a.Name, topic)
				}
			}
			return nil
		},
	}
	fs := cmd.Flags()
	fs.StringArrayVar(&sets, "set", nil, "config to set, key=value (repeatable)")
	fs.StringArrayVar(&deletes, "delete", nil, "config to delete, returning it to its default (repeatable)")
	return cmd
}

// buildAlterConfigs turns --set and --delete into incremental operations,
// rejecting a key named twice.
func buildAlterConfigs(sets, deletes []string) ([]kadm.AlterConfig, error) {
	if len(sets) == 0 && len(deletes) == 0 {
		return nil, errors.New("nothing to alter: give --set key=value or --delete key")
	}
	seen := make(map[string]bool)
	var out []kadm.AlterConfig
	for _, s := range sets {
		k, v, err := splitKeyValue(s, "--set")
		if err != nil {
			return nil, err
		}
		if seen[k] {
			return nil, fmt.Errorf("config %s given twice", k)
		}
		seen[k] = true
		out = append(out, kadm.AlterConfig{Op: kadm.SetConfig, Name: k, Value: kadm.StringPtr(v)})
	}
	for _, k := range deletes {
		if k == "" || strings.Contains(k, "=") {
			return nil, fmt.Errorf("invalid --delete %q: want a config name", k)
		}
		if seen[k] {
			return nil, fmt.Errorf("config %s given twice", k)
		}
		seen[k] = true
		out = append(out, kadm.AlterConfig{Op: kadm.DeleteConfig, Name: k})
	}
	return out, nil
}
