package metadata

import (
	"reflect"
	"testing"
)

// TestSecurityRecords applies, encodes and snapshots SCRAM credentials,
// ACLs and client quotas, and refuses the invalid ones without changing
// the image.
func TestSecurityRecords(t *testing.T) {
	b := newBuilder(t)
	cred := ScramCredential{Salt: []byte("salt"), StoredKey: []byte("sk"), ServerKey: []byte("vk"), Iterations: 8192}
	b.ok(UpsertScram{User: "alice", Mechanism: ScramSHA512, ScramCredential: cred})
	b.ok(&UpsertScram{User: "alice", Mechanism: ScramSHA256, ScramCredential: cred})
	b.fails(UpsertScram{User: "bob", Mechanism: "SCRAM-SHA-1", ScramCredential: cred}, ErrInvalidScram)
	low := cred
	low.Iterations = 100
	b.fails(UpsertScram{User: "bob", Mechanism: ScramSHA256, ScramCredential: low}, ErrInvalidScram)
	b.ok(RemoveScram{User: "alice", Mechanism: ScramSHA256})
	b.fails(RemoveScram{User: "alice", Mechanism: ScramSHA256}, ErrUnknownScram)

	acl := ACL{ID: RandomUuid(), ResourceType: 2, ResourceName: "orders", PatternType: 4, Principal: "User:alice", Host: "*", Operation: 3, Permission: 3}
	b.ok(CreateACL{acl})
	b.fails(CreateACL{acl}, ErrInvalidACL)
	bad := acl
	bad.ID, bad.PatternType = RandomUuid(), 1 // ANY is a filter, not a pattern
	b.fails(CreateACL{bad}, ErrInvalidACL)
	gone := acl
	gone.ID = RandomUuid()
	b.ok(CreateACL{gone})
	b.ok(RemoveACL{ID: gone.ID})
	b.fails(RemoveACL{ID: gone.ID}, ErrUnknownACL)

	alice, app := "alice", "app"
	b.ok(ClientQuota{Entity: []QuotaEntity{{Type: "user", Name: &alice}, {Type: "client-id", Name: &app}}, Key: "producer_byte_rate", Value: 1024})
	b.ok(ClientQuota{Entity: []QuotaEntity{{Type: "client-id", Name: &app}, {Type: "user", Name: &alice}}, Key: "consumer_byte_rate", Value: 2048})
	b.ok(ClientQuota{Entity: []QuotaEntity{{Type: "user"}}, Key: "producer_byte_rate", Value: 10})
	b.ok(ClientQuota{Entity: []QuotaEntity{{Type: "user"}}, Key: "producer_byte_rate", Remove: true})
	b.fails(ClientQuota{Entity: []QuotaEntity{{Type: "group"}}, Key: "x", Value: 1}, ErrInvalidQuota)
	b.fails(ClientQuota{Entity: []QuotaEntity{{Type: "user"}}, Key: "producer_byte_rate", Value: -1}, ErrInvalidQuota)

	im := b.im
	if len(im.Scram) != 1 || len(im.Scram["alice"]) != 1 || im.Scram["alice"][ScramSHA512].Iterations != 8192 {
		t.Fatalf("scram %+v", im.Scram)
	}
	if len(im.ACLs) != 1 || im.ACLs[acl.ID] != acl {
		t.Fatalf("acls %+v", im.ACLs)
	}
	if len(im.Quotas) != 1 {
		t.Fatalf("quotas %+v", im.Quotas)
	}
	for _, q := range im.Quotas {
		if q.Values["producer_byte_rate"] != 1024 || q.Values["consumer_byte_rate"] != 2048 {
			t.Fatalf("quota values %+v", q.Values)
		}
	}
	got, err := DecodeImage(mustEncode(t, im))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got.Scram, im.Scram) || !reflect.DeepEqual(got.ACLs, im.ACLs) || !reflect.DeepEqual(got.Quotas, im.Quotas) {
		t.Fatalf("snapshot round trip lost security state")
	}
	for _, r := range []Record{UpsertScram{User: "u", Mechanism: ScramSHA256, ScramCredential: cred}, RemoveACL{ID: acl.ID}, CreateACL{acl},
		ClientQuota{Entity: []QuotaEntity{{Type: "ip"}}, Key: "connection_creation_rate", Value: 5}} {
		enc, err := EncodeRecord(r)
		if err != nil {
			t.Fatal(err)
		}
		dec, err := DecodeRecord(enc)
		if err != nil || !reflect.DeepEqual(dec, r) {
			t.Fatalf("%v round trip: %#v %v", r.Type(), dec, err)
		}
	}
}
