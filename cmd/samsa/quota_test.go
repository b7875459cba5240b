package main

import (
	"bytes"
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func TestParseQuotaOps(t *testing.T) {
	got, err := parseQuotaOps([]string{"producer_byte_rate=1024,consumer_byte_rate=2048.5", " request_percentage = 50 "}, []string{"controller_mutation_rate", "a, b"})
	if err != nil {
		t.Fatal(err)
	}
	want := []kadm.AlterClientQuotaOp{
		{Key: "producer_byte_rate", Value: 1024},
		{Key: "consumer_byte_rate", Value: 2048.5},
		{Key: "request_percentage", Value: 50},
		{Key: "controller_mutation_rate", Remove: true},
		{Key: "a", Remove: true},
		{Key: "b", Remove: true},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("ops = %+v\nwant %+v", got, want)
	}
	for _, tc := range []struct {
		adds, deletes []string
		want          string
	}{
		{nil, nil, "nothing to alter: give --add key=value or --delete key"},
		{[]string{"producer_byte_rate"}, nil, `invalid --add "producer_byte_rate": want key=value`},
		{[]string{"a=1,"}, nil, `invalid --add "": want key=value`},
		{[]string{"producer_byte_rate=fast"}, nil, "invalid --add producer_byte_rate=fast: want a number, 0 or more"},
		{[]string{"producer_byte_rate=-1"}, nil, "invalid --add producer_byte_rate=-1: want a number, 0 or more"},
		{[]string{"a=1,a=2"}, nil, "quota a given twice"},
		{[]string{"a=1"}, []string{"a"}, "quota a given twice"},
		{nil, []string{"a=1"}, `invalid --delete "a=1": want quota names, key[,key...]`},
		{nil, []string{"a,,b"}, `invalid --delete "a,,b": want quota names, key[,key...]`},
	} {
		if _, err := parseQuotaOps(tc.adds, tc.deletes); err == nil || err.Error() != tc.want {
			t.Errorf("parseQuotaOps(%q, %q) error = %v, want %q", tc.adds, tc.deletes, err, tc.want)
		}
	}
}

func quotaEntityOf(t *testing.T, args ...string) (kadm.ClientQuotaEntity, error) {
	t.Helper()
	q := &quotaEntityFlags{}
	fs := pflag.NewFlagSet("quota", pflag.ContinueOnError)
	q.register(fs)
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	return q.entity(fs.Changed)
}

func TestQuotaEntity(t *testing.T) {
	e, err := quotaEntityOf(t, "--client-default", "--user", "alice")
	if err != nil {
		t.Fatal(err)
	}
	if got := entityString(e); got != "user=alice,client-id=<default>" {
		t.Fatalf("entity = %q", got)
	}
	comps := describeComponents(e)
	if len(comps) != 2 || comps[0].MatchType != kmsg.QuotasMatchTypeExact || *comps[0].MatchName != "alice" ||
		comps[1].MatchType != kmsg.QuotasMatchTypeDefault || comps[1].MatchName != nil {
		t.Fatalf("describe components = %+v", comps)
	}
	if e, err := quotaEntityOf(t, "--ip", "10.0.0.1"); err != nil || entityString(e) != "ip=10.0.0.1" {
		t.Fatalf("ip entity = %v, %v", e, err)
	}
	if e, err := quotaEntityOf(t); err != nil || len(e) != 0 {
		t.Fatalf("no entity flags = %v, %v", e, err)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--user", "a", "--user-default"}, "give --user or --user-default, not both"},
		{[]string{"--client-id", "a", "--client-default"}, "give --client-id or --client-default, not both"},
		{[]string{"--user", ""}, `invalid --user "": want a name (or --user-default)`},
		{[]string{"--ip", "10.0.0.1", "--user", "a"}, "an IP quota cannot be combined with --user or --client-id"},
	} {
		if _, err := quotaEntityOf(t, tc.args...); err == nil || err.Error() != tc.want {
			t.Errorf("%q: error = %v, want %q", tc.args, err, tc.want)
		}
	}
}

func TestWriteQuotas(t *testing.T) {
	quotas := kadm.DescribedClientQuotas{
		{Entity: kadm.ClientQuotaEntity{{Type: "client-id", Name: kadm.StringPtr("app")}, {Type: "user"}},
			Values: kadm.ClientQuotaValues{{Key: "producer_byte_rate", Value: 1024}, {Key: "consumer_byte_rate", Value: 0.5}}},
		{Entity: kadm.ClientQuotaEntity{{Type: "ip", Name: kadm.StringPtr("10.0.0.1")}},
			Values: kadm.ClientQuotaValues{{Key: "connection_creation_rate", Value: 10}}},
	}
	var out bytes.Buffer
	cmd := &cobra.Command{}
	cmd.SetOut(&out)
	if err := writeQuotas(cmd, quotas); err != nil {
		t.Fatal(err)
	}
	want := "ENTITY                        KEY                       VALUE\n" +
		"ip=10.0.0.1                   connection_creation_rate  10\n" +
		"user=<default>,client-id=app  consumer_byte_rate        0.5\n" +
		"user=<default>,client-id=app  producer_byte_rate        1024\n"
	if out.String() != want {
		t.Fatalf("table:\n%s\nwant:\n%s", out.String(), want)
	}
}

func TestQuotaCommandErrorsBeforeDialing(t *testing.T) {
	t.Setenv(clientConfigEnv, "")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	runSamsa(ctx, "quota", "alter", "--add", "producer_byte_rate=1", "-b", "127.0.0.1:1").
		wantErr(t, "no entity: give --user, --client-id or --ip (or --user-default, --client-default, --ip-default)")
	runSamsa(ctx, "quota", "alter", "--user", "a", "-b", "127.0.0.1:1").
		wantErr(t, "nothing to alter: give --add key=value or --delete key")
}
