package main

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// The client quota entity types.
const (
	quotaUser     = "user"
	quotaClientID = "client-id"
	quotaIP       = "ip"
)

// newQuotaCmd returns `samsa quota` with describe and alter: client quotas,
// as `kafka-configs --entity-type users|clients|ips` manages them.
func newQuotaCmd() *cobra.Command {
	cf := &clientFlags{}
	cmd := &cobra.Command{
		Use:   "quota",
		Short: "Describe and alter client quotas (per user, client id or IP)",
		Args:  cobra.NoArgs,
	}
	cf.register(cmd)
	cmd.AddCommand(newQuotaDescribeCmd(cf), newQuotaAlterCmd(cf))
	return cmd
}

// quotaEntityFlags name one quota entity: --user NAME or --user-default,
// and so on.
type quotaEntityFlags struct {
	user, clientID, ip                    string
	userDefault, clientDefault, ipDefault bool
}

func (q *quotaEntityFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&q.user, "user", "", "user principal name the quota is for")
	fs.BoolVar(&q.userDefault, "user-default", false, "the default quota of users")
	fs.StringVar(&q.clientID, "client-id", "", "client id the quota is for")
	fs.BoolVar(&q.clientDefault, "client-default", false, "the default quota of client ids")
	fs.StringVar(&q.ip, "ip", "", "IP address the quota is for (connection_creation_rate)")
	fs.BoolVar(&q.ipDefault, "ip-default", false, "the default quota of IP addresses")
}

// entity returns the named entity's components (none if no flag is
// given). changed reports whether a flag was given.
func (q *quotaEntityFlags) entity(changed func(string) bool) (kadm.ClientQuotaEntity, error) {
	var e kadm.ClientQuotaEntity
	for _, c := range []struct {
		typ, flag string
		name      string
		dflt      bool
	}{
		{quotaUser, "user", q.user, q.userDefault},
		{quotaClientID, "client-id", q.clientID, q.clientDefault},
		{quotaIP, "ip", q.ip, q.ipDefault},
	} {
		switch {
		case changed(c.flag) && c.dflt:
			return nil, fmt.Errorf("give --%s or --%s-default, not both", c.flag, strings.TrimSuffix(c.flag, "-id"))
		case c.dflt:
			e = append(e, kadm.ClientQuotaEntityComponent{Type: c.typ})
		case changed(c.flag):
			if c.typ != quotaClientID && strings.TrimSpace(c.name) == "" {
				return nil, fmt.Errorf("invalid --%s \"\": want a name (or --%s-default)", c.flag, c.flag)
			}
			e = append(e, kadm.ClientQuotaEntityComponent{Type: c.typ, Name: kadm.StringPtr(c.name)})
		}
	}
	hasIP := slices.ContainsFunc(e, func(c kadm.ClientQuotaEntityComponent) bool { return c.Type == quotaIP })
	if hasIP && len(e) > 1 {
		return nil, errors.New("an IP quota cannot be combined with --user or --client-id")
	}
	return e, nil
}

// entityString renders an entity as user=alice,client-id=<default>.
func entityString(e kadm.ClientQuotaEntity) string {
	order := map[string]int{quotaUser: 0, quotaClientID: 1, quotaIP: 2}
	e = slices.Clone(e)
	slices.SortFunc(e, func(a, b kadm.ClientQuotaEntityComponent) int {
		ao, aok := order[a.Type]
		bo, bok := order[b.Type]
		if !aok {
			ao = 3
		}
		if !bok {
			bo = 3
		}
		return cmp.Or(cmp.Compare(ao, bo), cmp.Compare(a.Type, b.Type))
	})
	parts := make([]string, 0, len(e))
	for _, c := range e {
		parts = append(parts, c.String())
	}
	return strings.Join(parts, ",")
}

func newQuotaDescribeCmd(cf *clientFlags) *cobra.Command {
	q := &quotaEntityFlags{}
	cmd := &cobra.Command{
		Use:   "describe",
		Short: "Show client quotas: all, or the entity the flags name",
		Long: `Show client quotas. With no entity flags, every quota; with --user,
--client-id or --ip (or their -default forms), the quotas of exactly that
entity, as kafka-configs --describe does.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cmd.SilenceUsage = true
			e, err := q.entity(cmd.Flags().Changed)
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
			quotas, err := adm.DescribeClientQuotas(ctx, len(e) > 0, describeComponents(e))
			if err != nil {
				return fmt.Errorf("cannot describe client quotas: %s", cf.explain(cmd, err))
			}
			return writeQuotas(cmd, quotas)
		},
	}
	q.register(cmd.Flags())
	return cmd
}

// describeComponents matches exactly e's components (a default as the
// default).
func describeComponents(e kadm.ClientQuotaEntity) []kadm.DescribeClientQuotaComponent {
	var out []kadm.DescribeClientQuotaComponent
	for _, c := range e {
		d := kadm.DescribeClientQuotaComponent{Type: c.Type, MatchName: c.Name, MatchType: kmsg.QuotasMatchTypeExact}
		if c.Name == nil {
			d.MatchType = kmsg.QuotasMatchTypeDefault
		}
		out = append(out, d)
	}
	return out
}

// writeQuotas prints the ENTITY KEY VALUE table.
func writeQuotas(cmd *cobra.Command, quotas kadm.DescribedClientQuotas) error {
	type row struct{ entity, key, value string }
	var rows []row
	for _, q := range quotas {
		for _, v := range q.Values {
			rows = append(rows, row{entityString(q.Entity), v.Key, strconv.FormatFloat(v.Value, 'f', -1, 64)})
		}
	}
	slices.SortFunc(rows, func(a, b row) int { return cmp.Or(cmp.Compare(a.entity, b.entity), cmp.Compare(a.key, b.key)) })
	tw := newTable(cmd.OutOrStdout())
	fmt.Fprintln(tw, "ENTITY\tKEY\tVALUE")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", r.entity, r.key, r.value)
	}
	return tw.Flush()
}

func newQuotaAlterCmd(cf *clientFlags) *cobra.Command {
	q := &quotaEntityFlags{}
	var adds, deletes []string
	cmd := &cobra.Command{
		Use:   "alter",
		Short: "Set or remove an entity's client quotas",
		Long: `Set (--add) or remove (--delete) quotas of one entity, as kafka-configs
--alter --add-config/--delete-config does:

  samsa quota alter --user alice --add producer_byte_rate=1024,consumer_byte_rate=2048
  samsa quota alter --user-default --client-id app --delete producer_byte_rate
  samsa quota alter --ip 10.0.0.1 --add connection_creation_rate=10`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cmd.SilenceUsage = true
			e, err := q.entity(cmd.Flags().Changed)
			if err != nil {
				return err
			}
			if len(e) == 0 {
				return errors.New("no entity: give --user, --client-id or --ip (or --user-default, --client-default, --ip-default)")
			}
			ops, err := parseQuotaOps(adds, deletes)
			if err != nil {
				return err
			}
			return runQuotaAlter(cmd, cf, e, ops)
		},
	}
	q.register(cmd.Flags())
	fs := cmd.Flags()
	fs.StringArrayVar(&adds, "add", nil, "quotas to set, key=value[,key=value...] (repeatable), e.g. producer_byte_rate=1024")
	fs.StringArrayVar(&deletes, "delete", nil, "quotas to remove, key[,key...] (repeatable)")
	return cmd
}

func runQuotaAlter(cmd *cobra.Command, cf *clientFlags, e kadm.ClientQuotaEntity, ops []kadm.AlterClientQuotaOp) error {
	adm, err := cf.newAdmin(cmd)
	if err != nil {
		return err
	}
	defer adm.Close()
	ctx, cancel := cf.requestContext(cmd)
	defer cancel()
	name := entityString(e)
	res, err := adm.AlterClientQuotas(ctx, []kadm.AlterClientQuotaEntry{{Entity: e, Ops: ops}})
	if err != nil {
		return fmt.Errorf("cannot alter the quotas of %s: %s", name, cf.explain(cmd, err))
	}
	if len(res) == 0 {
		return fmt.Errorf("cannot alter the quotas of %s: the broker did not answer for it", name)
	}
	if r := res[0]; r.Err != nil {
		return fmt.Errorf("cannot alter the quotas of %s: %s", name, cf.explainKafka(cmd, r.Err, r.ErrMessage))
	}
	var set, removed []string
	for _, op := range ops {
		if op.Remove {
			removed = append(removed, op.Key)
		} else {
			set = append(set, op.Key+"="+strconv.FormatFloat(op.Value, 'f', -1, 64))
		}
	}
	var parts []string
	if len(set) > 0 {
		parts = append(parts, "set "+strings.Join(set, ", "))
	}
	if len(removed) > 0 {
		parts = append(parts, "removed "+strings.Join(removed, ", "))
	}
	fmt.Fprintf(cmd.OutOrStdout(), "altered the quotas of %s: %s\n", name, strings.Join(parts, "; "))
	return nil
}

// parseQuotaOps parses kafka-configs' --add-config syntax (key=value pairs
// joined by commas) and --delete-config's (keys joined by commas).
func parseQuotaOps(adds, deletes []string) ([]kadm.AlterClientQuotaOp, error) {
	var ops []kadm.AlterClientQuotaOp
	seen := map[string]bool{}
	for _, a := range adds {
		for _, kv := range strings.Split(a, ",") {
			k, v, err := splitKeyValue(strings.TrimSpace(kv), "--add")
			if err != nil {
				return nil, err
			}
			k = strings.TrimSpace(k)
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err != nil || f < 0 {
				return nil, fmt.Errorf("invalid --add %s=%s: want a number, 0 or more", k, v)
			}
			if seen[k] {
				return nil, fmt.Errorf("quota %s given twice", k)
			}
			seen[k] = true
			ops = append(ops, kadm.AlterClientQuotaOp{Key: k, Value: f})
		}
	}
	for _, d := range deletes {
		for _, k := range strings.Split(d, ",") {
			k = strings.TrimSpace(k)
			if k == "" || strings.Contains(k, "=") {
				return nil, fmt.Errorf("invalid --delete %q: want quota names, key[,key...]", d)
			}
			if seen[k] {
				return nil, fmt.Errorf("quota %s given twice", k)
			}
			seen[k] = true
			ops = append(ops, kadm.AlterClientQuotaOp{Key: k, Remove: true})
		}
	}
	if len(ops) == 0 {
		return nil, errors.New("nothing to alter: give --add key=value or --delete key")
	}
	return ops, nil
}
