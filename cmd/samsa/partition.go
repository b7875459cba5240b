package main

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// `samsa partition` moves replicas (AlterPartitionReassignments, as
// kafka-reassign-partitions.sh does), lists reassignments in progress
// (ListPartitionReassignments) and triggers leader elections (ElectLeaders,
// as kafka-leader-election.sh does).

// defaultWaitTimeout bounds --wait (and remove-broker) while replicas move.
const defaultWaitTimeout = 10 * time.Minute

// reassignPollInterval is how often a wait asks the cluster for progress.
const reassignPollInterval = 500 * time.Millisecond

func newPartitionCmd() *cobra.Command {
	cf := &clientFlags{}
	cmd := &cobra.Command{
		Use:     "partition",
		Aliases: []string{"partitions"},
		Short:   "Reassign partition replicas, list reassignments, elect leaders",
		Args:    cobra.NoArgs,
	}
	cf.register(cmd)
	cmd.AddCommand(
		newPartitionReassignCmd(cf),
		newPartitionListReassignmentsCmd(cf),
		newPartitionElectLeadersCmd(cf),
	)
	return cmd
}

// tp names one partition of a topic.
type tp struct {
	topic     string
	partition int32
}

func (p tp) String() string { return fmt.Sprintf("%s-%d", p.topic, p.partition) }

func compareTP(a, b tp) int {
	return cmp.Or(strings.Compare(a.topic, b.topic), cmp.Compare(a.partition, b.partition))
}

// reassignTarget is one partition and the replicas it should have (nil when
// cancelling).
type reassignTarget struct {
	tp
	replicas []int32
}

// reassignmentJSON is Kafka's reassignment file, as
// kafka-reassign-partitions.sh --reassignment-json-file reads and --generate
// writes it.
type reassignmentJSON struct {
	Version    *int                    `json:"version,omitempty"`
	Partitions []reassignmentJSONEntry `json:"partitions"`
}

type reassignmentJSONEntry struct {
	Topic     string   `json:"topic"`
	Partition *int32   `json:"partition"`
	Replicas  []int32  `json:"replicas"`
	LogDirs   []string `json:"log_dirs,omitempty"`
}

// parseReassignmentJSON parses and checks a reassignment file; name is how
// errors refer to it. With cancel the replicas may be absent and are
// ignored.
func parseReassignmentJSON(data []byte, name string, cancel bool) ([]reassignTarget, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var f reassignmentJSON
	bad := func(format string, args ...any) error {
		return fmt.Errorf("invalid reassignment JSON in %s: %s", name, fmt.Sprintf(format, args...))
	}
	if err := dec.Decode(&f); err != nil {
		return nil, bad("%s", jsonErrText(err, data))
	}
	if dec.More() {
		return nil, bad("unexpected data after the JSON object at line %d", lineAt(data, dec.InputOffset()))
	}
	if f.Version != nil && *f.Version != 1 {
		return nil, bad("unsupported version %d: want 1", *f.Version)
	}
	if len(f.Partitions) == 0 {
		return nil, bad(`no partitions: want {"version":1,"partitions":[{"topic":"t","partition":0,"replicas":[1,2,3]}]}`)
	}
	seen := make(map[tp]bool, len(f.Partitions))
	out := make([]reassignTarget, 0, len(f.Partitions))
	for i, e := range f.Partitions {
		where := fmt.Sprintf("partitions[%d]", i)
		if e.Topic == "" {
			return nil, bad("%s has no topic", where)
		}
		if e.Partition == nil {
			return nil, bad("%s (topic %s) has no partition", where, e.Topic)
		}
		p := tp{e.Topic, *e.Partition}
		if p.partition < 0 {
			return nil, bad("%s: partition %d is negative", where, p.partition)
		}
		if seen[p] {
			return nil, bad("partition %s is listed twice", p)
		}
		seen[p] = true
		if cancel {
			out = append(out, reassignTarget{tp: p})
			continue
		}
		if err := checkReplicaList(e.Replicas); err != nil {
			return nil, bad("replicas of %s: %v", p, err)
		}
		if len(e.LogDirs) > 0 {
			if len(e.LogDirs) != len(e.Replicas) {
				return nil, bad("log_dirs of %s has %d entries for %d replicas", p, len(e.LogDirs), len(e.Replicas))
			}
			for _, d := range e.LogDirs {
				if d != "any" {
					return nil, bad(`log_dirs of %s names %q: moving replicas between log directories is not supported, use "any"`, p, d)
				}
			}
		}
		out = append(out, reassignTarget{tp: p, replicas: e.Replicas})
	}
	return out, nil
}

// checkReplicaList checks a target replica list: not empty, no negative
// ids, no broker twice.
func checkReplicaList(replicas []int32) error {
	if len(replicas) == 0 {
		return errors.New("empty: give at least one broker id")
	}
	seen := make(map[int32]bool, len(replicas))
	for _, r := range replicas {
		if r < 0 {
			return fmt.Errorf("broker id %d is negative", r)
		}
		if seen[r] {
			return fmt.Errorf("broker %d is listed twice", r)
		}
		seen[r] = true
	}
	return nil
}

// jsonErrText renders a decoding error with the line it happened on.
func jsonErrText(err error, data []byte) string {
	if se, ok := errors.AsType[*json.SyntaxError](err); ok {
		return fmt.Sprintf("line %d: %s", lineAt(data, se.Offset), se.Error())
	}
	if te, ok := errors.AsType[*json.UnmarshalTypeError](err); ok {
		field := te.Field
		if field == "" {
			field = "the document"
		}
		return fmt.Sprintf("line %d: %s must be %s, not %s", lineAt(data, te.Offset), field, jsonTypeWant(te.Type.String()), te.Value)
	}
	if errors.Is(err, io.EOF) {
		return "the file is empty"
	}
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return "unexpected end of the file"
	}
	return strings.TrimPrefix(err.Error(), "json: ")
}

func jsonTypeWant(goType string) string {
	switch goType {
	case "int32", "int":
		return "an integer"
	case "string":
		return "a string"
	case "main.reassignmentJSON":
		return "an object"
	default:
		if strings.HasPrefix(goType, "[]") {
			return "a list"
		}
		return goType
	}
}

// lineAt is the 1-based line of a byte offset.
func lineAt(data []byte, off int64) int {
	off = min(max(off, 0), int64(len(data)))
	return bytes.Count(data[:off], []byte("\n")) + 1
}

// formatReassignmentJSON renders assignments as Kafka's reassignment file.
func formatReassignmentJSON(ts []reassignTarget) string {
	f := struct {
		Version    int                     `json:"version"`
		Partitions []reassignmentJSONEntry `json:"partitions"`
	}{Version: 1}
	for _, t := range ts {
		p := t.partition
		f.Partitions = append(f.Partitions, reassignmentJSONEntry{Topic: t.topic, Partition: &p, Replicas: slices.Clone(t.replicas)})
	}
	b, _ := json.Marshal(f)
	return string(b)
}

// reassignOptions are the flags of `partition reassign`.
type reassignOptions struct {
	file        string
	topic       string
	partition   int32
	replicas    []int32
	cancel      bool
	verify      bool
	wait        bool
	dryRun      bool
	waitTimeout time.Duration
}

// targets checks the flag combination and returns the partitions
// to act on; read opens --file ("-" is stdin).
func (o *reassignOptions) targets(changed func(string) bool, read func(string) ([]byte, error)) ([]reassignTarget, error) {
	switch {
	case o.file != "" && changed("topic"):
		return nil, errors.New("--file and --topic cannot be used together: give one")
	case changed("partition") && !changed("topic"):
		return nil, errors.New("--partition needs --topic")
	case changed("replicas") && !changed("topic"):
		return nil, errors.New("--replicas needs --topic and --partition (with --file the replicas come from the file)")
	case o.file == "" && !changed("topic"):
		return nil, errors.New("nothing to reassign: give --file FILE (Kafka's reassignment JSON) or --topic T --partition N --replicas IDS")
	case o.cancel && o.verify:
		return nil, errors.New("--cancel and --verify cannot be used together")
	case o.cancel && changed("replicas"):
		return nil, errors.New("--replicas cannot be used with --cancel")
	case o.dryRun && (o.verify || o.wait):
		return nil, errors.New("--dry-run cannot be used with --verify or --wait")
	case o.waitTimeout <= 0:
		return nil, fmt.Errorf("invalid --wait-timeout %s: must be positive", o.waitTimeout)
	}
	if o.file != "" {
		data, err := read(o.file)
		if err != nil {
			return nil, err
		}
		name := o.file
		if name == "-" {
			name = "standard input"
		}
		return parseReassignmentJSON(data, name, o.cancel)
	}
	if o.topic == "" {
		return nil, errors.New("invalid --topic: empty")
	}
	if !changed("partition") {
		return nil, errors.New("--topic needs --partition N")
	}
	if o.partition < 0 {
		return nil, fmt.Errorf("invalid --partition %d: must not be negative", o.partition)
	}
	t := reassignTarget{tp: tp{o.topic, o.partition}}
	if o.cancel {
		return []reassignTarget{t}, nil
	}
	if !changed("replicas") {
		return nil, errors.New("--topic and --partition need --replicas IDS (comma-separated broker ids), or --cancel")
	}
	if err := checkReplicaList(o.replicas); err != nil {
		return nil, fmt.Errorf("invalid --replicas: %w", err)
	}
	t.replicas = slices.Clone(o.replicas)
	return []reassignTarget{t}, nil
}

func newPartitionReassignCmd(cf *clientFlags) *cobra.Command {
	o := reassignOptions{waitTimeout: defaultWaitTimeout}
	cmd := &cobra.Command{
		Use:   "reassign (--file FILE | --topic T --partition N --replicas IDS) [--cancel | --verify] [--wait] [--dry-run]",
		Short: "Move partition replicas to other brokers (AlterPartitionReassignments)",
		Long: `Move partition replicas to other brokers (AlterPartitionReassignments).

--file takes Kafka's reassignment JSON, as kafka-reassign-partitions.sh
--reassignment-json-file does ("-" reads standard input):

  {"version":1,"partitions":[{"topic":"t","partition":0,"replicas":[1,2,3]}]}

or give one partition with --topic, --partition and --replicas. The first
replica is the partition's preferred leader. The command prints the current
assignment as JSON, to roll back with --file, starts the reassignment and
returns; --wait waits until the new replicas have caught up and the old ones
are gone. --verify submits nothing and reports whether the reassignments are
complete (non-zero exit while they are not); --cancel stops reassignments in
progress, leaving the replicas as they were.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cmd.SilenceUsage = true
			targets, err := o.targets(cmd.Flags().Changed, func(name string) ([]byte, error) {
				return readInput(cmd, name)
			})
			if err != nil {
				return err
			}
			return runReassign(cmd, cf, &o, targets)
		},
	}
	fs := cmd.Flags()
	fs.StringVarP(&o.file, "file", "f", "", `reassignment JSON file (Kafka's format), "-" for standard input`)
	fs.StringVarP(&o.topic, "topic", "t", "", "topic of the partition to reassign")
	fs.Int32VarP(&o.partition, "partition", "p", 0, "partition to reassign (with --topic)")
	fs.Int32SliceVar(&o.replicas, "replicas", nil, "new replicas, comma-separated broker ids, preferred leader first (with --topic)")
	fs.BoolVar(&o.cancel, "cancel", false, "cancel the reassignments of the given partitions")
	fs.BoolVar(&o.verify, "verify", false, "submit nothing; report whether the reassignments are complete")
	fs.BoolVar(&o.wait, "wait", false, "wait until the reassignments are complete")
	fs.BoolVar(&o.dryRun, "dry-run", false, "print the current and new assignment and submit nothing")
	fs.DurationVar(&o.waitTimeout, "wait-timeout", o.waitTimeout, "how long --wait waits for the replicas to move")
	return cmd
}

// readInput reads a named file, or standard input for "-".
func readInput(cmd *cobra.Command, name string) ([]byte, error) {
	if name == "-" {
		data, err := io.ReadAll(cmd.InOrStdin())
		if err != nil {
			return nil, fmt.Errorf("cannot read standard input: %w", err)
		}
		return data, nil
	}
	data, err := os.ReadFile(name)
	if err != nil {
		if pe, ok := errors.AsType[*os.PathError](err); ok {
			err = pe.Err
		}
		return nil, fmt.Errorf("cannot read %s: %w", name, err)
	}
	return data, nil
}

func runReassign(cmd *cobra.Command, cf *clientFlags, o *reassignOptions, targets []reassignTarget) error {
	cl, err := cf.newClient(cmd)
	if err != nil {
		return err
	}
	adm := cf.adminFor(cl)
	defer adm.Close()
	ctx, cancel := cf.requestContext(cmd)
	defer cancel()
	out := cmd.OutOrStdout()

	slices.SortFunc(targets, func(a, b reassignTarget) int { return compareTP(a.tp, b.tp) })
	md, err := cf.checkPartitionsExist(ctx, cmd, adm, targets)
	if err != nil {
		return err
	}
	current := make(map[tp][]int32, len(targets))
	for _, t := range targets {
		current[t.tp] = md.Topics[t.topic].Partitions[t.partition].Replicas
	}
	set := make(kadm.TopicsSet)
	for _, t := range targets {
		set.Add(t.topic, t.partition)
	}

	if o.verify {
		return verifyReassign(ctx, cmd, cf, cl, adm, o, targets, set)
	}
	if !o.cancel {
		view, err := describeCluster(ctx, cl, adm)
		if err != nil {
			return fmt.Errorf("cannot list brokers: %s", cf.explain(cmd, err))
		}
		for _, t := range targets {
			for _, r := range t.replicas {
				if !view.has(r) {
					return fmt.Errorf("broker %d in the new replicas of %s is not registered in the cluster (brokers: %s)", r, t.tp, view.idList())
				}
			}
		}
		var rollback []reassignTarget
		tw := newTable(out)
		fmt.Fprintln(tw, "TOPIC\tPARTITION\tCURRENT\tNEW")
		for _, t := range targets {
			fmt.Fprintf(tw, "%s\t%d\t%s\t%s\n", t.topic, t.partition, int32List(current[t.tp]), int32List(t.replicas))
			rollback = append(rollback, reassignTarget{tp: t.tp, replicas: current[t.tp]})
		}
		if err := tw.Flush(); err != nil {
			return err
		}
		fmt.Fprintf(out, "\ncurrent assignment, to roll back with --file:\n%s\n", formatReassignmentJSON(rollback))
		if o.dryRun {
			fmt.Fprintf(out, "\ndry run: nothing submitted\n")
			return nil
		}
	} else if o.dryRun {
		for _, t := range targets {
			fmt.Fprintf(out, "would cancel the reassignment of %s\n", t.tp)
		}
		fmt.Fprintf(out, "dry run: nothing submitted\n")
		return nil
	}

	var req kadm.AlterPartitionAssignmentsReq
	for _, t := range targets {
		req.Assign(t.topic, t.partition, t.replicas) // nil replicas cancel
	}
	what := "reassign"
	if o.cancel {
		what = "cancel the reassignment of"
	}
	resps, err := adm.AlterPartitionAssignments(ctx, req)
	if err != nil {
		return fmt.Errorf("cannot %s %s: %s", what, partitionsNoun(targets), cf.explainAPI(cmd, err, "AlterPartitionReassignments", kmsg.AlterPartitionAssignments))
	}
	var failures []string
	started := 0
	for _, t := range targets {
		r, ok := resps[t.topic][t.partition]
		switch {
		case !ok:
			failures = append(failures, fmt.Sprintf("cannot %s %s: the broker did not answer for it", what, t.tp))
		case o.cancel && errors.Is(r.Err, kerr.NoReassignmentInProgress):
			fmt.Fprintf(out, "no reassignment of %s was in progress\n", t.tp)
		case r.Err != nil:
			failures = append(failures, fmt.Sprintf("cannot %s %s: %s", what, t.tp, cf.explainKafka(cmd, r.Err, r.ErrMessage)))
		case o.cancel:
			fmt.Fprintf(out, "cancelled the reassignment of %s\n", t.tp)
			started++
		default:
			started++
		}
	}
	if !o.cancel && started > 0 {
		fmt.Fprintf(out, "\nstarted the reassignment of %s\n", plural(int64(started), "partition", "partitions"))
	}
	if len(failures) > 0 {
		return errors.New(strings.Join(failures, "; "))
	}
	if !o.wait {
		if !o.cancel {
			fmt.Fprintln(out, "follow it with samsa partition list-reassignments, or run this again with --verify (or --wait)")
		}
		return nil
	}
	want := make(map[tp][]int32)
	if !o.cancel {
		for _, t := range targets {
			want[t.tp] = t.replicas
		}
	}
	if err := cf.waitReassignments(cmd, cl, adm, o.waitTimeout, set, slices.Sorted(maps.Keys(set)), func(md kadm.Metadata) []string {
		return replicasMismatch(md, want)
	}); err != nil {
		return err
	}
	if o.cancel {
		fmt.Fprintf(out, "no reassignment of %s in progress any more\n", partitionsNoun(targets))
		return nil
	}
	fmt.Fprintf(out, "reassignment of %s complete\n", partitionsNoun(targets))
	return nil
}

// verifyReassign reports, for each target, whether its reassignment is
// complete; it fails while one is not (or, with --wait, waits for them).
func verifyReassign(ctx context.Context, cmd *cobra.Command, cf *clientFlags, cl *kgo.Client, adm *kadm.Client, o *reassignOptions, targets []reassignTarget, set kadm.TopicsSet) error {
	want := make(map[tp][]int32, len(targets))
	for _, t := range targets {
		want[t.tp] = t.replicas
	}
	if o.wait {
		if err := cf.waitReassignments(cmd, cl, adm, o.waitTimeout, set, slices.Sorted(maps.Keys(set)), func(md kadm.Metadata) []string {
			return replicasMismatch(md, want)
		}); err != nil {
			return err
		}
		fmt.Fprintf(cmd.OutOrStdout(), "reassignment of %s complete\n", partitionsNoun(targets))
		return nil
	}
	ongoing, err := listReassignments(ctx, cl, adm, set)
	if err != nil {
		return fmt.Errorf("cannot list reassignments: %s", cf.explainAPI(cmd, err, "ListPartitionReassignments", kmsg.ListPartitionReassignments))
	}
	md, err := adm.Metadata(ctx, slices.Collect(maps.Keys(set))...)
	if err != nil {
		return fmt.Errorf("cannot look up topics: %s", cf.explain(cmd, err))
	}
	out := cmd.OutOrStdout()
	incomplete := 0
	for _, t := range targets {
		cur := md.Topics[t.topic].Partitions[t.partition].Replicas
		if r, ok := ongoing[t.tp]; ok {
			incomplete++
			fmt.Fprintf(out, "reassignment of %s is in progress: replicas %s, adding %s, removing %s\n",
				t.tp, int32List(r.Replicas), int32List(r.AddingReplicas), int32List(r.RemovingReplicas))
			continue
		}
		if sameSet(cur, t.replicas) {
			fmt.Fprintf(out, "reassignment of %s is complete: replicas %s\n", t.tp, int32List(cur))
			continue
		}
		incomplete++
		fmt.Fprintf(out, "%s has replicas %s, not %s, and no reassignment is in progress\n", t.tp, int32List(cur), int32List(t.replicas))
	}
	if incomplete > 0 {
		return fmt.Errorf("%s of %d not complete", plural(int64(incomplete), "reassignment", "reassignments"), len(targets))
	}
	return nil
}

// replicasMismatch lists the partitions whose replicas in md are not the
// wanted ones.
func replicasMismatch(md kadm.Metadata, want map[tp][]int32) []string {
	var off []string
	for _, p := range slices.SortedFunc(maps.Keys(want), compareTP) {
		cur := md.Topics[p.topic].Partitions[p.partition].Replicas
		if !sameSet(cur, want[p]) {
			off = append(off, fmt.Sprintf("%s has replicas %s, not %s", p, int32List(cur), int32List(want[p])))
		}
	}
	return off
}

func sameSet(a, b []int32) bool {
	if len(a) != len(b) {
		return false
	}
	for _, x := range a {
		if !slices.Contains(b, x) {
			return false
		}
	}
	return true
}

func partitionsNoun(ts []reassignTarget) string {
	if len(ts) == 1 {
		return "partition " + ts[0].tp.String()
	}
	return plural(int64(len(ts)), "partition", "partitions")
}

func reassignTopics(ts []reassignTarget) []string {
	var topics []string
	for _, t := range ts {
		topics = append(topics, t.topic)
	}
	return slices.Compact(slices.Sorted(slices.Values(topics)))
}

// checkPartitionsExist looks up the targets' topics and checks that every
// topic and partition exists. It does not wait for leaders: an election
// is often asked for partitions that have none.
func (cf *clientFlags) checkPartitionsExist(ctx context.Context, cmd *cobra.Command, adm *kadm.Client, targets []reassignTarget) (kadm.Metadata, error) {
	md, err := cf.checkTopicsExist(ctx, cmd, adm, reassignTopics(targets))
	if err != nil {
		return md, err
	}
	for _, t := range targets {
		td := md.Topics[t.topic]
		if _, ok := td.Partitions[t.partition]; !ok {
			return md, fmt.Errorf("partition %d does not exist: topic %s has %s", t.partition, t.topic, plural(int64(len(td.Partitions)), "partition", "partitions"))
		}
	}
	return md, nil
}

// checkTopicsExist looks up topics and checks that they exist.
func (cf *clientFlags) checkTopicsExist(ctx context.Context, cmd *cobra.Command, adm *kadm.Client, topics []string) (kadm.Metadata, error) {
	md, err := adm.Metadata(ctx, topics...)
	if err != nil {
		return md, fmt.Errorf("cannot look up %s: %s", topicsNoun(topics), cf.explain(cmd, err))
	}
	for _, t := range topics {
		td, ok := md.Topics[t]
		switch {
		case !ok || errors.Is(td.Err, kerr.UnknownTopicOrPartition):
			return md, fmt.Errorf("topic %s does not exist", t)
		case td.Err != nil && !kerr.IsRetriable(td.Err):
			return md, fmt.Errorf("cannot look up topic %s: %s", t, cf.explain(cmd, td.Err))
		}
	}
	return md, nil
}

// listReassignments returns the reassignments in progress among set (all of
// them when set is nil), keyed by partition. A partition the answer lists
// with nothing adding or removing is not being reassigned.
func listReassignments(ctx context.Context, cl *kgo.Client, adm *kadm.Client, set kadm.TopicsSet) (map[tp]kadm.ListPartitionReassignmentsResponse, error) {
	out := make(map[tp]kadm.ListPartitionReassignmentsResponse)
	if set != nil && len(set) == 0 {
		return out, nil
	}
	if set != nil {
		resps, err := adm.ListPartitionReassignments(ctx, set)
		if err != nil {
			return nil, err
		}
		resps.Each(func(r kadm.ListPartitionReassignmentsResponse) {
			if len(r.AddingReplicas) > 0 || len(r.RemovingReplicas) > 0 {
				out[tp{r.Topic, r.Partition}] = r
			}
		})
		return out, nil
	}
	// kadm asks only for named partitions; a null topic list asks for
	// every reassignment in progress.
	req := kmsg.NewPtrListPartitionReassignmentsRequest()
	r, err := req.RequestWith(ctx, cl)
	if err != nil {
		return nil, err
	}
	if err := kerr.ErrorForCode(r.ErrorCode); err != nil {
		return nil, &kadm.ErrAndMessage{Err: err, ErrMessage: derefString(r.ErrorMessage)}
	}
	for _, t := range r.Topics {
		for _, p := range t.Partitions {
			if len(p.AddingReplicas) > 0 || len(p.RemovingReplicas) > 0 {
				out[tp{t.Topic, p.Partition}] = kadm.ListPartitionReassignmentsResponse{
					Topic: t.Topic, Partition: p.Partition, Replicas: p.Replicas,
					AddingReplicas: p.AddingReplicas, RemovingReplicas: p.RemovingReplicas,
				}
			}
		}
	}
	return out, nil
}

func derefString(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// waitReassignments polls until no reassignment among set is in progress
// and pending(metadata of topics; all topics if nil) is empty, or timeout
// passes. pending returns what is still not as wanted, one line each. It
// reports progress on standard error.
func (cf *clientFlags) waitReassignments(cmd *cobra.Command, cl *kgo.Client, adm *kadm.Client, timeout time.Duration, set kadm.TopicsSet, topics []string, pending func(kadm.Metadata) []string) error {
	ctx, cancel := context.WithTimeout(commandContext(cmd), timeout)
	defer cancel()
	lastReport := -1
	var (
		lastErr error
		waiting []string
	)
	for {
		var moving int
		rctx, rcancel := context.WithTimeout(ctx, cf.timeout)
		ongoing, err := listReassignments(rctx, cl, adm, set)
		if err == nil {
			moving = len(ongoing)
			waiting = waiting[:0]
			for _, p := range slices.SortedFunc(maps.Keys(ongoing), compareTP) {
				waiting = append(waiting, p.String()+" is still moving")
			}
			if moving == 0 {
				var md kadm.Metadata
				md, err = adm.Metadata(rctx, topics...)
				if err == nil {
					waiting = pending(md)
					if len(waiting) == 0 {
						rcancel()
						return nil
					}
				}
			}
		}
		rcancel()
		switch {
		case err != nil && (isUnsupported(err) || isFatalKafkaErr(err)):
			return fmt.Errorf("cannot follow the reassignment: %s", cf.explainAPI(cmd, err, "ListPartitionReassignments", kmsg.ListPartitionReassignments))
		case err != nil:
			lastErr = err
		case moving != lastReport && moving > 0:
			fmt.Fprintf(cmd.ErrOrStderr(), "waiting: %s still moving\n", plural(int64(moving), "partition", "partitions"))
			lastReport = moving
		}
		select {
		case <-ctx.Done():
			if errors.Is(commandContext(cmd).Err(), context.Canceled) {
				return errors.New("interrupted; the reassignment goes on in the cluster (see samsa partition list-reassignments)")
			}
			msg := fmt.Sprintf("timed out after %s waiting for the reassignment (see --wait-timeout); it goes on in the cluster", timeout)
			if len(waiting) > 0 {
				msg += ": " + strings.Join(firstN(waiting, 5), "; ")
			}
			if lastErr != nil {
				msg += "; last error: " + cf.explain(cmd, lastErr)
			}
			return errors.New(msg)
		case <-time.After(reassignPollInterval):
		}
	}
}

func firstN(s []string, n int) []string {
	if len(s) <= n {
		return s
	}
	return append(slices.Clone(s[:n]), fmt.Sprintf("and %d more", len(s)-n))
}

// isUnsupported reports whether err is franz-go's (unexported) error for a
// request whose key the broker does not list in ApiVersions.
func isUnsupported(err error) bool {
	return err != nil && strings.Contains(err.Error(), "broker is too old")
}

// isFatalKafkaErr reports whether err carries a Kafka error code that
// asking again will not clear.
func isFatalKafkaErr(err error) bool {
	ke, ok := errors.AsType[*kerr.Error](err)
	return ok && !ke.Retriable
}

// explainAPI is explain, naming the API when the broker does not serve it.
func (cf *clientFlags) explainAPI(cmd *cobra.Command, err error, api string, key kmsg.Key) string {
	if isUnsupported(err) {
		return fmt.Sprintf("the broker does not support %s (API key %d)", api, key.Int16())
	}
	if em, ok := errors.AsType[*kadm.ErrAndMessage](err); ok {
		return cf.explainKafka(cmd, em.Err, em.ErrMessage)
	}
	return cf.explain(cmd, err)
}

func newPartitionListReassignmentsCmd(cf *clientFlags) *cobra.Command {
	var (
		topic     string
		partition int32
	)
	cmd := &cobra.Command{
		Use:   "list-reassignments [--topic T [--partition N]]",
		Short: "List partition reassignments in progress (ListPartitionReassignments)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cmd.SilenceUsage = true
			changed := cmd.Flags().Changed
			if changed("partition") && !changed("topic") {
				return errors.New("--partition needs --topic")
			}
			if changed("topic") && topic == "" {
				return errors.New("invalid --topic: empty")
			}
			if partition < 0 {
				return fmt.Errorf("invalid --partition %d: must not be negative", partition)
			}
			cl, err := cf.newClient(cmd)
			if err != nil {
				return err
			}
			adm := cf.adminFor(cl)
			defer adm.Close()
			ctx, cancel := cf.requestContext(cmd)
			defer cancel()

			var set kadm.TopicsSet
			if topic != "" {
				var md kadm.Metadata
				if changed("partition") {
					md, err = cf.checkPartitionsExist(ctx, cmd, adm, []reassignTarget{{tp: tp{topic, partition}}})
				} else {
					md, err = cf.checkTopicsExist(ctx, cmd, adm, []string{topic})
				}
				if err != nil {
					return err
				}
				set = make(kadm.TopicsSet)
				if changed("partition") {
					set.Add(topic, partition)
				} else {
					for p := range md.Topics[topic].Partitions {
						set.Add(topic, p)
					}
				}
			}
			ongoing, err := listReassignments(ctx, cl, adm, set)
			if err != nil {
				return fmt.Errorf("cannot list reassignments: %s", cf.explainAPI(cmd, err, "ListPartitionReassignments", kmsg.ListPartitionReassignments))
			}
			out := cmd.OutOrStdout()
			if len(ongoing) == 0 {
				fmt.Fprintln(out, "no partition reassignments in progress")
				return nil
			}
			tw := newTable(out)
			fmt.Fprintln(tw, "TOPIC\tPARTITION\tREPLICAS\tADDING\tREMOVING")
			for _, p := range slices.SortedFunc(maps.Keys(ongoing), compareTP) {
				r := ongoing[p]
				fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\n", p.topic, p.partition, int32List(r.Replicas), int32List(r.AddingReplicas), int32List(r.RemovingReplicas))
			}
			return tw.Flush()
		},
	}
	fs := cmd.Flags()
	fs.StringVarP(&topic, "topic", "t", "", "only this topic")
	fs.Int32VarP(&partition, "partition", "p", 0, "only this partition (with --topic)")
	return cmd
}

// electOptions are the flags of `partition elect-leaders`.
type electOptions struct {
	typ        string
	topic      string
	partitions []int32
	all        bool
}

// electionType parses --type.
func (o *electOptions) electionType() (kadm.ElectLeadersHow, error) {
	switch strings.ToLower(strings.TrimSpace(o.typ)) {
	case "preferred":
		return kadm.ElectPreferredReplica, nil
	case "unclean":
		return kadm.ElectLiveReplica, nil
	default:
		return 0, fmt.Errorf("invalid --type %q: want preferred or unclean", o.typ)
	}
}

// check validates the flag combination.
func (o *electOptions) check(changed func(string) bool) error {
	switch {
	case o.all && changed("topic"):
		return errors.New("--all and --topic cannot be used together: give one")
	case changed("partition") && !changed("topic"):
		return errors.New("--partition needs --topic")
	case !o.all && !changed("topic"):
		return errors.New("nothing to elect: give --topic TOPIC [--partition N] or --all")
	case changed("topic") && o.topic == "":
		return errors.New("invalid --topic: empty")
	}
	for _, p := range o.partitions {
		if p < 0 {
			return fmt.Errorf("invalid --partition %d: must not be negative", p)
		}
	}
	_, err := o.electionType()
	return err
}

func newPartitionElectLeadersCmd(cf *clientFlags) *cobra.Command {
	o := electOptions{typ: "preferred"}
	cmd := &cobra.Command{
		Use:   "elect-leaders (--topic T [--partition N,...] | --all) [--type preferred|unclean]",
		Short: "Elect partition leaders: the preferred replica, or (unclean) any live replica",
		Long: `Elect partition leaders (ElectLeaders), as kafka-leader-election.sh does.

--type preferred (the default) moves leadership back to each partition's
preferred replica (the first in its replica list) if it is in sync.
--type unclean elects a live replica that may not be in sync for partitions
that have no leader: records may be lost.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cmd.SilenceUsage = true
			if err := o.check(cmd.Flags().Changed); err != nil {
				return err
			}
			how, _ := o.electionType()
			cl, err := cf.newClient(cmd)
			if err != nil {
				return err
			}
			adm := cf.adminFor(cl)
			defer adm.Close()
			ctx, cancel := cf.requestContext(cmd)
			defer cancel()

			req := kmsg.NewPtrElectLeadersRequest()
			req.ElectionType = int8(how)
			req.TimeoutMillis = int32(min(cf.timeout.Milliseconds(), 1<<31-1))
			if !o.all {
				var probe []reassignTarget
				for _, p := range o.partitions {
					probe = append(probe, reassignTarget{tp: tp{o.topic, p}})
				}
				var md kadm.Metadata
				if len(probe) > 0 {
					md, err = cf.checkPartitionsExist(ctx, cmd, adm, probe)
				} else {
					md, err = cf.checkTopicsExist(ctx, cmd, adm, []string{o.topic})
				}
				if err != nil {
					return err
				}
				rt := kmsg.NewElectLeadersRequestTopic()
				rt.Topic = o.topic
				if len(o.partitions) > 0 {
					rt.Partitions = slices.Compact(slices.Sorted(slices.Values(o.partitions)))
				} else {
					rt.Partitions = slices.Sorted(maps.Keys(md.Topics[o.topic].Partitions))
				}
				req.Topics = append(req.Topics, rt)
			}
			return runElect(ctx, cmd, cf, cl, req, o.all)
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&o.typ, "type", o.typ, "election type: preferred or unclean")
	fs.StringVarP(&o.topic, "topic", "t", "", "topic whose leaders to elect")
	fs.Int32SliceVarP(&o.partitions, "partition", "p", nil, "only these partitions (comma-separated, with --topic)")
	fs.BoolVar(&o.all, "all", false, "every partition of every topic")
	return cmd
}

func runElect(ctx context.Context, cmd *cobra.Command, cf *clientFlags, cl *kgo.Client, req *kmsg.ElectLeadersRequest, all bool) error {
	resp, err := req.RequestWith(ctx, cl)
	if err != nil {
		return fmt.Errorf("cannot elect leaders: %s", cf.explainAPI(cmd, err, "ElectLeaders", kmsg.ElectLeaders))
	}
	if err := kerr.ErrorForCode(resp.ErrorCode); err != nil {
		return fmt.Errorf("cannot elect leaders: %s", cf.explainKafka(cmd, err, ""))
	}
	type result struct {
		tp
		err error
		msg string
	}
	var results []result
	for _, t := range resp.Topics {
		for _, p := range t.Partitions {
			results = append(results, result{tp{t.Topic, p.Partition}, kerr.ErrorForCode(p.ErrorCode), derefString(p.ErrorMessage)})
		}
	}
	slices.SortFunc(results, func(a, b result) int { return compareTP(a.tp, b.tp) })
	out := cmd.OutOrStdout()
	var notNeeded []string
	var failures []string
	elected := 0
	for _, r := range results {
		switch {
		case r.err == nil:
			fmt.Fprintf(out, "elected a new leader for %s\n", r.tp)
			elected++
		case errors.Is(r.err, kerr.ElectionNotNeeded):
			notNeeded = append(notNeeded, r.tp.String())
		case errors.Is(r.err, kerr.UnknownTopicOrPartition):
			failures = append(failures, fmt.Sprintf("partition %s does not exist", r.tp))
		default:
			failures = append(failures, fmt.Sprintf("cannot elect a leader for %s: %s", r.tp, cf.explainKafka(cmd, r.err, r.msg)))
		}
	}
	switch {
	case len(notNeeded) == 0:
	case all || len(notNeeded) > 5:
		fmt.Fprintf(out, "%s already had the leader asked for (ELECTION_NOT_NEEDED)\n", plural(int64(len(notNeeded)), "partition", "partitions"))
	default:
		for _, p := range notNeeded {
			fmt.Fprintf(out, "%s already has the leader asked for (ELECTION_NOT_NEEDED)\n", p)
		}
	}
	if elected == 0 && len(notNeeded) == 0 && len(failures) == 0 {
		// Kafka answers an election over all partitions with only the
		// partitions it changed or failed.
		fmt.Fprintln(out, "no partition needed a new leader")
	}
	if len(failures) > 0 {
		return errors.New(strings.Join(failures, "; "))
	}
	return nil
}
