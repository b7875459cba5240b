package main

import (
	"bytes"
	"context"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// aclEntriesOf parses acl flags for mode and returns the entries as
// strings.
func aclEntriesOf(t *testing.T, mode aclMode, args ...string) ([]string, error) {
	t.Helper()
	f := &aclFlags{}
	fs := pflag.NewFlagSet("acl", pflag.ContinueOnError)
	f.register(fs, mode)
	if err := fs.Parse(args); err != nil {
		t.Fatalf("parse %q: %v", args, err)
	}
	entries, err := f.entries(mode)
	var out []string
	for _, e := range entries {
		out = append(out, e.String())
	}
	return out, err
}

func TestACLCreateBindings(t *testing.T) {
	cases := []struct {
		name string
		args []string
		want []string
	}{
		{"principals x hosts x operations", []string{"--allow-principal", "User:alice", "--allow-principal", "User:bob", "--allow-host", "10.0.0.1",
			"--operation", "Read", "--operation", "describe", "--topic", "orders", "--resource-pattern-type", "prefixed"}, []string{
			"ALLOW User:alice from 10.0.0.1 READ on TOPIC orders (PREFIXED)",
			"ALLOW User:bob from 10.0.0.1 READ on TOPIC orders (PREFIXED)",
			"ALLOW User:alice from 10.0.0.1 DESCRIBE on TOPIC orders (PREFIXED)",
			"ALLOW User:bob from 10.0.0.1 DESCRIBE on TOPIC orders (PREFIXED)",
		}},
		{"allow and deny, default host", []string{"--allow-principal", "User:*", "--deny-principal", "User:mallory", "--deny-host", "10.0.0.9",
			"--operation", "All", "--group", "g", "--cluster"}, []string{
			"ALLOW User:* from * ALL on GROUP g (LITERAL)",
			"DENY User:mallory from 10.0.0.9 ALL on GROUP g (LITERAL)",
			"ALLOW User:* from * ALL on CLUSTER kafka-cluster (LITERAL)",
			"DENY User:mallory from 10.0.0.9 ALL on CLUSTER kafka-cluster (LITERAL)",
		}},
		{"every resource type", []string{"--allow-principal", "User:a", "--operation", "Describe", "--transactional-id", "tx", "--delegation-token", "tok"}, []string{
			"ALLOW User:a from * DESCRIBE on TRANSACTIONAL_ID tx (LITERAL)",
			"ALLOW User:a from * DESCRIBE on DELEGATION_TOKEN tok (LITERAL)",
		}},
		{"user principal resource", []string{"--allow-principal", "User:admin", "--operation", "CreateTokens", "--operation", "DESCRIBE_TOKENS", "--user-principal", "User:alice"}, []string{
			"ALLOW User:admin from * CREATE_TOKENS on USER User:alice (LITERAL)",
			"ALLOW User:admin from * DESCRIBE_TOKENS on USER User:alice (LITERAL)",
		}},
		{"producer", []string{"--allow-principal", "User:app", "--producer", "--topic", "t", "--transactional-id", "tx", "--idempotent"}, []string{
			"ALLOW User:app from * WRITE on TOPIC t (LITERAL)",
			"ALLOW User:app from * DESCRIBE on TOPIC t (LITERAL)",
			"ALLOW User:app from * CREATE on TOPIC t (LITERAL)",
			"ALLOW User:app from * WRITE on TRANSACTIONAL_ID tx (LITERAL)",
			"ALLOW User:app from * DESCRIBE on TRANSACTIONAL_ID tx (LITERAL)",
			"ALLOW User:app from * IDEMPOTENT_WRITE on CLUSTER kafka-cluster (LITERAL)",
		}},
		{"consumer", []string{"--allow-principal", "User:app", "--allow-host", "10.1.1.1", "--consumer", "--topic", "t", "--group", "g"}, []string{
			"ALLOW User:app from 10.1.1.1 READ on TOPIC t (LITERAL)",
			"ALLOW User:app from 10.1.1.1 DESCRIBE on TOPIC t (LITERAL)",
			"ALLOW User:app from 10.1.1.1 READ on GROUP g (LITERAL)",
		}},
		{"producer and consumer", []string{"--allow-principal", "User:app", "--producer", "--consumer", "--topic", "a", "--topic", "b", "--group", "g"}, []string{
			"ALLOW User:app from * WRITE on TOPIC a (LITERAL)",
			"ALLOW User:app from * DESCRIBE on TOPIC a (LITERAL)",
			"ALLOW User:app from * CREATE on TOPIC a (LITERAL)",
			"ALLOW User:app from * READ on TOPIC a (LITERAL)",
			"ALLOW User:app from * WRITE on TOPIC b (LITERAL)",
			"ALLOW User:app from * DESCRIBE on TOPIC b (LITERAL)",
			"ALLOW User:app from * CREATE on TOPIC b (LITERAL)",
			"ALLOW User:app from * READ on TOPIC b (LITERAL)",
			"ALLOW User:app from * READ on GROUP g (LITERAL)",
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := aclEntriesOf(t, aclCreate, tc.args...)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("bindings:\n got %s\nwant %s", strings.Join(got, "\n     "), strings.Join(tc.want, "\n     "))
			}
		})
	}
}

func TestACLFilters(t *testing.T) {
	cases := []struct {
		mode aclMode
		args []string
		want []string
	}{
		{aclList, nil, []string{"ANY <any> from <any> ANY on ANY <any> (ANY)"}},
		{aclList, []string{"--topic", "t"}, []string{"ANY <any> from <any> ANY on TOPIC t (ANY)"}},
		{aclList, []string{"--allow-principal", "User:a", "--resource-pattern-type", "match", "--group", "g"}, []string{"ALLOW User:a from <any> ANY on GROUP g (MATCH)"}},
		{aclList, []string{"--deny-host", "10.0.0.1", "--operation", "Write"}, []string{"DENY <any> from 10.0.0.1 WRITE on ANY <any> (ANY)"}},
		{aclDelete, []string{"--topic", "t", "--operation", "Read", "--deny-principal", "User:x"}, []string{"DENY User:x from <any> READ on TOPIC t (LITERAL)"}},
		{aclDelete, []string{"--allow-principal", "User:app", "--consumer", "--topic", "t", "--group", "g"}, []string{
			"ALLOW User:app from <any> READ on TOPIC t (LITERAL)",
			"ALLOW User:app from <any> DESCRIBE on TOPIC t (LITERAL)",
			"ALLOW User:app from <any> READ on GROUP g (LITERAL)",
		}},
	}
	for _, tc := range cases {
		got, err := aclEntriesOf(t, tc.mode, tc.args...)
		if err != nil {
			t.Fatalf("%q: %v", tc.args, err)
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("filters of %q:\n got %q\nwant %q", tc.args, got, tc.want)
		}
	}
}

func TestACLFlagErrors(t *testing.T) {
	cases := []struct {
		mode aclMode
		args []string
		want string
	}{
		{aclCreate, []string{"--topic", "t", "--operation", "Read"}, "no principal: give --allow-principal or --deny-principal (such as User:alice)"},
		{aclCreate, []string{"--allow-principal", "alice", "--topic", "t", "--operation", "Read"}, `invalid principal "alice": want TYPE:NAME such as User:alice`},
		{aclCreate, []string{"--allow-principal", "User:", "--topic", "t", "--operation", "Read"}, `invalid principal "User:": want TYPE:NAME such as User:alice`},
		{aclCreate, []string{"--allow-principal", "User:a", "--topic", "t"}, "no operation: give --operation (repeatable), or --producer or --consumer"},
		{aclCreate, []string{"--allow-principal", "User:a", "--operation", "Read"}, "no resource: give --topic, --group, --cluster, --transactional-id, --delegation-token or --user-principal"},
		{aclCreate, []string{"--allow-principal", "User:a", "--topic", "t", "--operation", "Reed"}, `invalid --operation "Reed": want Read, Write, Create, Delete, Alter, Describe, ClusterAction, DescribeConfigs, AlterConfigs, IdempotentWrite, CreateTokens, DescribeTokens or All`},
		{aclCreate, []string{"--allow-principal", "User:a", "--topic", "t", "--operation", "Any"}, `invalid --operation "Any": want Read, Write, Create, Delete, Alter, Describe, ClusterAction, DescribeConfigs, AlterConfigs, IdempotentWrite, CreateTokens, DescribeTokens or All`},
		{aclCreate, []string{"--allow-principal", "User:a", "--cluster", "--operation", "Read"}, "operation READ does not apply to resource type CLUSTER: want CREATE, CLUSTER_ACTION, DESCRIBE_CONFIGS, ALTER_CONFIGS, IDEMPOTENT_WRITE, ALTER, DESCRIBE or ALL"},
		{aclCreate, []string{"--allow-principal", "User:a", "--group", "g", "--operation", "Write"}, "operation WRITE does not apply to resource type GROUP: want READ, DESCRIBE, DELETE or ALL"},
		{aclCreate, []string{"--allow-principal", "User:a", "--topic", "t", "--operation", "Read", "--resource-pattern-type", "MATCH"}, `invalid --resource-pattern-type "MATCH": want LITERAL or PREFIXED`},
		{aclList, []string{"--resource-pattern-type", "glob"}, `invalid --resource-pattern-type "glob": want ANY, MATCH, LITERAL or PREFIXED`},
		{aclCreate, []string{"--allow-host", "10.0.0.1", "--deny-principal", "User:a", "--topic", "t", "--operation", "Read"}, "--allow-host needs --allow-principal"},
		{aclCreate, []string{"--allow-principal", "User:a", "--topic", "", "--operation", "Read"}, `invalid --topic "": want a name`},
		{aclCreate, []string{"--allow-principal", "User:a", "--producer", "--topic", "t", "--operation", "Read"}, "--operation cannot be used with --producer or --consumer"},
		{aclCreate, []string{"--allow-principal", "User:a", "--deny-principal", "User:b", "--producer", "--topic", "t"}, "--deny-principal and --deny-host cannot be used with --producer or --consumer"},
		{aclCreate, []string{"--allow-principal", "User:a", "--producer"}, "--producer and --consumer need --topic"},
		{aclCreate, []string{"--allow-principal", "User:a", "--consumer", "--topic", "t"}, "--consumer needs --group"},
		{aclCreate, []string{"--allow-principal", "User:a", "--producer", "--topic", "t", "--group", "g"}, "--group needs --consumer (or --operation)"},
		{aclCreate, []string{"--allow-principal", "User:a", "--consumer", "--topic", "t", "--group", "g", "--transactional-id", "x"}, "--transactional-id needs --producer (or --operation)"},
		{aclCreate, []string{"--allow-principal", "User:a", "--producer", "--topic", "t", "--cluster"}, "--cluster, --delegation-token and --user-principal cannot be used with --producer or --consumer"},
		{aclCreate, []string{"--allow-principal", "User:a", "--topic", "t", "--operation", "Read", "--idempotent"}, "--idempotent needs --producer"},
		{aclDelete, []string{"--allow-principal", "User:a"}, "no resource: give the --topic, --group, --cluster, --transactional-id, --delegation-token or --user-principal whose ACLs to delete"},
	}
	for _, tc := range cases {
		_, err := aclEntriesOf(t, tc.mode, tc.args...)
		if err == nil || err.Error() != tc.want {
			t.Errorf("%q: error = %v\n want %q", tc.args, err, tc.want)
		}
	}
}

func TestACLCommandErrorsBeforeDialing(t *testing.T) {
	t.Setenv(clientConfigEnv, "")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	runSamsa(ctx, "acl", "create", "--allow-principal", "User:a", "--topic", "t", "-b", "127.0.0.1:1").
		wantErr(t, "no operation: give --operation (repeatable), or --producer or --consumer")
	runSamsa(ctx, "acl", "delete", "--force", "-b", "127.0.0.1:1").
		wantErr(t, "no resource: give the --topic, --group, --cluster, --transactional-id, --delegation-token or --user-principal whose ACLs to delete")
}

func TestWriteACLs(t *testing.T) {
	a := aclEntry{perm: kmsg.ACLPermissionTypeAllow, principal: "User:bob", host: "*", op: kmsg.ACLOperationRead,
		typ: kmsg.ACLResourceTypeTopic, name: "orders", pattern: kmsg.ACLResourcePatternTypeLiteral}
	b := a
	b.principal = "User:alice"
	c := a
	c.typ, c.name = kmsg.ACLResourceTypeGroup, "g"
	acls := sortACLs([]aclEntry{c, a, b, a})
	if len(acls) != 3 || acls[0] != b || acls[1] != a || acls[2] != c {
		t.Fatalf("sorted = %v", acls)
	}
	var out bytes.Buffer
	cmd := &cobra.Command{}
	cmd.SetOut(&out)
	if err := writeACLs(cmd, acls); err != nil {
		t.Fatal(err)
	}
	want := "PRINCIPAL   HOST  OPERATION  PERMISSION  RESOURCE-TYPE  NAME    PATTERN\n" +
		"User:alice  *     READ       ALLOW       TOPIC          orders  LITERAL\n" +
		"User:bob    *     READ       ALLOW       TOPIC          orders  LITERAL\n" +
		"User:bob    *     READ       ALLOW       GROUP          g       LITERAL\n"
	if out.String() != want {
		t.Fatalf("table:\n%s\nwant:\n%s", out.String(), want)
	}
}
