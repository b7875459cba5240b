package main

import (
	"testing"

	"github.com/twmb/franz-go/pkg/kadm"
)

func TestParseConfigPairs(t *testing.T) {
	got, err := parseConfigPairs([]string{"cleanup.policy=compact,delete", "retention.ms=1000", "empty="}, "--config")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"cleanup.policy": "compact,delete", "retention.ms": "1000", "empty": ""}
	if len(got) != len(want) {
		t.Fatalf("got %d configs, want %d", len(got), len(want))
	}
	for k, v := range want {
		if got[k] == nil || *got[k] != v {
			t.Errorf("config %s = %v, want %q", k, got[k], v)
		}
	}
	if m, err := parseConfigPairs(nil, "--config"); err != nil || m != nil {
		t.Fatalf("no pairs = %v, %v", m, err)
	}
}

func TestBuildAlterConfigs(t *testing.T) {
	got, err := buildAlterConfigs([]string{"retention.ms=1000", "cleanup.policy=compact"}, []string{"segment.bytes"})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 {
		t.Fatalf("got %d ops", len(got))
	}
	if got[0].Op != kadm.SetConfig || got[0].Name != "retention.ms" || *got[0].Value != "1000" {
		t.Errorf("op 0 = %+v", got[0])
	}
	if got[1].Op != kadm.SetConfig || got[1].Name != "cleanup.policy" || *got[1].Value != "compact" {
		t.Errorf("op 1 = %+v", got[1])
	}
	if got[2].Op != kadm.DeleteConfig || got[2].Name != "segment.bytes" || got[2].Value != nil {
		t.Errorf("op 2 = %+v", got[2])
	}
	for _, tc := range []struct {
		sets, deletes []string
		want          string
	}{
		{nil, nil, "nothing to alter: give --set key=value or --delete key"},
		{[]string{"a"}, nil, `invalid --set "a": want key=value`},
		{nil, []string{"a=1"}, `invalid --delete "a=1": want a config name`},
		{[]string{"a=1", "a=2"}, nil, "config a given twice"},
	} {
		if _, err := buildAlterConfigs(tc.sets, tc.deletes); err == nil || err.Error() != tc.want {
			t.Errorf("buildAlterConfigs(%q, %q) error = %v, want %q", tc.sets, tc.deletes, err, tc.want)
		}
	}
}

func TestCreatedShape(t *testing.T) {
	r := kadm.CreateTopicResponse{NumPartitions: 3, ReplicationFactor: 1, ID: kadm.TopicID{1}}
	if got := createdShape(r); got != ": 3 partitions, replication factor 1, id AQAAAAAAAAAAAAAAAAAAAA" {
		t.Fatalf("shape = %q", got)
	}
	if got := createdShape(kadm.CreateTopicResponse{NumPartitions: 1, ReplicationFactor: -1}); got != ": 1 partition" {
		t.Fatalf("shape = %q", got)
	}
	if got := createdShape(kadm.CreateTopicResponse{NumPartitions: -1, ReplicationFactor: -1}); got != "" {
		t.Fatalf("shape of an old broker's answer = %q", got)
	}
}
