package acl

import (
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Every API kmsg knows has a row, named as kmsg names it, and every row is
// well formed.
func TestAPITableComplete(t *testing.T) {
	for key := int16(0); key <= kmsg.MaxKey; key++ {
		req := kmsg.RequestForKey(key)
		a, ok := Lookup(key)
		if req == nil {
			if ok {
				t.Errorf("key %d: a row for a key kmsg does not know", key)
			}
			continue
		}
		if !ok {
			t.Errorf("key %d (%s): no row", key, kmsg.NameForKey(key))
			continue
		}
		if !strings.EqualFold(a.Name, kmsg.NameForKey(key)) && !knownAlias(a.Name, kmsg.NameForKey(key)) {
			t.Errorf("key %d: row %q, kmsg %q", key, a.Name, kmsg.NameForKey(key))
		}
		for i, r := range a.Requirements {
			checkRequirement(t, a, i, r)
		}
	}
	if _, ok := Lookup(kmsg.MaxKey + 1); ok {
		t.Error("a row past kmsg.MaxKey")
	}
	if len(APIs()) != int(kmsg.MaxKey)+1 {
		t.Errorf("APIs() has %d rows; want one per key 0..%d", len(APIs()), kmsg.MaxKey)
	}
}

// knownAlias: kmsg spells some names differently (SASL, ID, ACL).
func knownAlias(ours, theirs string) bool {
	norm := func(s string) string {
		return strings.NewReplacer("ID", "Id", "SASL", "Sasl", "ACL", "Acl", "SCRAM", "Scram", "ISR", "Isr").Replace(s)
	}
	return strings.EqualFold(norm(ours), norm(theirs)) ||
		strings.EqualFold(strings.ReplaceAll(ours, "Reassignments", "Assignments"), theirs)
}

func checkRequirement(t *testing.T, a API, i int, r Requirement) {
	t.Helper()
	if len(r.AnyOf) == 0 {
		t.Errorf("%s #%d: no checks", a.Name, i)
	}
	for _, c := range r.AnyOf {
		if !c.Resource.Known() || c.Resource == ResourceAny || !c.Operation.Known() || c.Operation == OpAny || c.Operation == OpAll || c.Name == "" {
			t.Errorf("%s #%d: bad check %+v", a.Name, i, c)
		}
		if (c.Resource == ResourceCluster) != (c.Name == NameCluster) {
			t.Errorf("%s #%d: cluster checks name kafka-cluster, others not: %+v", a.Name, i, c)
		}
		if !supports(c.Resource, c.Operation) {
			t.Errorf("%s #%d: %s is not an operation of %s", a.Name, i, c.Operation, c.Resource)
		}
	}
	silent := r.Effect == Omit || r.Effect == ZeroOperations
	if r.Effect < FailRequest || r.Effect > ZeroOperations || silent != (r.Denied == nil) {
		t.Errorf("%s #%d: effect %d with denied %v", a.Name, i, r.Effect, r.Denied)
	}
	if r.Denied != nil && r.Denied != kerr.TopicAuthorizationFailed && r.Denied != kerr.GroupAuthorizationFailed &&
		r.Denied != kerr.ClusterAuthorizationFailed && r.Denied != kerr.TransactionalIDAuthorizationFailed &&
		r.Denied != kerr.DelegationTokenAuthorizationFailed {
		t.Errorf("%s #%d: denied with %v", a.Name, i, r.Denied)
	}
	if r.MaxVersion >= 0 && r.MaxVersion < r.MinVersion {
		t.Errorf("%s #%d: versions %d..%d", a.Name, i, r.MinVersion, r.MaxVersion)
	}
}

func supports(res ResourceType, op Operation) bool {
	for _, s := range SupportedOperations(res) {
		if s == op {
			return true
		}
	}
	return false
}

// Spot checks of the rows against Kafka's KafkaApis.
func TestRequired(t *testing.T) {
	type want struct {
		op     Operation
		res    ResourceType
		denied *kerr.Error
	}
	for _, c := range []struct {
		key, version int16
		want         []want // first check of each requirement
	}{
		{0, 9, []want{{OpWrite, ResourceTransactionalID, kerr.TransactionalIDAuthorizationFailed}, {OpWrite, ResourceTopic, kerr.TopicAuthorizationFailed}}},
		{1, 16, []want{{OpClusterAction, ResourceCluster, kerr.TopicAuthorizationFailed}, {OpRead, ResourceTopic, kerr.TopicAuthorizationFailed}}},
		{8, 9, []want{{OpRead, ResourceGroup, kerr.GroupAuthorizationFailed}, {OpRead, ResourceTopic, kerr.TopicAuthorizationFailed}}},
		{18, 4, nil},
		{22, 5, []want{{OpWrite, ResourceTransactionalID, kerr.TransactionalIDAuthorizationFailed}, {OpIdempotentWrite, ResourceCluster, kerr.ClusterAuthorizationFailed}}},
		{24, 3, []want{{OpWrite, ResourceTransactionalID, kerr.TransactionalIDAuthorizationFailed}, {OpWrite, ResourceTopic, kerr.TopicAuthorizationFailed}}},
		{24, 4, []want{{OpClusterAction, ResourceCluster, kerr.ClusterAuthorizationFailed}}},
		{19, 4, []want{{OpCreate, ResourceCluster, kerr.TopicAuthorizationFailed}}},
		{19, 7, []want{{OpCreate, ResourceCluster, kerr.TopicAuthorizationFailed}, {OpDescribeConfigs, ResourceTopic, kerr.TopicAuthorizationFailed}}},
		{30, 3, []want{{OpAlter, ResourceCluster, kerr.ClusterAuthorizationFailed}}},
		{60, 1, []want{{OpDescribe, ResourceCluster, nil}}},
		{84, 0, []want{{OpClusterAction, ResourceCluster, kerr.ClusterAuthorizationFailed}}},
	} {
		got, ok := Required(c.key, c.version)
		if !ok || len(got) != len(c.want) {
			t.Errorf("Required(%d, %d) = %d requirements (%v); want %d", c.key, c.version, len(got), ok, len(c.want))
			continue
		}
		for i, w := range c.want {
			g := got[i].AnyOf[0]
			if g.Operation != w.op || g.Resource != w.res || got[i].Denied != w.denied {
				t.Errorf("Required(%d, %d)[%d] = %s %s %v; want %s %s %v", c.key, c.version, i, g.Operation, g.Resource, got[i].Denied, w.op, w.res, w.denied)
			}
		}
	}
	if _, ok := Required(-1, 0); ok {
		t.Error("Required(-1) known")
	}
	got, _ := Required(22, 5)
	got[0].AnyOf[0].Operation = OpRead
	if again, _ := Required(22, 5); again[0].AnyOf[0].Operation != OpWrite {
		t.Error("Required exposes the table")
	}
}
