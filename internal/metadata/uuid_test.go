package metadata

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestUuidString(t *testing.T) {
	if got := ZeroUuid.String(); got != "AAAAAAAAAAAAAAAAAAAAAA" {
		t.Fatalf("zero uuid = %q", got)
	}
	// Kafka's METADATA_TOPIC_ID prints as AAAAAAAAAAAAAAAAAAAAAQ.
	if got := metadataTopicUuid.String(); got != "AAAAAAAAAAAAAAAAAAAAAQ" {
		t.Fatalf("metadata topic uuid = %q", got)
	}
	u := Uuid{0xfb, 0xff, 0x01, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14}
	s := u.String()
	if len(s) != 22 || strings.ContainsAny(s, "+/=") {
		t.Fatalf("not base64url without padding: %q", s)
	}
	back, err := ParseUuid(s)
	if err != nil || back != u {
		t.Fatalf("ParseUuid(%q) = %v, %v", s, back, err)
	}
}

func TestRandomUuid(t *testing.T) {
	seen := map[Uuid]bool{}
	for range 2000 {
		u := RandomUuid()
		if u.IsZero() || u == metadataTopicUuid || u.String()[0] == '-' {
			t.Fatalf("reserved uuid %v", u)
		}
		if u[6]>>4 != 4 || u[8]>>6 != 2 {
			t.Fatalf("not version 4 / variant 1: %x", u)
		}
		if seen[u] {
			t.Fatalf("duplicate %v", u)
		}
		seen[u] = true
	}
}

func TestParseUuidErrors(t *testing.T) {
	for _, s := range []string{"", "AAAA", "AAAAAAAAAAAAAAAAAAAAAAA", "AAAAAAAAAAAAAAAAAAAA==", "AAAAAAAAAAAAAAAAAAAA*A", "AAAAAAAAAAAAAAAAAAAAAB"} {
		if _, err := ParseUuid(s); err == nil {
			t.Errorf("ParseUuid(%q) succeeded", s)
		}
	}
}

func TestUuidJSON(t *testing.T) {
	u := RandomUuid()
	m := map[Uuid]int{u: 1}
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"` + u.String() + `":1}`; string(b) != want {
		t.Fatalf("got %s want %s", b, want)
	}
	var back map[Uuid]int
	if err := json.Unmarshal(b, &back); err != nil || back[u] != 1 {
		t.Fatalf("round trip: %v %v", back, err)
	}
}
