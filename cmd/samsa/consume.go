package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

type consumeOptions struct {
	from       string
	partitions string
	count      int64
	follow     bool
	format     string
	group      string
}

// newConsumeCmd returns `samsa consume TOPIC`.
func newConsumeCmd() *cobra.Command {
	cf := &clientFlags{}
	var o consumeOptions
	cmd := &cobra.Command{
		Use:   "consume TOPIC",
		Short: "Print records of a topic",
		Long: `Print the records of TOPIC to standard output.

By default consume reads from the beginning and exits once it has caught up
with the end offsets the partitions had when it started; --follow keeps
waiting for new records until interrupted (Ctrl-C).

--from is one of: beginning, end, an offset (applied to every partition, kept
within each partition's log), or @TIMESTAMP in milliseconds since the epoch or
RFC 3339 (the first record at or after that time). With --group, --from only
applies to partitions the group has no committed offset for, and offsets of
printed records are committed.

--format renders each record; verbs: %k key, %v value, %h headers (k=v,k=v),
%o offset, %p partition, %t timestamp (ms since epoch), %T topic, %% a percent
sign; escapes: \n, \t, \r, \\.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cmd.SilenceUsage = true
			return runConsume(cmd, cf, &o, args[0])
		},
	}
	cf.register(cmd)
	fs := cmd.Flags()
	fs.StringVar(&o.from, "from", "beginning", "where to start: beginning, end, OFFSET or @TIMESTAMP (ms or RFC 3339)")
	fs.StringVarP(&o.partitions, "partitions", "p", "", "comma-separated partitions to read, such as 0,2 (default all)")
	fs.Int64VarP(&o.count, "num", "n", 0, "exit after printing this many records (0: no limit)")
	fs.BoolVarP(&o.follow, "follow", "f", false, "keep waiting for new records instead of exiting when caught up")
	fs.StringVar(&o.format, "format", `%v\n`, "output template (see above)")
	fs.StringVar(&o.group, "group", "", "consume as this consumer group, committing printed offsets")
	return cmd
}

// parsePartitions parses --partitions "0,2,5" into sorted, distinct
// partition numbers; empty means all.
func parsePartitions(s string) ([]int32, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	var out []int32
	for f := range strings.SplitSeq(s, ",") {
		p, err := strconv.ParseInt(strings.TrimSpace(f), 10, 32)
		if err != nil || p < 0 {
			return nil, fmt.Errorf("invalid --partitions %q: want comma-separated partition numbers (0 or more)", s)
		}
		out = append(out, int32(p))
	}
	return slices.Compact(slices.Sorted(slices.Values(out))), nil
}

// startKind says how --from picks the first offset.
type startKind int

const (
	startBeginning startKind = iota
	startEnd
	startOffset
	startTimestamp
)

type startSpec struct {
	kind   startKind
	offset int64 // startOffset
	millis int64 // startTimestamp
}

// parseFrom parses --from: beginning|end|OFFSET|@TIMESTAMP.
func parseFrom(s string) (startSpec, error) {
	v := strings.TrimSpace(s)
	switch strings.ToLower(v) {
	case "beginning", "start", "oldest", "earliest":
		return startSpec{kind: startBeginning}, nil
	case "end", "newest", "latest":
		return startSpec{kind: startEnd}, nil
	}
	if ts, ok := strings.CutPrefix(v, "@"); ok {
		if ms, err := strconv.ParseInt(ts, 10, 64); err == nil {
			if ms < 0 {
				return startSpec{}, fmt.Errorf("invalid --from %q: the timestamp must not be negative", s)
			}
			return startSpec{kind: startTimestamp, millis: ms}, nil
		}
		t, err := time.Parse(time.RFC3339Nano, ts)
		if err != nil {
			return startSpec{}, fmt.Errorf("invalid --from %q: want @ followed by milliseconds since the epoch or an RFC 3339 time such as 2024-05-01T12:00:00Z", s)
		}
		if t.UnixMilli() < 0 {
			return startSpec{}, fmt.Errorf("invalid --from %q: the time is before 1970", s)
		}
		return startSpec{kind: startTimestamp, millis: t.UnixMilli()}, nil
	}
	off, err := strconv.ParseInt(v, 10, 64)
	if err != nil || off < 0 {
		return startSpec{}, fmt.Errorf("invalid --from %q: want beginning, end, an offset (0 or more) or @TIMESTAMP", s)
	}
	return startSpec{kind: startOffset, offset: off}, nil
}

// formatPart is a literal, or (when verb is not 0) one record field.
type formatPart struct {
	lit  string
	verb byte
}

// recordFormat is a parsed --format template.
type recordFormat []formatPart

const formatVerbs = "kvhoptT"

// parseFormat parses a --format template: verbs %k %v %h %o %p %t %T and
// %%, escapes \n \t \r \\.
func parseFormat(s string) (recordFormat, error) {
	var (
		out recordFormat
		lit strings.Builder
	)
	flush := func() {
		if lit.Len() > 0 {
			out = append(out, formatPart{lit: lit.String()})
			lit.Reset()
		}
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case '%':
			i++
			if i == len(s) {
				return nil, fmt.Errorf("invalid --format %q: ends in a lone %%", s)
			}
			switch v := s[i]; {
			case v == '%':
				lit.WriteByte('%')
			case strings.IndexByte(formatVerbs, v) >= 0:
				flush()
				out = append(out, formatPart{verb: v})
			default:
				return nil, fmt.Errorf("invalid --format %q: unknown verb %%%c (want %%k %%v %%h %%o %%p %%t %%T or %%%%)", s, v)
			}
		case '\\':
			i++
			if i == len(s) {
				return nil, fmt.Errorf(`invalid --format %q: ends in a lone \`, s)
			}
			switch e := s[i]; e {
			case 'n':
				lit.WriteByte('\n')
			case 't':
				lit.WriteByte('\t')
			case 'r':
				lit.WriteByte('\r')
			case '\\':
				lit.WriteByte('\\')
			default:
				return nil, fmt.Errorf(`invalid --format %q: unknown escape \%c (want \n \t \r or \\)`, s, e)
			}
		default:
			lit.WriteByte(c)
		}
	}
	flush()
	return out, nil
}

// appendRecord renders r into dst.
func (f recordFormat) appendRecord(dst []byte, r *kgo.Record) []byte {
	for _, p := range f {
		switch p.verb {
		case 0:
			dst = append(dst, p.lit...)
		case 'k':
			dst = append(dst, r.Key...)
		case 'v':
			dst = append(dst, r.Value...)
		case 'h':
			for i, h := range r.Headers {
				if i > 0 {
					dst = append(dst, ',')
				}
				dst = append(dst, h.Key...)
				dst = append(dst, '=')
				dst = append(dst, h.Value...)
			}
		case 'o':
			dst = strconv.AppendInt(dst, r.Offset, 10)
		case 'p':
			dst = strconv.AppendInt(dst, int64(r.Partition), 10)
		case 't':
			dst = strconv.AppendInt(dst, r.Timestamp.UnixMilli(), 10)
		case 'T':
			dst = append(dst, r.Topic...)
		}
	}
	return dst
}

// caughtUp tracks, for a run without --follow, which partitions have not yet
// reached the end offset captured at start. Group callbacks update it from
// the client's goroutines, hence the mutex.
type caughtUp struct {
	mu       sync.Mutex
	ends     map[int32]int64 // end offsets captured at start
	pending  map[int32]bool  // tracked partitions not caught up yet
	assigned bool            // a partition set has been tracked at least once
	onDone   func()          // called (possibly more than once) when done
}

func newCaughtUp(ends map[int32]int64, onDone func()) *caughtUp {
	return &caughtUp{ends: ends, pending: make(map[int32]bool), onDone: onDone}
}

// track starts following partition p from offset start.
func (c *caughtUp) track(p int32, start int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.assigned = true
	if end, ok := c.ends[p]; ok && start < end {
		c.pending[p] = true
	} else {
		delete(c.pending, p)
	}
}

// assignedDone marks the end of one batch of track/untrack calls.
func (c *caughtUp) assignedDone() {
	c.mu.Lock()
	done := c.assigned && len(c.pending) == 0
	c.mu.Unlock()
	if done {
		c.onDone()
	}
}

func (c *caughtUp) untrack(p int32) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.pending, p)
}

// past reports whether offset lies at or after p's captured end.
func (c *caughtUp) past(p int32, offset int64) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	end, ok := c.ends[p]
	return !ok || offset >= end
}

// saw records that offset of p was consumed.
func (c *caughtUp) saw(p int32, offset int64) {
	c.mu.Lock()
	if c.pending[p] && offset >= c.ends[p]-1 {
		delete(c.pending, p)
	}
	done := c.assigned && len(c.pending) == 0
	c.mu.Unlock()
	if done {
		c.onDone()
	}
}

func (c *caughtUp) done() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.assigned && len(c.pending) == 0
}

// resolveStarts returns the first offset to read of each partition for spec,
// and the end offsets at this moment.
func resolveStarts(ctx context.Context, adm *kadm.Client, topic string, parts []int32, spec startSpec) (starts, ends map[int32]int64, err error) {
	listedEnds, err := adm.ListEndOffsets(ctx, topic)
	if err != nil {
		return nil, nil, err
	}
	if ends, err = pickOffsets(listedEnds, topic, parts); err != nil {
		return nil, nil, err
	}
	switch spec.kind {
	case startEnd:
		return maps.Clone(ends), ends, nil
	case startTimestamp:
		l, err := adm.ListOffsetsAfterMilli(ctx, spec.millis, topic)
		if err != nil {
			return nil, nil, err
		}
		starts, err = pickOffsets(l, topic, parts)
		return starts, ends, err
	}
	l, err := adm.ListStartOffsets(ctx, topic)
	if err != nil {
		return nil, nil, err
	}
	if starts, err = pickOffsets(l, topic, parts); err != nil {
		return nil, nil, err
	}
	if spec.kind == startOffset {
		for p, logStart := range starts {
			starts[p] = min(max(spec.offset, logStart), ends[p])
		}
	}
	return starts, ends, nil
}

func pickOffsets(l kadm.ListedOffsets, topic string, parts []int32) (map[int32]int64, error) {
	out := make(map[int32]int64, len(parts))
	for _, p := range parts {
		o, ok := l.Lookup(topic, p)
		if !ok {
			return nil, fmt.Errorf("the broker listed no offset for partition %d", p)
		}
		if o.Err != nil {
			if ke, isKerr := errors.AsType[*kerr.Error](o.Err); isKerr {
				return nil, fmt.Errorf("partition %d: %s", p, kerrText(ke, ""))
			}
			return nil, fmt.Errorf("partition %d: %w", p, o.Err)
		}
		out[p] = o.Offset
	}
	return out, nil
}

func runConsume(cmd *cobra.Command, cf *clientFlags, o *consumeOptions, topic string) error {
	spec, err := parseFrom(o.from)
	if err != nil {
		return err
	}
	format, err := parseFormat(o.format)
	if err != nil {
		return err
	}
	if o.count < 0 {
		return fmt.Errorf("invalid --num %d: must be 0 (no limit) or more", o.count)
	}
	wanted, err := parsePartitions(o.partitions)
	if err != nil {
		return err
	}
	if o.group != "" && len(wanted) > 0 {
		return errors.New("--partitions cannot be used with --group: the group assigns partitions")
	}

	// Look the topic up and resolve where each partition starts and ends.
	adm, err := cf.newAdmin(cmd)
	if err != nil {
		return err
	}
	lookupCtx, cancelLookup := cf.requestContext(cmd)
	defer cancelLookup()
	td, err := cf.lookupTopic(lookupCtx, cmd, adm, topic)
	if err != nil {
		adm.Close()
		if interrupted(cmd) {
			return nil // Ctrl-C while starting up is a clean exit too
		}
		return err
	}
	parts := wanted
	for _, p := range parts {
		if _, ok := td.Partitions[p]; !ok {
			adm.Close()
			return fmt.Errorf("partition %d does not exist: topic %s has %s", p, topic, plural(int64(len(td.Partitions)), "partition", "partitions"))
		}
	}
	if len(parts) == 0 {
		parts = td.Partitions.Numbers()
	}
	starts, ends, err := resolveStarts(lookupCtx, adm, topic, parts, spec)
	adm.Close()
	cancelLookup()
	if err != nil {
		if interrupted(cmd) {
			return nil
		}
		return fmt.Errorf("cannot list offsets of topic %s: %s", topic, cf.explain(cmd, err))
	}

	sigCtx, stopSignals := signal.NotifyContext(commandContext(cmd), os.Interrupt, syscall.SIGTERM)
	defer stopSignals()
	pollCtx, stopPolling := context.WithCancel(sigCtx)
	defer stopPolling()

	var progress *caughtUp
	if !o.follow {
		progress = newCaughtUp(ends, stopPolling)
	}

	opts := []kgo.Opt{
		// Control records are kept so every offset up to the end is seen
		// (a transaction marker can be a partition's last offset); they
		// are not printed.
		kgo.KeepControlRecords(),
		// An interactive tool should not sit in a 5s long poll on idle
		// partitions while another partition is waiting to be added.
		kgo.FetchMaxWait(500 * time.Millisecond),
	}
	if o.group == "" {
		offsets := make(map[int32]kgo.Offset, len(parts))
		for _, p := range parts {
			offsets[p] = kgo.NewOffset().At(starts[p])
			if progress != nil {
				progress.track(p, starts[p])
			}
		}
		if progress != nil && progress.done() {
			return nil // nothing to read: every partition is already at its end
		}
		opts = append(opts, kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: offsets}))
	} else {
		opts = append(opts, groupOptions(cmd, topic, o.group, starts, progress)...)
	}
	cl, err := cf.newClient(cmd, opts...)
	if err != nil {
		return err
	}
	defer cl.Close()

	out := bufio.NewWriterSize(cmd.OutOrStdout(), 64<<10)
	printed, loopErr := consumeLoop(pollCtx, cmd, cf, cl, topic, o, format, progress, out)
	flushErr := out.Flush()

	if o.group != "" && printed > 0 {
		commitCtx, cancel := context.WithTimeout(context.WithoutCancel(commandContext(cmd)), cf.timeout)
		if err := cl.CommitMarkedOffsets(commitCtx); err != nil && loopErr == nil {
			loopErr = fmt.Errorf("cannot commit offsets for group %s: %s", o.group, cf.explain(cmd, err))
		}
		cancel()
	}
	if loopErr != nil {
		return loopErr
	}
	if flushErr != nil {
		return fmt.Errorf("cannot write output: %w", flushErr)
	}
	return nil
}

// interrupted reports whether the command's context ended (SIGINT through
// main's signal context, or a canceled caller).
func interrupted(cmd *cobra.Command) bool {
	return commandContext(cmd).Err() != nil
}

// groupOptions configures a group consumer. Partitions without a committed
// offset start where --from says (resolved ahead in starts); with progress,
// each assigned partition is tracked from the offset it actually starts at.
func groupOptions(cmd *cobra.Command, topic, group string, starts map[int32]int64, progress *caughtUp) []kgo.Opt {
	opts := []kgo.Opt{
		kgo.ConsumerGroup(group),
		kgo.ConsumeTopics(topic),
		// The start offset is only a marker for "no commit"; the adjust
		// function below replaces it with the resolved --from offset.
		kgo.ConsumeStartOffset(kgo.NewOffset().AtStart()),
		kgo.AutoCommitMarks(),
		kgo.AdjustFetchOffsetsFn(func(_ context.Context, offsets map[string]map[int32]kgo.Offset) (map[string]map[int32]kgo.Offset, error) {
			for p, off := range offsets[topic] {
				at := off.EpochOffset().Offset
				if at < 0 {
					at = starts[p] // no commit: start where --from says
					offsets[topic][p] = kgo.NewOffset().At(at)
				}
				if progress != nil {
					progress.track(p, at)
				}
			}
			if progress != nil {
				progress.assignedDone()
			}
			return offsets, nil
		}),
		kgo.OnPartitionsRevoked(func(ctx context.Context, cl *kgo.Client, revoked map[string][]int32) {
			if err := cl.CommitMarkedOffsets(ctx); err != nil {
				fmt.Fprintf(cmd.ErrOrStderr(), "samsa: warning: cannot commit offsets for group %s on rebalance: %v\n", group, err)
			}
			if progress != nil {
				for _, p := range revoked[topic] {
					progress.untrack(p)
				}
				progress.assignedDone()
			}
		}),
		kgo.OnPartitionsLost(func(_ context.Context, _ *kgo.Client, lost map[string][]int32) {
			if progress != nil {
				for _, p := range lost[topic] {
					progress.untrack(p)
				}
				progress.assignedDone()
			}
		}),
	}
	return opts
}

// consumeLoop polls and prints records until the count is reached, every
// partition is caught up (without --follow), ctx ends, or a fetch fails.
func consumeLoop(ctx context.Context, cmd *cobra.Command, cf *clientFlags, cl *kgo.Client, topic string, o *consumeOptions, format recordFormat, progress *caughtUp, out *bufio.Writer) (int64, error) {
	var (
		printed int64
		buf     []byte
	)
	for {
		if ctx.Err() != nil || (progress != nil && progress.done()) {
			return printed, nil
		}
		fetches := cl.PollFetches(ctx)
		var fetchErr error
		fetches.EachError(func(t string, p int32, err error) {
			switch {
			case fetchErr != nil:
			case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded), errors.Is(err, kgo.ErrClientClosed):
			default:
				if dl, ok := errors.AsType[*kgo.ErrDataLoss](err); ok {
					fmt.Fprintf(cmd.ErrOrStderr(), "samsa: warning: %v\n", dl)
					return
				}
				if gs, ok := errors.AsType[*kgo.ErrGroupSession](err); ok {
					fetchErr = fmt.Errorf("cannot consume topic %s as group %s: %s", topic, o.group, cf.explain(cmd, gs.Err))
					return
				}
				where := "topic " + topic
				if p >= 0 {
					where = fmt.Sprintf("topic %s partition %d", topic, p)
				}
				fetchErr = fmt.Errorf("cannot consume %s: %s", where, cf.explain(cmd, err))
			}
		})
		it := fetches.RecordIter()
		for !it.Done() {
			r := it.Next()
			if r.Attrs.IsControl() {
				if o.group != "" {
					cl.MarkCommitRecords(r)
				}
				if progress != nil {
					progress.saw(r.Partition, r.Offset)
				}
				continue
			}
			if progress != nil && progress.past(r.Partition, r.Offset) {
				continue // produced after we started; not ours without --follow
			}
			buf = format.appendRecord(buf[:0], r)
			if _, err := out.Write(buf); err != nil {
				return printed, fmt.Errorf("cannot write output: %w", err)
			}
			printed++
			if o.group != "" {
				cl.MarkCommitRecords(r)
			}
			if progress != nil {
				progress.saw(r.Partition, r.Offset)
			}
			if o.count > 0 && printed >= o.count {
				return printed, nil
			}
		}
		if err := out.Flush(); err != nil {
			return printed, fmt.Errorf("cannot write output: %w", err)
		}
		if fetchErr != nil {
			return printed, fetchErr
		}
	}
}
