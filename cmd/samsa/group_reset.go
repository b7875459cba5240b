package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
)

// This file holds `samsa group reset-offsets`.

type resetOptions struct {
	topics     []string
	allTopics  bool
	toEarliest bool
	toLatest   bool
	toOffset   int64
	toDatetime string
	shiftBy    int64
	execute    bool
}

// resetKind is where reset-offsets moves a group's offsets.
type resetKind int

const (
	resetEarliest resetKind = iota + 1
	resetLatest
	resetToOffset
	resetToDatetime
	resetShiftBy
)

type resetTarget struct {
	kind   resetKind
	offset int64 // resetToOffset
	millis int64 // resetToDatetime
	shift  int64 // resetShiftBy
}

// resetTargetFlags are the mutually exclusive target flags, in the order
// errors name them.
var resetTargetFlags = []string{"to-earliest", "to-latest", "to-offset", "to-datetime", "shift-by"}

// parseResetTarget checks that exactly one target flag was given (changed
// reports whether a flag was set on the command line) and parses it.
func parseResetTarget(o *resetOptions, changed func(string) bool) (resetTarget, error) {
	var given []string
	for _, name := range resetTargetFlags {
		set := changed(name)
		switch name {
		case "to-earliest":
			set = set && o.toEarliest
		case "to-latest":
			set = set && o.toLatest
		}
		if set {
			given = append(given, "--"+name)
		}
	}
	switch len(given) {
	case 0:
		return resetTarget{}, errors.New("no reset target: give one of --to-earliest, --to-latest, --to-offset N, --to-datetime TIME or --shift-by N")
	case 1:
	default:
		return resetTarget{}, fmt.Errorf("%s and %s cannot be used together: give one reset target",
			strings.Join(given[:len(given)-1], ", "), given[len(given)-1])
	}
	switch given[0] {
	case "--to-earliest":
		return resetTarget{kind: resetEarliest}, nil
	case "--to-latest":
		return resetTarget{kind: resetLatest}, nil
	case "--to-offset":
		if o.toOffset < 0 {
			return resetTarget{}, fmt.Errorf("invalid --to-offset %d: must be 0 or more", o.toOffset)
		}
		return resetTarget{kind: resetToOffset, offset: o.toOffset}, nil
	case "--to-datetime":
		ms, err := parseDatetime(o.toDatetime)
		if err != nil {
			return resetTarget{}, err
		}
		return resetTarget{kind: resetToDatetime, millis: ms}, nil
	default:
		return resetTarget{kind: resetShiftBy, shift: o.shiftBy}, nil
	}
}

// parseDatetime parses --to-datetime: an RFC 3339 time or milliseconds
// since the epoch.
func parseDatetime(s string) (int64, error) {
	v := strings.TrimSpace(s)
	if ms, err := strconv.ParseInt(v, 10, 64); err == nil {
		if ms < 0 {
			return 0, fmt.Errorf("invalid --to-datetime %q: milliseconds since the epoch must not be negative", s)
		}
		return ms, nil
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return 0, fmt.Errorf("invalid --to-datetime %q: want an RFC 3339 time such as 2024-05-01T12:00:00Z or milliseconds since the epoch", s)
	}
	if t.UnixMilli() < 0 {
		return 0, fmt.Errorf("invalid --to-datetime %q: the time is before 1970", s)
	}
	return t.UnixMilli(), nil
}

// topicSpec is one --topic: a topic, and the partitions to reset (nil: all).
type topicSpec struct {
	topic      string
	partitions []int32
}

// parseTopicSpecs parses --topic values, TOPIC or TOPIC:P,P,...; a topic
// named twice gets the union of its partitions (all if either says all).
func parseTopicSpecs(values []string) ([]topicSpec, error) {
	var out []topicSpec
	for _, v := range values {
		name, parts, hasParts := strings.Cut(strings.TrimSpace(v), ":")
		if name == "" {
			return nil, fmt.Errorf("invalid --topic %q: want TOPIC or TOPIC:PARTITION,PARTITION,...", v)
		}
		spec := topicSpec{topic: name}
		if hasParts {
			var ps []int32
			for f := range strings.SplitSeq(parts, ",") {
				p, err := strconv.ParseInt(strings.TrimSpace(f), 10, 32)
				if err != nil || p < 0 {
					return nil, fmt.Errorf("invalid --topic %q: want TOPIC or TOPIC:PARTITION,PARTITION,... with partitions 0 or more", v)
				}
				ps = append(ps, int32(p))
			}
			spec.partitions = slices.Compact(slices.Sorted(slices.Values(ps)))
		}
		i := slices.IndexFunc(out, func(s topicSpec) bool { return s.topic == name })
		switch {
		case i < 0:
			out = append(out, spec)
		case out[i].partitions == nil || spec.partitions == nil:
			out[i].partitions = nil
		default:
			out[i].partitions = slices.Compact(slices.Sorted(slices.Values(append(out[i].partitions, spec.partitions...))))
		}
	}
	return out, nil
}

// resetRow is one partition's committed offset before and after a reset.
type resetRow struct {
	topic     string
	partition int32
	old       int64 // -1: none committed
	new       int64
}

// planReset computes each partition's new offset. committed holds the
// group's current offsets; starts and ends the partitions' log start and end
// offsets; byTime the ListOffsets-by-timestamp answer for resetToDatetime.
// New offsets are kept within [log start, log end], as Kafka's tool does.
func planReset(group string, target resetTarget, parts kadm.TopicsSet, committed kadm.Offsets, starts, ends, byTime kadm.ListedOffsets) ([]resetRow, error) {
	var rows []resetRow
	for _, tl := range parts.Sorted() {
		for _, p := range slices.Sorted(slices.Values(tl.Partitions)) {
			start, err := listedAt(starts, tl.Topic, p)
			if err != nil {
				return nil, err
			}
			end, err := listedAt(ends, tl.Topic, p)
			if err != nil {
				return nil, err
			}
			old := int64(-1)
			if o, ok := committed.Lookup(tl.Topic, p); ok && o.At >= 0 {
				old = o.At
			}
			var want int64
			switch target.kind {
			case resetEarliest:
				want = start
			case resetLatest:
				want = end
			case resetToOffset:
				want = target.offset
			case resetToDatetime:
				at, err := listedAt(byTime, tl.Topic, p)
				if err != nil {
					return nil, err
				}
				want = at
				if at < 0 { // no record at or after the time
					want = end
				}
			case resetShiftBy:
				if old < 0 {
					return nil, fmt.Errorf("cannot shift the offset of topic %s partition %d: group %s has no committed offset there", tl.Topic, p, group)
				}
				want = old + target.shift
				switch { // saturate rather than wrap
				case target.shift > 0 && want < old:
					want = end
				case target.shift < 0 && want > old:
					want = start
				}
			}
			rows = append(rows, resetRow{topic: tl.Topic, partition: p, old: old, new: min(max(want, start), end)})
		}
	}
	return rows, nil
}

// listedAt returns a listed offset, or an error naming the partition.
func listedAt(l kadm.ListedOffsets, topic string, p int32) (int64, error) {
	o, ok := l.Lookup(topic, p)
	if !ok {
		if whole, ok := l.Lookup(topic, -1); ok && errors.Is(whole.Err, kerr.UnknownTopicOrPartition) {
			return 0, fmt.Errorf("topic %s does not exist", topic)
		}
		return 0, fmt.Errorf("the broker listed no offset for topic %s partition %d", topic, p)
	}
	if o.Err != nil {
		if ke, isKerr := errors.AsType[*kerr.Error](o.Err); isKerr {
			return 0, fmt.Errorf("cannot list offsets of topic %s partition %d: %s", topic, p, kerrText(ke, ""))
		}
		return 0, fmt.Errorf("cannot list offsets of topic %s partition %d: %s", topic, p, oneLine(o.Err.Error()))
	}
	return o.Offset, nil
}

func writeResetPlan(w io.Writer, rows []resetRow) error {
	tw := newTable(w)
	fmt.Fprintln(tw, "TOPIC\tPARTITION\tOLD-OFFSET\tNEW-OFFSET")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%d\t%s\t%d\n", r.topic, r.partition, offsetOrDash(r.old), r.new)
	}
	return tw.Flush()
}

// activeMembersError says why a group's offsets cannot be reset now, or
// nil if they can. A group that does not exist can be given offsets.
func activeMembersError(info groupInfo) error {
	if n := len(info.members); n > 0 {
		them := "them"
		if n == 1 {
			them = "it"
		}
		return fmt.Errorf("group %s has %s; stop %s before resetting offsets", info.name, plural(int64(n), "active member", "active members"), them)
	}
	switch info.state {
	case "", "Empty", "Dead":
		return nil
	}
	return fmt.Errorf("group %s is %s; wait until it is Empty before resetting offsets", info.name, info.state)
}

func newGroupResetOffsetsCmd(cf *clientFlags) *cobra.Command {
	var o resetOptions
	cmd := &cobra.Command{
		Use:   "reset-offsets GROUP (--topic TOPIC[:P,...] | --all-topics) (--to-earliest | --to-latest | --to-offset N | --to-datetime TIME | --shift-by N) [--execute]",
		Short: "Move a group's committed offsets (a dry run unless --execute)",
		Long: `Move the committed offsets of GROUP. By default this is a dry run that prints
each partition's current and new offset; --execute commits the new offsets.

Partitions: --topic TOPIC (repeatable) resets every partition of TOPIC,
--topic TOPIC:0,2 only the partitions listed; --all-topics resets every
partition the group has a committed offset for.

Target (exactly one): --to-earliest (the log start), --to-latest (the log
end), --to-offset N, --to-datetime TIME (the first offset at or after TIME,
an RFC 3339 time or milliseconds since the epoch; the log end if there is
none), --shift-by N (the committed offset plus N, N may be negative). New
offsets are kept within each partition's log start and log end offsets.

The group must have no active members: stop its consumers first. A group
that does not exist yet is created with the new offsets.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cmd.SilenceUsage = true
			return runResetOffsets(cmd, cf, &o, args[0])
		},
	}
	o.register(cmd.Flags())
	return cmd
}

// register adds the reset-offsets flags to fs.
func (o *resetOptions) register(fs *pflag.FlagSet) {
	fs.StringArrayVar(&o.topics, "topic", nil, "topic whose offsets to reset, TOPIC or TOPIC:PARTITION,... (repeatable)")
	fs.BoolVar(&o.allTopics, "all-topics", false, "reset every partition the group has a committed offset for")
	fs.BoolVar(&o.toEarliest, "to-earliest", false, "reset to the log start offset")
	fs.BoolVar(&o.toLatest, "to-latest", false, "reset to the log end offset")
	fs.Int64Var(&o.toOffset, "to-offset", 0, "reset to this offset")
	fs.StringVar(&o.toDatetime, "to-datetime", "", "reset to the first offset at or after this time (RFC 3339 or ms since the epoch)")
	fs.Int64Var(&o.shiftBy, "shift-by", 0, "move the committed offset by this many records (negative: back)")
	fs.BoolVar(&o.execute, "execute", false, "commit the new offsets (default: only show them)")
}

// validateResetOptions checks the flags that do not need a cluster.
func validateResetOptions(o *resetOptions, changed func(string) bool) (resetTarget, []topicSpec, error) {
	target, err := parseResetTarget(o, changed)
	if err != nil {
		return resetTarget{}, nil, err
	}
	switch {
	case len(o.topics) > 0 && o.allTopics:
		return resetTarget{}, nil, errors.New("--topic and --all-topics cannot be used together")
	case len(o.topics) == 0 && !o.allTopics:
		return resetTarget{}, nil, errors.New("no partitions to reset: give --topic TOPIC or --all-topics")
	}
	specs, err := parseTopicSpecs(o.topics)
	if err != nil {
		return resetTarget{}, nil, err
	}
	return target, specs, nil
}

func runResetOffsets(cmd *cobra.Command, cf *clientFlags, o *resetOptions, group string) error {
	target, specs, err := validateResetOptions(o, cmd.Flags().Changed)
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

	// Refuse while consumers are running: they would overwrite the new
	// offsets, and the broker rejects commits from outside the group.
	infos, failed, err := cf.describeGroups(ctx, cmd, adm, []string{group}, nil)
	if err != nil {
		return fmt.Errorf("cannot describe group %s: %s", group, cf.explain(cmd, err))
	}
	if ferr := failed[group]; ferr != nil {
		if _, notFound := errors.AsType[errGroupNotFound](ferr); !notFound {
			return ferr
		}
	}
	if info, ok := infos[group]; ok {
		if err := activeMembersError(info); err != nil {
			return err
		}
	}

	fetched, err := adm.FetchOffsets(ctx, group)
	if errors.Is(err, kerr.GroupIDNotFound) {
		fetched, err = nil, nil // a new group: no offsets yet
	}
	if err != nil {
		return fmt.Errorf("cannot fetch offsets of group %s: %s", group, cf.explain(cmd, err))
	}
	committed := make(kadm.Offsets)
	fetched.Each(func(r kadm.OffsetResponse) {
		if r.Err == nil && r.At >= 0 {
			committed.Add(r.Offset)
		}
	})

	parts := make(kadm.TopicsSet)
	if o.allTopics {
		parts = committed.TopicsSet()
		if len(parts) == 0 {
			return fmt.Errorf("group %s has no committed offsets: name the topics to reset with --topic", group)
		}
	}
	for _, s := range specs {
		td, err := cf.lookupTopic(ctx, cmd, adm, s.topic)
		if err != nil {
			return err
		}
		if s.partitions == nil {
			parts.Add(s.topic, td.Partitions.Numbers()...)
			continue
		}
		for _, p := range s.partitions {
			if _, ok := td.Partitions[p]; !ok {
				return fmt.Errorf("partition %d does not exist: topic %s has %s", p, s.topic, plural(int64(len(td.Partitions)), "partition", "partitions"))
			}
		}
		parts.Add(s.topic, s.partitions...)
	}

	topics := parts.Topics()
	starts, err := adm.ListStartOffsets(ctx, topics...)
	if err != nil {
		return fmt.Errorf("cannot list offsets: %s", cf.explain(cmd, err))
	}
	ends, err := adm.ListEndOffsets(ctx, topics...)
	if err != nil {
		return fmt.Errorf("cannot list offsets: %s", cf.explain(cmd, err))
	}
	var byTime kadm.ListedOffsets
	if target.kind == resetToDatetime {
		if byTime, err = adm.ListOffsetsAfterMilli(ctx, target.millis, topics...); err != nil {
			return fmt.Errorf("cannot list offsets by time: %s", cf.explain(cmd, err))
		}
	}
	rows, err := planReset(group, target, parts, committed, starts, ends, byTime)
	if err != nil {
		return err
	}

	out := cmd.OutOrStdout()
	if !o.execute {
		if err := writeResetPlan(out, rows); err != nil {
			return err
		}
		fmt.Fprintf(out, "\ndry run: no offsets changed; add --execute to commit these offsets for group %s\n", group)
		return nil
	}
	if err := commitReset(ctx, cmd, cf, adm, group, rows); err != nil {
		return err
	}
	if err := writeResetPlan(out, rows); err != nil {
		return err
	}
	fmt.Fprintf(out, "\ncommitted new offsets for %s of group %s\n", plural(int64(len(rows)), "partition", "partitions"), group)
	return nil
}

// commitReset commits the planned offsets, turning per-partition failures
// into one line.
func commitReset(ctx context.Context, cmd *cobra.Command, cf *clientFlags, adm *kadm.Client, group string, rows []resetRow) error {
	offsets := make(kadm.Offsets)
	for _, r := range rows {
		offsets.AddOffset(r.topic, r.partition, r.new, -1)
	}
	resps, err := adm.CommitOffsets(ctx, group, offsets)
	if err != nil {
		return fmt.Errorf("cannot commit offsets for group %s: %s", group, cf.explain(cmd, err))
	}
	var failures []string
	for _, r := range resps.Sorted() {
		switch {
		case r.Err == nil:
		case errors.Is(r.Err, kerr.UnknownMemberID), errors.Is(r.Err, kerr.IllegalGeneration),
			errors.Is(r.Err, kerr.RebalanceInProgress), errors.Is(r.Err, kerr.FencedInstanceID):
			// A consumer joined after the check above.
			return fmt.Errorf("group %s has active members; stop them before resetting offsets", group)
		default:
			failures = append(failures, fmt.Sprintf("cannot commit the offset of topic %s partition %d for group %s: %s", r.Topic, r.Partition, group, cf.explain(cmd, r.Err)))
		}
	}
	if len(failures) > 0 {
		return errors.New(strings.Join(failures, "; "))
	}
	return nil
}
