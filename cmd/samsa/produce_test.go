package main

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/samsa-streaming/samsa/internal/clustertest"
)

func TestSplitKey(t *testing.T) {
	cases := []struct {
		line, sep      string
		key, value     string
		nilKey, failed bool
	}{
		{line: "plain value", sep: "", value: "plain value", nilKey: true},
		{line: "k\tv", sep: "\t", key: "k", value: "v"},
		{line: "k=v=w", sep: "=", key: "k", value: "v=w"},             // first separator only
		{line: "=v", sep: "=", key: "", value: "v"},                   // empty, non-null key
		{line: "k=", sep: "=", key: "k", value: ""},                   // empty value
		{line: "user::42::x", sep: "::", key: "user", value: "42::x"}, // multi-byte separator
		{line: "no separator", sep: ":", failed: true},
	}
	for _, tc := range cases {
		key, value, err := splitKey(tc.line, tc.sep)
		if tc.failed {
			if err == nil || err.Error() != fmt.Sprintf("has no key separator %q", tc.sep) {
				t.Errorf("splitKey(%q, %q) error = %v", tc.line, tc.sep, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("splitKey(%q, %q): %v", tc.line, tc.sep, err)
			continue
		}
		if tc.nilKey != (key == nil) || string(key) != tc.key || string(value) != tc.value {
			t.Errorf("splitKey(%q, %q) = %q (nil %v), %q; want %q (nil %v), %q",
				tc.line, tc.sep, key, key == nil, value, tc.key, tc.nilKey, tc.value)
		}
	}
}

func TestUnescape(t *testing.T) {
	for in, want := range map[string]string{
		"":       "",
		":":      ":",
		`\t`:     "\t",
		`a\nb`:   "a\nb",
		`\\`:     `\`,
		`\r\n`:   "\r\n",
		`x\\t`:   `x\t`,
		"\t":     "\t", // a real tab passes through
		`||\t||`: "||\t||",
	} {
		got, err := unescape(in)
		if err != nil || got != want {
			t.Errorf("unescape(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{`\`, `a\`, `\x`} {
		if _, err := unescape(in); err == nil {
			t.Errorf("unescape(%q) succeeded, want an error", in)
		}
	}
}

func TestParseHeaders(t *testing.T) {
	hs, err := parseHeaders([]string{"trace=abc", "empty=", "eq=a=b", "trace=again"})
	if err != nil {
		t.Fatal(err)
	}
	want := []kgo.RecordHeader{
		{Key: "trace", Value: []byte("abc")},
		{Key: "empty", Value: []byte("")},
		{Key: "eq", Value: []byte("a=b")},
		{Key: "trace", Value: []byte("again")}, // Kafka headers may repeat; order kept
	}
	if len(hs) != len(want) {
		t.Fatalf("got %d headers, want %d", len(hs), len(want))
	}
	for i := range want {
		if hs[i].Key != want[i].Key || !bytes.Equal(hs[i].Value, want[i].Value) {
			t.Errorf("header %d = %s=%s, want %s=%s", i, hs[i].Key, hs[i].Value, want[i].Key, want[i].Value)
		}
	}
	for _, bad := range []string{"novalue", "=v", ""} {
		if _, err := parseHeaders([]string{bad}); err == nil {
			t.Errorf("parseHeaders(%q) succeeded, want an error", bad)
		}
	}
}

func TestParseAcksAndCompression(t *testing.T) {
	for in, want := range map[string]kgo.Acks{
		"all": kgo.AllISRAcks(), "ALL": kgo.AllISRAcks(), "-1": kgo.AllISRAcks(),
		"1": kgo.LeaderAck(), "0": kgo.NoAck(),
	} {
		got, err := parseAcks(in)
		if err != nil || got != want {
			t.Errorf("parseAcks(%q) = %v, %v", in, got, err)
		}
	}
	if _, err := parseAcks("2"); err == nil {
		t.Error("parseAcks(2) succeeded")
	}
	for _, in := range []string{"none", "gzip", "snappy", "lz4", "zstd", "ZSTD"} {
		if _, err := parseCompression(in); err != nil {
			t.Errorf("parseCompression(%q): %v", in, err)
		}
	}
	if _, err := parseCompression("brotli"); err == nil {
		t.Error("parseCompression(brotli) succeeded")
	}
}

func TestDefaultPartitionerIsKafkas(t *testing.T) {
	// produce's default partitioner must place keys where Kafka's Java
	// client would.
	p := kgo.StickyKeyPartitioner(nil).ForTopic("t")
	for i := range 200 {
		key := []byte(fmt.Sprintf("key-%d", i))
		for _, n := range []int{1, 3, 7, 16} {
			got := p.Partition(&kgo.Record{Key: key}, n)
			if want := clustertest.KeyPartition(key, n); int32(got) != want {
				t.Fatalf("key %q over %d partitions: got %d, Kafka picks %d", key, n, got, want)
			}
		}
	}
}

func TestReadLinesStopsWithContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	lines := readLines(ctx, strings.NewReader(strings.Repeat("line\n", 1000)))
	if l := <-lines; l.text != "line" || l.err != nil {
		t.Fatalf("first line = %+v", l)
	}
	cancel()
	deadline := time.After(5 * time.Second)
	for {
		select {
		case _, ok := <-lines:
			if !ok {
				return // reader goroutine ended
			}
		case <-deadline:
			t.Fatal("reader did not stop after cancel")
		}
	}
}

func TestReadLinesKeepsEmptyLinesAndStripsCR(t *testing.T) {
	lines := readLines(context.Background(), strings.NewReader("a\r\n\nb"))
	var got []string
	for l := range lines {
		if l.err != nil {
			t.Fatal(l.err)
		}
		got = append(got, l.text)
	}
	if strings.Join(got, "|") != "a||b" {
		t.Fatalf("lines = %q", got)
	}
}
