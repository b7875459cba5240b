package registry

import (
	"encoding/json"

	"github.com/twmb/franz-go/pkg/kmsg"
	"log/slog"
	"testing"
)

// TestStateFold folds _schemas records as Confluent writes them, including
// ones another tool wrote, and checks what the registry would serve.
func TestStateFold(t *testing.T) {
	lg := slog.New(slog.DiscardHandler)
	st := newState()
	recs := []struct{ k, v string }{
		{`{"keytype":"NOOP","magic":0}`, ``},
		{`{"keytype":"SCHEMA","subject":"a-value","version":1,"magic":1}`, `{"subject":"a-value","version":1,"id":1,"schema":"\"string\"","deleted":false}`},
		{`{"keytype":"SCHEMA","subject":"a-value","version":2,"magic":1}`, `{"subject":"a-value","version":2,"id":3,"schema":"\"int\"","deleted":false}`},
		{`{"keytype":"SCHEMA","subject":"b-value","version":1,"magic":1}`, `{"subject":"b-value","version":1,"id":1,"schema":"\"string\"","deleted":false}`},
		{`{"keytype":"SCHEMA","subject":"p","version":1,"magic":1}`, `{"subject":"p","version":1,"id":7,"schema":"syntax = \"proto3\";","schemaType":"PROTOBUF","deleted":false,"someNewField":{"x":1}}`},
		{`{"keytype":"CONFIG","subject":null,"magic":0}`, `{"compatibilityLevel":"FULL"}`},
		{`{"keytype":"CONFIG","subject":"a-value","magic":0}`, `{"compatibilityLevel":"NONE"}`},
		{`{"keytype":"MODE","magic":0}`, `{"mode":"READONLY"}`},
		{`not json`, `{}`},
		{`{"keytype":"SCHEMA","subject":"b-value","version":1,"magic":1}`, `{"subject":"b-value","version":1,"id":1,"schema":"\"string\"","deleted":true}`},
		{`{"keytype":"SOMETHING_NEW","magic":0}`, `{}`},
	}
	for i, r := range recs {
		st.apply(lg, int64(i), []byte(r.k), []byte(r.v))
	}
	if st.applied != int64(len(recs)-1) || st.skipped != 1 {
		t.Fatalf("applied %d skipped %d", st.applied, st.skipped)
	}
	if st.maxID != 7 {
		t.Fatalf("maxID %d, want 7", st.maxID)
	}
	if got := len(st.subjects["a-value"].live()); got != 2 {
		t.Fatalf("a-value live versions %d", got)
	}
	if got := len(st.subjects["b-value"].live()); got != 0 {
		t.Fatalf("b-value live versions %d, want 0 (soft-deleted)", got)
	}
	if st.nextVersion("b-value") != 2 || st.nextVersion("new") != 1 {
		t.Fatalf("next versions %d %d", st.nextVersion("b-value"), st.nextVersion("new"))
	}
	if st.compatibility("a-value") != "NONE" || st.compatibility("b-value") != "FULL" {
		t.Fatalf("compatibility %s %s", st.compatibility("a-value"), st.compatibility("b-value"))
	}
	if st.mode("x") != modeReadOnly {
		t.Fatalf("mode %s", st.mode("x"))
	}
	if e := st.ids[7]; e == nil || e.typ != "PROTOBUF" {
		t.Fatalf("id 7: %+v", st.ids[7])
	}
	// A hard delete (tombstone) of b-value v1 keeps id 1 (a-value uses it);
	// removing a-value v1 too drops id 1, but maxID never goes back.
	st.apply(lg, 20, []byte(`{"keytype":"SCHEMA","subject":"b-value","version":1,"magic":1}`), nil)
	if st.subjects["b-value"] != nil || st.ids[1] == nil {
		t.Fatalf("after tombstone: subject %v id1 %v", st.subjects["b-value"], st.ids[1])
	}
	st.apply(lg, 21, []byte(`{"keytype":"SCHEMA","subject":"a-value","version":1,"magic":1}`), nil)
	if st.ids[1] != nil || st.maxID != 7 {
		t.Fatalf("id 1 should be gone, maxID kept: %v %d", st.ids[1], st.maxID)
	}
	// DELETE_SUBJECT soft-deletes up to a version; CLEAR_SUBJECT removes
	// the soft-deleted ones.
	st.apply(lg, 22, []byte(`{"keytype":"DELETE_SUBJECT","subject":"a-value","magic":0}`), []byte(`{"subject":"a-value","version":2}`))
	if len(st.subjects["a-value"].live()) != 0 {
		t.Fatal("DELETE_SUBJECT did not soft-delete")
	}
	st.apply(lg, 23, []byte(`{"keytype":"CLEAR_SUBJECT","subject":"a-value","magic":0}`), []byte(`{"subject":"a-value"}`))
	if st.subjects["a-value"] != nil {
		t.Fatal("CLEAR_SUBJECT did not remove")
	}
	// Config and mode tombstones fall back to global/default.
	st.apply(lg, 24, []byte(`{"keytype":"CONFIG","magic":0}`), nil)
	st.apply(lg, 25, []byte(`{"keytype":"MODE","magic":0}`), nil)
	if st.compatibility("z") != defaultCompatibility || st.mode("z") != modeReadWrite {
		t.Fatalf("defaults: %s %s", st.compatibility("z"), st.mode("z"))
	}
}

func TestChooseLeader(t *testing.T) {
	m := func(url string, eligible bool) []byte {
		id, err := identityOf(url, eligible)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := jsonMarshal(id)
		return b
	}
	members := membersOf(m("http://127.0.0.1:9002", true), m("http://127.0.0.1:9001", false), m("http://127.0.0.1:9003", true))
	if id, ok := chooseLeader(members, ""); !ok || id.url() != "http://127.0.0.1:9002" {
		t.Fatalf("smallest eligible: %v %v", id, ok)
	}
	if id, ok := chooseLeader(members, "http://127.0.0.1:9003"); !ok || id.url() != "http://127.0.0.1:9003" {
		t.Fatalf("keeps current: %v %v", id, ok)
	}
	if _, ok := chooseLeader(membersOf(m("http://127.0.0.1:9001", false)), ""); ok {
		t.Fatal("no eligible member must give no leader")
	}
}

func jsonMarshal(v any) ([]byte, error) { return json.Marshal(v) }

func membersOf(metas ...[]byte) []kmsg.JoinGroupResponseMember {
	var out []kmsg.JoinGroupResponseMember
	for i, m := range metas {
		out = append(out, kmsg.JoinGroupResponseMember{MemberID: itoa(i), ProtocolMetadata: m})
	}
	return out
}
