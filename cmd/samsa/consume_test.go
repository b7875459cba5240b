package main

import (
	"slices"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

func TestParseFrom(t *testing.T) {
	rfc := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC).UnixMilli()
	cases := []struct {
		in   string
		want startSpec
	}{
		{"beginning", startSpec{kind: startBeginning}},
		{"Beginning", startSpec{kind: startBeginning}},
		{"start", startSpec{kind: startBeginning}},
		{"oldest", startSpec{kind: startBeginning}},
		{"end", startSpec{kind: startEnd}},
		{"latest", startSpec{kind: startEnd}},
		{"0", startSpec{kind: startOffset, offset: 0}},
		{"42", startSpec{kind: startOffset, offset: 42}},
		{"@0", startSpec{kind: startTimestamp, millis: 0}},
		{"@1714564800000", startSpec{kind: startTimestamp, millis: 1714564800000}},
		{"@2024-05-01T12:00:00Z", startSpec{kind: startTimestamp, millis: rfc}},
		{"@2024-05-01T14:00:00+02:00", startSpec{kind: startTimestamp, millis: rfc}},
		{"@2024-05-01T12:00:00.250Z", startSpec{kind: startTimestamp, millis: rfc + 250}},
	}
	for _, tc := range cases {
		got, err := parseFrom(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("parseFrom(%q) = %+v, %v; want %+v", tc.in, got, err, tc.want)
		}
	}
	for _, bad := range []string{"", "-1", "1.5", "@", "@-5", "@yesterday", "@2024-05-01", "beginning+1", "@1969-12-31T00:00:00Z"} {
		if got, err := parseFrom(bad); err == nil {
			t.Errorf("parseFrom(%q) = %+v, want an error", bad, got)
		}
	}
}

func TestParsePartitions(t *testing.T) {
	for in, want := range map[string][]int32{
		"":        nil,
		"0":       {0},
		"2,0,2":   {0, 2},
		" 1 , 3 ": {1, 3},
	} {
		got, err := parsePartitions(in)
		if err != nil || !slices.Equal(got, want) {
			t.Errorf("parsePartitions(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"x", "1,", "-1", "1,,2", "99999999999"} {
		if _, err := parsePartitions(bad); err == nil {
			t.Errorf("parsePartitions(%q) succeeded", bad)
		}
	}
}

func TestFormatRendering(t *testing.T) {
	r := &kgo.Record{
		Topic:     "orders",
		Partition: 2,
		Offset:    1234,
		Key:       []byte("user-7"),
		Value:     []byte("hello world"),
		Timestamp: time.UnixMilli(1714564800123),
		Headers: []kgo.RecordHeader{
			{Key: "src", Value: []byte("cli")},
			{Key: "trace", Value: []byte("42")},
		},
	}
	keyless := &kgo.Record{Topic: "t", Value: []byte("v"), Timestamp: time.UnixMilli(0)}
	cases := []struct {
		format string
		rec    *kgo.Record
		want   string
	}{
		{`%v\n`, r, "hello world\n"},
		{`%k %v`, r, "user-7 hello world"},
		{`%T/%p@%o`, r, "orders/2@1234"},
		{`%t`, r, "1714564800123"},
		{`[%h]`, r, "[src=cli,trace=42]"},
		{`[%h] [%k]`, keyless, "[] []"},
		{`%k\t%v\r\n`, r, "user-7\thello world\r\n"},
		{`100%% \\ done`, r, `100% \ done`},
		{`literal only`, r, "literal only"},
		{``, r, ""},
		{`%v%v`, keyless, "vv"},
	}
	for _, tc := range cases {
		f, err := parseFormat(tc.format)
		if err != nil {
			t.Errorf("parseFormat(%q): %v", tc.format, err)
			continue
		}
		if got := string(f.appendRecord(nil, tc.rec)); got != tc.want {
			t.Errorf("format %q = %q, want %q", tc.format, got, tc.want)
		}
	}
	for bad, want := range map[string]string{
		`%`:      `invalid --format "%": ends in a lone %`,
		`abc\`:   `invalid --format "abc\\": ends in a lone \`,
		`%x`:     `invalid --format "%x": unknown verb %x (want %k %v %h %o %p %t %T or %%)`,
		`\x`:     `invalid --format "\\x": unknown escape \x (want \n \t \r or \\)`,
		`%v %K`:  `invalid --format "%v %K": unknown verb %K (want %k %v %h %o %p %t %T or %%)`,
		`%v\n\q`: `invalid --format "%v\\n\\q": unknown escape \q (want \n \t \r or \\)`,
	} {
		if _, err := parseFormat(bad); err == nil || err.Error() != want {
			t.Errorf("parseFormat(%q) error = %v, want %q", bad, err, want)
		}
	}
}

func TestFormatAppendReusesBuffer(t *testing.T) {
	f, err := parseFormat(`%o:%v\n`)
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 0, 64)
	buf = f.appendRecord(buf[:0], &kgo.Record{Offset: 1, Value: []byte("a")})
	buf = f.appendRecord(buf[:0], &kgo.Record{Offset: 22, Value: []byte("b")})
	if string(buf) != "22:b\n" {
		t.Fatalf("second render = %q", buf)
	}
}

func TestCaughtUp(t *testing.T) {
	doneCalls := 0
	c := newCaughtUp(map[int32]int64{0: 3, 1: 0, 2: 10}, func() { doneCalls++ })
	c.track(0, 0)  // 3 records to read
	c.track(1, 0)  // empty partition: caught up at once
	c.track(2, 10) // started at the end
	if c.done() {
		t.Fatal("done before partition 0 was read")
	}
	if c.past(0, 2) || !c.past(0, 3) || !c.past(9, 0) {
		t.Fatal("past() is wrong")
	}
	c.saw(0, 1)
	if c.done() || doneCalls != 0 {
		t.Fatal("done after offset 1 of 3")
	}
	c.saw(0, 2) // offset end-1: caught up
	if !c.done() || doneCalls != 1 {
		t.Fatalf("done = %v after the last offset, onDone calls %d", c.done(), doneCalls)
	}
}

func TestCaughtUpGroupAssignment(t *testing.T) {
	doneCalls := 0
	c := newCaughtUp(map[int32]int64{0: 5, 1: 5}, func() { doneCalls++ })
	if c.done() {
		t.Fatal("done before any assignment")
	}
	// Assigned with partition 0 committed at its end and 1 mid-way.
	c.track(0, 5)
	c.track(1, 2)
	c.assignedDone()
	if c.done() || doneCalls != 0 {
		t.Fatal("done with partition 1 unread")
	}
	// Partition 1 is revoked before it was read: nothing left that is ours.
	c.untrack(1)
	c.assignedDone()
	if !c.done() || doneCalls != 1 {
		t.Fatalf("done = %v after revocation, onDone calls %d", c.done(), doneCalls)
	}
}
