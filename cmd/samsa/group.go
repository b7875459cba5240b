package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
)

// newGroupCmd returns `samsa group` with list, describe, delete, lag and
// reset-offsets.
func newGroupCmd() *cobra.Command {
	cf := &clientFlags{}
	cmd := &cobra.Command{
		Use:     "group",
		Aliases: []string{"groups"},
		Short:   "List, describe and delete consumer groups; show lag; reset committed offsets",
		Args:    cobra.NoArgs,
	}
	cf.register(cmd)
	cmd.AddCommand(
		newGroupListCmd(cf),
		newGroupDescribeCmd(cf),
		newGroupDeleteCmd(cf),
		newGroupLagCmd(cf),
		newGroupResetOffsetsCmd(cf),
	)
	return cmd
}

// Group types as ListGroups v5+ reports them. A broker that does not report
// the type only has classic groups.
const (
	groupTypeClassic  = "classic"
	groupTypeConsumer = "consumer"
)

// groupStates are the states a classic (first five) or consumer-protocol
// group can be in, spelled the way Kafka reports them.
var groupStates = []string{"Stable", "Empty", "PreparingRebalance", "CompletingRebalance", "Dead", "Assigning", "Reconciling"}

// parseStateFilter checks --state values against the known states (case
// does not matter) and returns them in Kafka's spelling.
func parseStateFilter(states []string) ([]string, error) {
	var out []string
	for _, s := range states {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		i := slices.IndexFunc(groupStates, func(known string) bool { return strings.EqualFold(known, s) })
		if i < 0 {
			return nil, fmt.Errorf("invalid --state %q: want one of %s", s, strings.Join(groupStates, ", "))
		}
		out = append(out, groupStates[i])
	}
	return slices.Compact(slices.Sorted(slices.Values(out))), nil
}

// parseTypeFilter checks --type.
func parseTypeFilter(typ string) (string, error) {
	switch t := strings.ToLower(strings.TrimSpace(typ)); t {
	case "", groupTypeClassic, groupTypeConsumer:
		return t, nil
	default:
		return "", fmt.Errorf("invalid --type %q: want classic or consumer", typ)
	}
}

// listedGroupType is the group's type, classic when the broker does not say.
func listedGroupType(g kadm.ListedGroup) string {
	if g.GroupType == "" {
		return groupTypeClassic
	}
	return strings.ToLower(g.GroupType)
}

// filterListedGroups keeps the groups in one of states (any if empty) and of
// type typ (any if empty), sorted by name.
func filterListedGroups(listed kadm.ListedGroups, states []string, typ string) []kadm.ListedGroup {
	var out []kadm.ListedGroup
	for _, g := range listed.Sorted() {
		if len(states) > 0 && !slices.ContainsFunc(states, func(s string) bool { return strings.EqualFold(s, g.State) }) {
			continue
		}
		if typ != "" && listedGroupType(g) != typ {
			continue
		}
		out = append(out, g)
	}
	return out
}

func newGroupListCmd(cf *clientFlags) *cobra.Command {
	var (
		states []string
		typ    string
	)
	cmd := &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List consumer groups: name, type, state, protocol type, coordinator",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cmd.SilenceUsage = true
			stateFilter, err := parseStateFilter(states)
			if err != nil {
				return err
			}
			typeFilter, err := parseTypeFilter(typ)
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

			listed, err := adm.ListGroups(ctx)
			if err != nil {
				return fmt.Errorf("cannot list groups: %s", cf.explain(cmd, err))
			}
			return writeGroupList(cmd.OutOrStdout(), filterListedGroups(listed, stateFilter, typeFilter))
		},
	}
	fs := cmd.Flags()
	fs.StringSliceVar(&states, "state", nil, "only groups in these states (comma-separated), e.g. Stable,Empty")
	fs.StringVar(&typ, "type", "", "only groups of this type: classic or consumer")
	return cmd
}

func writeGroupList(w io.Writer, groups []kadm.ListedGroup) error {
	tw := newTable(w)
	fmt.Fprintln(tw, "GROUP\tTYPE\tSTATE\tPROTOCOL-TYPE\tCOORDINATOR")
	for _, g := range groups {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", g.Group, listedGroupType(g), orDash(g.State), orDash(g.ProtocolType), brokerID(g.Coordinator))
	}
	return tw.Flush()
}

// orDash returns s, or "-" when s is empty.
func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// groupMember is one member of a classic or consumer-protocol group.
type groupMember struct {
	memberID   string
	instanceID string // "" when the member has no static instance id
	clientID   string
	host       string
	assigned   kadm.TopicsSet
	unnamed    int // assigned partitions of topics the broker named only by id
}

// groupInfo is a described group, classic or consumer-protocol.
type groupInfo struct {
	name         string
	groupType    string // classic or consumer
	state        string
	protocolType string
	protocol     string // classic: the assignor the members agreed on; consumer: the assignor
	coordinator  kadm.BrokerDetail
	members      []groupMember
	subscribed   []string // topics the members asked for
}

// loadedGroup is one group as the describe and lag commands show it, or
// why it could not be loaded.
type loadedGroup struct {
	groupInfo
	rows []partitionLag
	// err is one line saying why the group could not be described or
	// its offsets could not be fetched; the other fields are then partial.
	err error
}

// partitionLag is a group's position in one partition.
type partitionLag struct {
	topic     string
	partition int32
	committed int64  // -1: the group has no committed offset here
	end       int64  // -1: unknown (see err)
	lag       int64  // -1: unknown (see err)
	owner     string // member id of the member assigned this partition; "" if none
	err       error
}

// errGroupNotFound marks a group that does not exist.
type errGroupNotFound struct{ group string }

func (e errGroupNotFound) Error() string { return fmt.Sprintf("group %s does not exist", e.group) }

// describeGroups describes the named groups: consumer-protocol groups
// (KIP-848) with ConsumerGroupDescribe, the others with DescribeGroups.
// listed tells the groups' types; if nil, the groups are listed first (a
// broker that cannot list group types only has classic groups). It returns
// an error only if nothing could be asked; per-group failures (including
// errGroupNotFound) are in the second map.
func (cf *clientFlags) describeGroups(ctx context.Context, cmd *cobra.Command, adm *kadm.Client, names []string, listed kadm.ListedGroups) (map[string]groupInfo, map[string]error, error) {
	if listed == nil {
		listed, _ = adm.ListGroups(ctx)
	}
	var classic, consumer []string
	for _, name := range names {
		if g, ok := listed[name]; ok && listedGroupType(g) == groupTypeConsumer {
			consumer = append(consumer, name)
		} else {
			classic = append(classic, name)
		}
	}
	infos := make(map[string]groupInfo, len(names))
	failed := make(map[string]error)
	if len(classic) > 0 {
		described, err := adm.DescribeGroups(ctx, classic...)
		if err != nil && len(described) == 0 {
			return nil, nil, err
		}
		for _, name := range classic {
			d, ok := described[name]
			switch {
			case !ok:
				failed[name] = cf.unanswered(cmd, "describe", name, err)
			case errors.Is(d.Err, kerr.GroupIDNotFound),
				// Before DescribeGroups v6, Kafka describes an unknown
				// group as a Dead one with no error.
				d.Err == nil && d.State == "Dead" && len(d.Members) == 0:
				failed[name] = errGroupNotFound{name}
			case d.Err != nil:
				failed[name] = fmt.Errorf("cannot describe group %s: %s", name, cf.explainKafka(cmd, d.Err, d.ErrMessage))
			default:
				infos[name] = classicGroupInfo(d)
			}
		}
	}
	if len(consumer) > 0 {
		described, err := adm.DescribeConsumerGroups(ctx, consumer...)
		if err != nil && len(described) == 0 {
			return nil, nil, err
		}
		for _, name := range consumer {
			d, ok := described[name]
			switch {
			case !ok:
				failed[name] = cf.unanswered(cmd, "describe", name, err)
			case errors.Is(d.Err, kerr.GroupIDNotFound), d.Err == nil && d.State == "Dead":
				failed[name] = errGroupNotFound{name}
			case d.Err != nil:
				failed[name] = fmt.Errorf("cannot describe group %s: %s", name, cf.explain(cmd, d.Err))
			default:
				infos[name] = consumerGroupInfo(d)
			}
		}
	}
	return infos, failed, nil
}

// unanswered says why the broker's answer lacked group: the request's
// error if it had one.
func (cf *clientFlags) unanswered(cmd *cobra.Command, what, group string, err error) error {
	if err == nil {
		return fmt.Errorf("cannot %s group %s: the broker did not answer for it", what, group)
	}
	return fmt.Errorf("cannot %s group %s: %s", what, group, cf.explain(cmd, err))
}

func classicGroupInfo(d kadm.DescribedGroup) groupInfo {
	g := groupInfo{
		name:         d.Group,
		groupType:    groupTypeClassic,
		state:        d.State,
		protocolType: d.ProtocolType,
		protocol:     d.Protocol,
		coordinator:  d.Coordinator,
		subscribed:   d.JoinTopics(),
	}
	for _, m := range d.Members {
		gm := groupMember{memberID: m.MemberID, clientID: m.ClientID, host: m.ClientHost, assigned: make(kadm.TopicsSet)}
		if m.InstanceID != nil {
			gm.instanceID = *m.InstanceID
		}
		if a, ok := m.Assigned.AsConsumer(); ok {
			for _, t := range a.Topics {
				gm.assigned.Add(t.Topic, t.Partitions...)
			}
		}
		g.members = append(g.members, gm)
	}
	return g
}

func consumerGroupInfo(d kadm.DescribedConsumerGroup) groupInfo {
	g := groupInfo{
		name:         d.Group,
		groupType:    groupTypeConsumer,
		state:        d.State,
		protocolType: "consumer",
		protocol:     d.AssignorName,
		coordinator:  d.Coordinator,
		subscribed:   d.SubscribedTopics(),
	}
	for _, m := range d.Members {
		gm := groupMember{memberID: m.MemberID, clientID: m.ClientID, host: m.ClientHost, assigned: m.Assignment}
		if m.InstanceID != nil {
			gm.instanceID = *m.InstanceID
		}
		if gm.assigned == nil {
			gm.assigned = make(kadm.TopicsSet)
		}
		// A broker may name assigned topics only by id; such partitions
		// cannot be matched to offsets, and listing offsets for an empty
		// topic name fails the whole request.
		if ps, ok := gm.assigned[""]; ok {
			gm.unnamed = len(ps)
			delete(gm.assigned, "")
		}
		g.members = append(g.members, gm)
	}
	return g
}

// loadGroups describes the named groups and computes their per-partition
// lag: committed offsets, end offsets, and which member owns each
// partition. Groups come back in the order of names. It returns an error
// only if nothing could be asked at all.
func (cf *clientFlags) loadGroups(ctx context.Context, cmd *cobra.Command, adm *kadm.Client, names []string, listed kadm.ListedGroups) ([]loadedGroup, error) {
	infos, failed, err := cf.describeGroups(ctx, cmd, adm, names, listed)
	if err != nil {
		return nil, err
	}
	var found []string
	for _, name := range names {
		if _, ok := infos[name]; ok {
			found = append(found, name)
		}
	}
	fetched := adm.FetchManyOffsets(ctx, found...)

	// The offsets of every topic any of the groups consumes, in one go.
	topics := make(kadm.TopicsSet)
	for _, name := range found {
		g := infos[name]
		topics.MergeTopics(g.subscribed)
		for _, m := range g.members {
			topics.Merge(m.assigned)
		}
		topics.Merge(fetched[name].Fetched.Partitions())
	}
	var starts, ends kadm.ListedOffsets
	if t := topics.Topics(); len(t) > 0 {
		// Shard errors leave partitions out; their rows say so.
		if starts, err = adm.ListStartOffsets(ctx, t...); err != nil && !isShardErr(err) {
			return nil, err
		}
		if ends, err = adm.ListEndOffsets(ctx, t...); err != nil && !isShardErr(err) {
			return nil, err
		}
	}

	out := make([]loadedGroup, 0, len(names))
	for _, name := range names {
		if ferr, ok := failed[name]; ok {
			out = append(out, loadedGroup{groupInfo: groupInfo{name: name}, err: ferr})
			continue
		}
		g := loadedGroup{groupInfo: infos[name]}
		f, ok := fetched[name]
		switch {
		case !ok:
			g.err = cf.unanswered(cmd, "fetch offsets of", name, nil)
		case errors.Is(f.Err, kerr.GroupIDNotFound): // deleted since described
			g.err = errGroupNotFound{name}
		case f.Err != nil:
			g.err = fmt.Errorf("cannot fetch offsets of group %s: %s", name, cf.explain(cmd, f.Err))
		default:
			g.rows = groupLagRows(g.groupInfo, f.Fetched, starts, ends)
		}
		out = append(out, g)
	}
	return out, nil
}

func isShardErr(err error) bool {
	_, ok := errors.AsType[*kadm.ShardErrors](err)
	return ok
}

// errOffsetsUnknown says a partition's offsets were not listed.
var errOffsetsUnknown = errors.New("offsets not listed")

// groupLagRows computes one row per partition of every topic the group is
// assigned, subscribed to or has committed offsets for. A partition without
// a committed offset lags by everything in its log (end - log start), which
// is where a consumer reading from the earliest offset would begin.
func groupLagRows(g groupInfo, commits kadm.OffsetResponses, starts, ends kadm.ListedOffsets) []partitionLag {
	type tp struct {
		t string
		p int32
	}
	rows := make(map[tp]*partitionLag)
	row := func(t string, p int32) *partitionLag {
		r, ok := rows[tp{t, p}]
		if !ok {
			r = &partitionLag{topic: t, partition: p, committed: -1, end: -1, lag: -1}
			rows[tp{t, p}] = r
		}
		return r
	}
	topics := make(kadm.TopicsSet)
	topics.MergeTopics(g.subscribed)
	for _, m := range g.members {
		m.assigned.Each(func(t string, p int32) { row(t, p).owner = m.memberID })
		topics.Merge(m.assigned)
	}
	commits.Each(func(o kadm.OffsetResponse) {
		r := row(o.Topic, o.Partition)
		if o.Err != nil {
			r.err = o.Err
			return
		}
		r.committed = max(o.At, -1)
	})
	topics.Merge(commits.Partitions())
	// Every partition of those topics; a topic that does not exist is
	// listed only as partition -1 and adds nothing.
	for _, t := range topics.Topics() {
		for p := range ends[t] {
			if p >= 0 {
				row(t, p)
			}
		}
	}

	out := make([]partitionLag, 0, len(rows))
	for _, r := range rows {
		if r.err == nil {
			end, ok := ends.Lookup(r.topic, r.partition)
			if !ok {
				// The whole topic may be missing (deleted): ListOffsets
				// reports that on partition -1.
				end, ok = ends.Lookup(r.topic, -1)
			}
			switch {
			case !ok:
				r.err = errOffsetsUnknown
			case end.Err != nil:
				r.err = end.Err
			default:
				r.end = end.Offset
			}
		}
		if r.err == nil {
			switch {
			case r.committed >= 0:
				r.lag = max(r.end-r.committed, 0)
			default:
				r.lag = r.end
				if start, ok := starts.Lookup(r.topic, r.partition); ok && start.Err == nil {
					r.lag = max(r.end-start.Offset, 0)
				}
			}
		}
		out = append(out, *r)
	}
	slices.SortFunc(out, func(a, b partitionLag) int {
		return cmp.Or(strings.Compare(a.topic, b.topic), cmp.Compare(a.partition, b.partition))
	})
	return out
}

// totalLag sums the known lags.
func totalLag(rows []partitionLag) int64 {
	var n int64
	for _, r := range rows {
		n += max(r.lag, 0)
	}
	return n
}

// offsetOrDash renders an offset, or "-" for -1.
func offsetOrDash(o int64) string {
	if o < 0 {
		return "-"
	}
	return fmt.Sprint(o)
}

// writeLagTable writes one row per partition: topic, partition, committed
// offset, end offset, lag, owning member; an ERROR column appears when some
// row has an error.
func writeLagTable(w io.Writer, rows []partitionLag) error {
	withErrors := slices.ContainsFunc(rows, func(r partitionLag) bool { return r.err != nil })
	tw := newTable(w)
	header := "TOPIC\tPARTITION\tCOMMITTED-OFFSET\tLOG-END-OFFSET\tLAG\tMEMBER-ID"
	if withErrors {
		header += "\tERROR"
	}
	fmt.Fprintln(tw, header)
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%s", r.topic, r.partition, offsetOrDash(r.committed), offsetOrDash(r.end), offsetOrDash(r.lag), orDash(r.owner))
		if withErrors {
			errText := "-"
			switch {
			case r.err == errOffsetsUnknown:
				errText = "OFFSETS_UNKNOWN"
			case r.err != nil:
				errText = errName(r.err)
			}
			fmt.Fprintf(tw, "\t%s", errText)
		}
		fmt.Fprintln(tw)
	}
	return tw.Flush()
}

// writeLagTotals writes the total lag, and each topic's when there are
// several topics.
func writeLagTotals(w io.Writer, rows []partitionLag) error {
	byTopic := make(map[string]int64)
	for _, r := range rows {
		byTopic[r.topic] += max(r.lag, 0)
	}
	tw := newTable(w)
	fmt.Fprintf(tw, "TOTAL-LAG\t%d\n", totalLag(rows))
	if len(byTopic) > 1 {
		for _, t := range slices.Sorted(maps.Keys(byTopic)) {
			fmt.Fprintf(tw, "  %s\t%d\n", t, byTopic[t])
		}
	}
	return tw.Flush()
}

// assignedString renders a member's partitions as "orders[0,2] other[1]".
func assignedString(s kadm.TopicsSet) string {
	var parts []string
	for _, tl := range s.Sorted() {
		ps := slices.Sorted(slices.Values(tl.Partitions))
		strs := make([]string, len(ps))
		for i, p := range ps {
			strs[i] = fmt.Sprint(p)
		}
		parts = append(parts, tl.Topic+"["+strings.Join(strs, ",")+"]")
	}
	if len(parts) == 0 {
		return "-"
	}
	return strings.Join(parts, " ")
}

func writeGroupDescription(w io.Writer, g loadedGroup) error {
	tw := newTable(w)
	fmt.Fprintf(tw, "GROUP\t%s\n", g.name)
	coordinator := brokerID(g.coordinator.NodeID)
	if g.coordinator.Host != "" {
		coordinator += fmt.Sprintf(" (%s:%d)", g.coordinator.Host, g.coordinator.Port)
	}
	fmt.Fprintf(tw, "COORDINATOR\t%s\n", coordinator)
	fmt.Fprintf(tw, "TYPE\t%s\n", g.groupType)
	fmt.Fprintf(tw, "STATE\t%s\n", orDash(g.state))
	fmt.Fprintf(tw, "PROTOCOL-TYPE\t%s\n", orDash(g.protocolType))
	fmt.Fprintf(tw, "PROTOCOL\t%s\n", orDash(g.protocol))
	fmt.Fprintf(tw, "MEMBERS\t%d\n", len(g.members))
	fmt.Fprintf(tw, "TOTAL-LAG\t%d\n", totalLag(g.rows))
	if err := tw.Flush(); err != nil {
		return err
	}

	fmt.Fprintf(w, "\nMEMBERS\n")
	if len(g.members) == 0 {
		fmt.Fprintln(w, "(no active members)")
	} else {
		tw = newTable(w)
		fmt.Fprintln(tw, "MEMBER-ID\tINSTANCE-ID\tCLIENT-ID\tHOST\tASSIGNED")
		for _, m := range g.members {
			assigned := assignedString(m.assigned)
			if m.unnamed > 0 {
				extra := plural(int64(m.unnamed), "partition", "partitions") + " of topics named only by id"
				if len(m.assigned) == 0 {
					assigned = extra
				} else {
					assigned += " + " + extra
				}
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", m.memberID, orDash(m.instanceID), orDash(m.clientID), orDash(strings.TrimPrefix(m.host, "/")), assigned)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}

	fmt.Fprintf(w, "\nOFFSETS\n")
	if len(g.rows) == 0 {
		fmt.Fprintln(w, "(no committed offsets)")
		return nil
	}
	return writeLagTable(w, g.rows)
}

func newGroupDescribeCmd(cf *clientFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "describe GROUP...",
		Short: "Describe groups: state, protocol, members and their partitions, committed offsets and lag",
		Long: `Describe consumer groups: their state, protocol, members (member id,
instance id, client id, host, assigned partitions), and for every partition of
the topics a group consumes its committed offset, the log end offset and the
lag between them. A partition without a committed offset lags by every record
in its log.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cmd.SilenceUsage = true
			adm, err := cf.newAdmin(cmd)
			if err != nil {
				return err
			}
			defer adm.Close()
			ctx, cancel := cf.requestContext(cmd)
			defer cancel()

			names := slices.Compact(slices.Sorted(slices.Values(args)))
			groups, err := cf.loadGroups(ctx, cmd, adm, names, nil)
			if err != nil {
				return fmt.Errorf("cannot describe %s: %s", groupsNoun(names), cf.explain(cmd, err))
			}
			var failures []string
			printed := 0
			out := cmd.OutOrStdout()
			for _, g := range groups {
				if g.err != nil {
					failures = append(failures, g.err.Error())
					continue
				}
				if printed > 0 {
					fmt.Fprintln(out)
				}
				printed++
				if err := writeGroupDescription(out, g); err != nil {
					return err
				}
			}
			if len(failures) > 0 {
				return errors.New(strings.Join(failures, "; "))
			}
			return nil
		},
	}
}

func groupsNoun(groups []string) string {
	if len(groups) == 1 {
		return "group " + groups[0]
	}
	return "groups " + strings.Join(groups, ", ")
}

func newGroupDeleteCmd(cf *clientFlags) *cobra.Command {
	return &cobra.Command{
		Use:     "delete GROUP...",
		Aliases: []string{"rm"},
		Short:   "Delete groups that have no active members, with their committed offsets",
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

			names := slices.Compact(slices.Sorted(slices.Values(args)))
			resps, err := adm.DeleteGroups(ctx, names...)
			if err != nil && len(resps) == 0 {
				return fmt.Errorf("cannot delete %s: %s", groupsNoun(names), cf.explain(cmd, err))
			}
			var failures []string
			for _, g := range names {
				r, ok := resps[g]
				switch {
				case !ok:
					failures = append(failures, cf.unanswered(cmd, "delete", g, err).Error())
				case errors.Is(r.Err, kerr.GroupIDNotFound):
					failures = append(failures, fmt.Sprintf("group %s does not exist", g))
				case errors.Is(r.Err, kerr.NonEmptyGroup):
					failures = append(failures, fmt.Sprintf("group %s is not empty", g))
				case r.Err != nil:
					failures = append(failures, fmt.Sprintf("cannot delete group %s: %s", g, cf.explainKafka(cmd, r.Err, r.ErrMessage)))
				default:
					fmt.Fprintf(cmd.OutOrStdout(), "deleted group %s\n", g)
				}
			}
			if len(failures) > 0 {
				return errors.New(strings.Join(failures, "; "))
			}
			return nil
		},
	}
}

func newGroupLagCmd(cf *clientFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "lag [GROUP]",
		Short: "Show a group's lag per partition, or every group's total lag",
		Long: `With GROUP, show for every partition of the topics the group consumes its
committed offset, the log end offset, the lag between them and the member that
owns the partition, then the total lag (and each topic's). A partition without
a committed offset lags by every record in its log.

Without GROUP, show every group's state, member count and total lag.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cmd.SilenceUsage = true
			adm, err := cf.newAdmin(cmd)
			if err != nil {
				return err
			}
			defer adm.Close()
			ctx, cancel := cf.requestContext(cmd)
			defer cancel()

			out := cmd.OutOrStdout()
			if len(args) == 1 {
				group := args[0]
				groups, err := cf.loadGroups(ctx, cmd, adm, []string{group}, nil)
				if err != nil {
					return fmt.Errorf("cannot compute the lag of group %s: %s", group, cf.explain(cmd, err))
				}
				g := groups[0]
				if g.err != nil {
					return g.err
				}
				if len(g.rows) == 0 {
					fmt.Fprintf(out, "group %s has no committed offsets and no assigned partitions\n", group)
					return nil
				}
				if err := writeLagTable(out, g.rows); err != nil {
					return err
				}
				fmt.Fprintln(out)
				return writeLagTotals(out, g.rows)
			}

			listed, err := adm.ListGroups(ctx)
			if err != nil {
				return fmt.Errorf("cannot list groups: %s", cf.explain(cmd, err))
			}
			var names []string
			for _, g := range listed.Sorted() {
				if t := listedGroupType(g); t == groupTypeClassic || t == groupTypeConsumer {
					names = append(names, g.Group)
				}
			}
			var groups []loadedGroup
			if len(names) > 0 {
				if groups, err = cf.loadGroups(ctx, cmd, adm, names, listed); err != nil {
					return fmt.Errorf("cannot compute the lag of groups: %s", cf.explain(cmd, err))
				}
			}
			return writeGroupsLag(out, groups)
		},
	}
}

// writeGroupsLag writes one row per group: state, members, total lag; an
// ERROR column appears when some group could not be loaded.
func writeGroupsLag(w io.Writer, groups []loadedGroup) error {
	withErrors := slices.ContainsFunc(groups, func(g loadedGroup) bool { return g.err != nil })
	tw := newTable(w)
	header := "GROUP\tSTATE\tMEMBERS\tTOTAL-LAG"
	if withErrors {
		header += "\tERROR"
	}
	fmt.Fprintln(tw, header)
	for _, g := range groups {
		if g.err != nil {
			fmt.Fprintf(tw, "%s\t-\t-\t-\t%s\n", g.name, g.err)
			continue
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d", g.name, orDash(g.state), len(g.members), totalLag(g.rows))
		if withErrors {
			fmt.Fprint(tw, "\t-")
		}
		fmt.Fprintln(tw)
	}
	return tw.Flush()
}
