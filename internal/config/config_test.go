package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseProperties(t *testing.T) {
	in := `# comment
! also a comment
log.dirs = /var/lib/samsa
listeners:PLAINTEXT://127.0.0.1:9092
num.partitions 3
long.value = a,\
   b,\
   c
escaped\ key=x\ty
empty=
`
	got, err := ParseProperties(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"log.dirs":       "/var/lib/samsa",
		"listeners":      "PLAINTEXT://127.0.0.1:9092",
		"num.partitions": "3",
		"long.value":     "a,b,c",
		"escaped key":    "x\ty",
		"empty":          "",
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %q, want %q", k, got[k], v)
		}
	}
	if len(got) != len(want) {
		t.Errorf("got %d keys, want %d: %v", len(got), len(want), got)
	}
}

func TestBrokerFromFile(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "server.properties")
	os.WriteFile(p, []byte("node.id=4\nlog.dirs=/data/a\nlisteners=PLAINTEXT://0.0.0.0:19092\nlog.retention.hours=24\nmystery.setting=1\n"), 0o644)
	b := Broker{}.Defaults()
	unknown, err := b.LoadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if len(unknown) != 1 || unknown[0] != "mystery.setting" {
		t.Fatalf("unknown = %v", unknown)
	}
	if err := b.Resolve(); err != nil {
		t.Fatal(err)
	}
	if b.NodeID != 4 || b.DataDir != "/data/a" || b.Listen != "0.0.0.0:19092" {
		t.Fatalf("resolved %+v", b)
	}
	tc := b.ResolveTopic(Dynamic{}, nil)
	if tc.RetentionMs != 24*3600*1000 {
		t.Fatalf("retention.ms from log.retention.hours = %d", tc.RetentionMs)
	}
	if tc.SegmentBytes != 1<<30 || tc.MaxMessageBytes != 1048588 || !tc.CleanupDelete {
		t.Fatalf("defaults wrong: %+v", tc)
	}
	v, _ := b.Lookup("retention.ms", Dynamic{}, map[string]string{"retention.ms": "1000"})
	if v.Value != "1000" || v.Source != SourceDynamicTopic || len(v.Synonyms) != 2 {
		t.Fatalf("lookup: %+v", v)
	}
}

func TestBadValues(t *testing.T) {
	b := Broker{}.Defaults()
	if err := b.SetValue("num.partitions", "lots"); err == nil || !strings.Contains(err.Error(), "num.partitions") {
		t.Fatalf("bad int accepted or unclear: %v", err)
	}
	for _, l := range []string{"INTERNAL://1.2.3.4:9093", "PLAINTEXT://1.2.3.4:9093,PLAINTEXT://1.2.3.4:9094", "PLAINTEXT://a:1,SSL://a:1", "CONTROLLER://1.2.3.4:9093"} {
		if err := b.SetValue("listeners", l); err != nil {
			t.Fatal(err)
		}
		if err := b.Resolve(); err == nil || !strings.Contains(err.Error(), "listeners") {
			t.Fatalf("listeners=%s accepted or unclear: %v", l, err)
		}
	}
	for _, bad := range []map[string]string{
		{"cleanup.policy": "shred"},
		{"retention.ms": "soon"},
		{"min.cleanable.dirty.ratio": "2"},
		{"no.such.config": "1"},
		{"compression.type": "brotli"},
	} {
		if err := ValidateTopicConfigs(bad); err == nil {
			t.Errorf("%v accepted", bad)
		}
	}
	if err := ValidateTopicConfigs(map[string]string{"cleanup.policy": "compact,delete", "retention.ms": "-1"}); err != nil {
		t.Fatal(err)
	}
}
