package security_test

import (
	"bytes"
	"context"
	"hash/crc32"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/kversion"
	"github.com/twmb/franz-go/pkg/sasl/scram"

	"github.com/samsa-streaming/samsa/internal/clustertest"
)

// The resources the super user sets up, which alice must not see without
// ACLs. Their names are not substrings of one another, so that a response
// echoing one name the request sent cannot hide a leak of another.
const (
	topicVault   = "vault"         // topic with records, committed offsets, a group and a transaction on it
	topicDoomed  = "doomed"        // topic alice deletes once allowed
	topicGrow    = "alice-grow"    // topic alice adds partitions to once allowed
	topicMarkers = "alice-markers" // topic alice writes transaction markers to once allowed
	groupCabal   = "cabal"         // classic group with a stable member and offsets
	groupCoven   = "coven"         // KIP-848 consumer group with a member assigned vault
	txnHeist     = "heist"         // ongoing transaction holding vault-0
	payload      = "crown-jewels"  // the value of vault's records
	emptyGroup1  = "alice-empty"   // simple group (offsets only) alice deletes once allowed
	emptyGroup2  = "alice-empty2"  // simple group alice deletes offsets of once allowed
	aliceTxn     = "alice-txn"     // alice's transactional id
	aliceGroup   = "alice-group"   // alice's groups
	alice        = "User:alice"
)

// brokerConfig runs StandardAuthorizer semantics with admin as super user;
// groups rebalance at once and KIP-848 members live for the whole test.
// The node's first listener is clustertest's PLAINTEXT one (principal
// User:ANONYMOUS, no ACLs: Metadata lists nothing there); the clients use
// a second, SASL_PLAINTEXT listener (Options.Listeners).
const brokerConfig = `authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer
super.users=User:admin
sasl.enabled.mechanisms=SCRAM-SHA-256
group.initial.rebalance.delay.ms=0
group.consumer.session.timeout.ms=600000
`

// harness is one broker, its super user's and alice's clients, and the ids
// of what the super user set up.
type harness struct {
	node     *clustertest.Node
	saslAddr string // the SASL_PLAINTEXT listener
	// admin and alice pin AddPartitionsToTxn to v3, the last version
	// clients send; aliceNew negotiates every API's newest version.
	admin, alice, aliceNew *kgo.Client

	vaultID, doomedID, growID [16]byte
	cabalMember, covenMember  string
	heistPID                  int64
	heistEpoch                int16
	// secrets are bytes no response to alice may hold unless her request
	// held them too.
	secrets [][]byte
}

func startHarness(t *testing.T) *harness {
	saslAddr := net.JoinHostPort("127.0.0.1", freePort(t))
	node := clustertest.Start(t, clustertest.Options{
		Config:    brokerConfig,
		Listeners: []string{"SASL_PLAINTEXT://" + saslAddr},
		Args: []string{
			"--add-scram", "SCRAM-SHA-256=[name=admin,password=admin-secret]",
			"--add-scram", "SCRAM-SHA-256=[name=alice,password=alice-secret]",
		},
	})
	pinned := kversion.Stable()
	pinned.SetMaxKeyVersion(int16(kmsg.AddPartitionsToTxn), 3)
	h := &harness{node: node, saslAddr: saslAddr}
	// Uncompressed, so that a leaked record is seen in the bytes.
	h.admin = h.client(t, "admin", kgo.MaxVersions(pinned), kgo.ProducerBatchCompression(kgo.NoCompression()))
	h.alice = h.client(t, "alice", kgo.MaxVersions(pinned))
	h.aliceNew = h.client(t, "alice")
	return h
}

// client is a client of user (password user-secret) on the SASL
// listener, closed when the test ends.
func (h *harness) client(t *testing.T, user string, opts ...kgo.Opt) *kgo.Client {
	t.Helper()
	opts = append([]kgo.Opt{
		kgo.SeedBrokers(h.saslAddr),
		kgo.SASL(scram.Auth{User: user, Pass: user + "-secret"}.AsSha256Mechanism()),
	}, opts...)
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return cl
}

// freePort is a port nothing listens on now, for the SASL listener.
func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
}

func ctxFor(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// send issues req on cl's connection to the node itself (what a typed
// request's RequestWith does with the seed broker as kmsg.Requestor):
// kgo's client would look coordinators up first (as alice, refused) or
// shard requests.
func send[R kmsg.Response](t *testing.T, cl *kgo.Client, req kmsg.Request) R {
	t.Helper()
	resp, err := cl.SeedBrokers()[0].Request(ctxFor(t), req)
	if err != nil {
		t.Fatalf("%s: %v", kmsg.NameForKey(req.Key()), err)
	}
	return resp.(R)
}

// retrySend is send, again while a coordinator is still loading or
// moving (the first lookups create the internal topics).
func retrySend[R kmsg.Response](t *testing.T, cl *kgo.Client, req kmsg.Request, errOf func(R) int16) R {
	t.Helper()
	for i := 0; ; i++ {
		resp := send[R](t, cl, req)
		switch errOf(resp) {
		case kerr.CoordinatorLoadInProgress.Code, kerr.CoordinatorNotAvailable.Code, kerr.NotCoordinator.Code, kerr.ConcurrentTransactions.Code:
			if i < 100 {
				time.Sleep(100 * time.Millisecond)
				continue
			}
		}
		return resp
	}
}

// findCoordinator looks key up as the super user, which creates the
// internal topic of its type.
func findCoordinator(t *testing.T, cl *kgo.Client, typ int8, key string) {
	t.Helper()
	req := kmsg.NewPtrFindCoordinatorRequest()
	req.CoordinatorType, req.CoordinatorKey, req.CoordinatorKeys = typ, key, []string{key}
	resp := retrySend[*kmsg.FindCoordinatorResponse](t, cl, req, func(r *kmsg.FindCoordinatorResponse) int16 {
		if len(r.Coordinators) > 0 {
			return r.Coordinators[0].ErrorCode
		}
		return r.ErrorCode
	})
	if len(resp.Coordinators) > 0 {
		code(t, "FindCoordinator "+key, resp.Coordinators[0].ErrorCode, nil)
	}
}

// deny sends req as alice and fails the test if the response holds a
// secret her request did not.
func deny[R kmsg.Response](t *testing.T, h *harness, req kmsg.Request, extra ...string) R {
	t.Helper()
	resp := send[R](t, h.alice, req)
	h.noLeak(t, req, resp, extra...)
	return resp
}

// noLeak checks resp (as encoded) for the harness's secrets and extra.
func (h *harness) noLeak(t *testing.T, req kmsg.Request, resp kmsg.Response, extra ...string) {
	t.Helper()
	in := req.AppendTo(nil)
	out := resp.AppendTo(nil)
	secrets := h.secrets
	for _, e := range extra {
		secrets = append(secrets, []byte(e))
	}
	for _, s := range secrets {
		if bytes.Contains(out, s) && !bytes.Contains(in, s) {
			t.Errorf("%s response leaks %q", kmsg.NameForKey(req.Key()), s)
		}
	}
}

// code fails the test unless got is want.
func code(t *testing.T, what string, got int16, want *kerr.Error) {
	t.Helper()
	if want == nil {
		if got != 0 {
			t.Errorf("%s: %v, want no error", what, kerr.ErrorForCode(got))
		}
		return
	}
	if got != want.Code {
		t.Errorf("%s: %v, want %v", what, kerr.ErrorForCode(got), want)
	}
}

// binding is one ALLOW ACL for alice on a literal resource, any host.
type binding struct {
	rt   kmsg.ACLResourceType
	name string
	op   kmsg.ACLOperation
}

func onTopic(name string, op kmsg.ACLOperation) binding {
	return binding{kmsg.ACLResourceTypeTopic, name, op}
}

func onGroup(name string, op kmsg.ACLOperation) binding {
	return binding{kmsg.ACLResourceTypeGroup, name, op}
}

func onTxn(id string, op kmsg.ACLOperation) binding {
	return binding{kmsg.ACLResourceTypeTransactionalId, id, op}
}

func onCluster(op kmsg.ACLOperation) binding {
	return binding{kmsg.ACLResourceTypeCluster, "kafka-cluster", op}
}

// grant creates the bindings through CreateAcls as the super user.
func (h *harness) grant(t *testing.T, bs ...binding) {
	t.Helper()
	if len(bs) == 0 {
		return
	}
	req := kmsg.NewPtrCreateACLsRequest()
	for _, b := range bs {
		c := kmsg.NewCreateACLsRequestCreation()
		c.ResourceType, c.ResourceName, c.ResourcePatternType = b.rt, b.name, kmsg.ACLResourcePatternTypeLiteral
		c.Principal, c.Host, c.Operation, c.PermissionType = alice, "*", b.op, kmsg.ACLPermissionTypeAllow
		req.Creations = append(req.Creations, c)
	}
	resp := send[*kmsg.CreateACLsResponse](t, h.admin, req)
	for i, r := range resp.Results {
		if r.ErrorCode != 0 {
			t.Fatalf("CreateAcls %+v: %v", bs[i], kerr.ErrorForCode(r.ErrorCode))
		}
	}
}

// revokeAll deletes every ACL of alice through DeleteAcls as the super
// user.
func (h *harness) revokeAll(t *testing.T) {
	t.Helper()
	req := kmsg.NewPtrDeleteACLsRequest()
	f := kmsg.NewDeleteACLsRequestFilter()
	f.ResourceType, f.ResourcePatternType = kmsg.ACLResourceTypeAny, kmsg.ACLResourcePatternTypeAny
	f.Principal = kmsg.StringPtr(alice)
	f.Operation, f.PermissionType = kmsg.ACLOperationAny, kmsg.ACLPermissionTypeAny
	req.Filters = append(req.Filters, f)
	resp := send[*kmsg.DeleteACLsResponse](t, h.admin, req)
	for _, r := range resp.Results {
		if r.ErrorCode != 0 {
			t.Fatalf("DeleteAcls: %v", kerr.ErrorForCode(r.ErrorCode))
		}
	}
}

// recordBatch is a one-record v2 batch holding value; transactional ones
// carry producer id pid, epoch 0.
func recordBatch(value string, txn bool, pid int64) []byte {
	rec := kmsg.NewRecord()
	rec.Value = []byte(value)
	rec.Length = int32(len(rec.AppendTo(nil)) - 1)
	rb := kmsg.NewRecordBatch()
	rb.Magic, rb.ProducerID, rb.ProducerEpoch, rb.FirstSequence, rb.NumRecords = 2, -1, -1, -1, 1
	if txn {
		rb.Attributes = 0x10
		rb.ProducerID, rb.ProducerEpoch, rb.FirstSequence = pid, 0, 0
	}
	now := time.Now().UnixMilli()
	rb.FirstTimestamp, rb.MaxTimestamp = now, now
	rb.Records = rec.AppendTo(nil)
	raw := rb.AppendTo(nil)
	// Length covers what follows it; the CRC (Castagnoli) what follows
	// the CRC field.
	putInt32(raw[8:], int32(len(raw)-12))
	putInt32(raw[17:], int32(crc32.Checksum(raw[21:], crc32.MakeTable(crc32.Castagnoli))))
	return raw
}

func putInt32(b []byte, v int32) {
	b[0], b[1], b[2], b[3] = byte(v>>24), byte(v>>16), byte(v>>8), byte(v)
}

// setup creates, as the super user, what alice probes: topics (vault with
// records), a classic group with a member and offsets, two simple groups,
// a KIP-848 group whose member is assigned vault, and an ongoing
// transaction on vault.
func (h *harness) setup(t *testing.T) {
	ctx := ctxFor(t)
	adm := kadm.NewClient(h.admin)
	created, err := adm.CreateTopics(ctx, 1, 1, nil, topicVault, topicDoomed, topicGrow, topicMarkers)
	if err != nil || created.Error() != nil {
		t.Fatalf("create topics: %v %v", err, created.Error())
	}
	h.vaultID, h.doomedID, h.growID = created[topicVault].ID, created[topicDoomed].ID, created[topicGrow].ID
	for range 3 {
		if err := h.admin.ProduceSync(ctx, &kgo.Record{Topic: topicVault, Value: []byte(payload)}).FirstErr(); err != nil {
			t.Fatalf("produce: %v", err)
		}
	}
	findCoordinator(t, h.admin, 0, groupCabal)
	findCoordinator(t, h.admin, 1, txnHeist)
	member, gen := joinClassic(t, h.admin, groupCabal, topicVault)
	h.cabalMember = member
	h.commit(t, h.admin, groupCabal, gen, member)
	for _, g := range []string{emptyGroup1, emptyGroup2} {
		h.commit(t, h.admin, g, -1, "")
	}
	h.covenMember = h.joinConsumer(t)
	h.heistPID, h.heistEpoch = h.beginTxn(t, h.admin, txnHeist, topicVault)
	h.secrets = [][]byte{
		[]byte(topicVault), []byte(topicDoomed), []byte(groupCabal), []byte(groupCoven), []byte(txnHeist),
		[]byte(payload), h.vaultID[:], h.doomedID[:], []byte(h.cabalMember), []byte(h.covenMember),
	}
}

// joinClassic makes cl the one member of a classic consumer group (join,
// rejoin with the member id, sync as leader) and returns the member id and
// generation.
func joinClassic(t *testing.T, cl *kgo.Client, group, topic string) (string, int32) {
	t.Helper()
	member, gen := joinGroup(t, cl, group, topic)
	sync := kmsg.NewPtrSyncGroupRequest()
	sync.Group, sync.Generation, sync.MemberID = group, gen, member
	sync.ProtocolType, sync.Protocol = kmsg.StringPtr("consumer"), kmsg.StringPtr("range")
	a := kmsg.NewSyncGroupRequestGroupAssignment()
	a.MemberID = member
	ca := kmsg.NewConsumerMemberAssignment()
	ct := kmsg.NewConsumerMemberAssignmentTopic()
	ct.Topic, ct.Partitions = topic, []int32{0}
	ca.Topics = append(ca.Topics, ct)
	a.MemberAssignment = ca.AppendTo(nil)
	sync.GroupAssignment = append(sync.GroupAssignment, a)
	code(t, "SyncGroup", send[*kmsg.SyncGroupResponse](t, cl, sync).ErrorCode, nil)
	return member, gen
}

// joinGroup joins a classic group as a new member (KIP-394: the second
// join carries the member id the first got) and returns the member id and
// generation.
func joinGroup(t *testing.T, cl *kgo.Client, group, topic string) (string, int32) {
	t.Helper()
	join := kmsg.NewPtrJoinGroupRequest()
	join.Group, join.SessionTimeoutMillis, join.RebalanceTimeoutMillis = group, 600000, 60000
	join.ProtocolType = "consumer"
	p := kmsg.NewJoinGroupRequestProtocol()
	p.Name = "range"
	md := kmsg.NewConsumerMemberMetadata()
	md.Topics = []string{topic}
	p.Metadata = md.AppendTo(nil)
	join.Protocols = append(join.Protocols, p)
	resp := retrySend[*kmsg.JoinGroupResponse](t, cl, join, func(r *kmsg.JoinGroupResponse) int16 { return r.ErrorCode })
	if resp.ErrorCode == kerr.MemberIDRequired.Code {
		join.MemberID = resp.MemberID
		resp = send[*kmsg.JoinGroupResponse](t, cl, join)
	}
	code(t, "JoinGroup", resp.ErrorCode, nil)
	return resp.MemberID, resp.Generation
}

// commit commits offset 2 of vault-0 for group (generation -1: a simple
// group).
func (h *harness) commit(t *testing.T, cl *kgo.Client, group string, gen int32, member string) {
	t.Helper()
	req := kmsg.NewPtrOffsetCommitRequest()
	req.Group, req.Generation, req.MemberID = group, gen, member
	rt := kmsg.NewOffsetCommitRequestTopic()
	rt.Topic = topicVault
	rp := kmsg.NewOffsetCommitRequestTopicPartition()
	rp.Partition, rp.Offset = 0, 2
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	resp := send[*kmsg.OffsetCommitResponse](t, cl, req)
	code(t, "OffsetCommit "+group, resp.Topics[0].Partitions[0].ErrorCode, nil)
}

// joinConsumer makes a KIP-848 member of coven subscribed to vault and
// heartbeats until vault-0 is assigned to it.
func (h *harness) joinConsumer(t *testing.T) string {
	t.Helper()
	member := "coven-member-7f3e9a"
	epoch := int32(0)
	for range 50 {
		resp := consumerHeartbeat(t, h.admin, groupCoven, member, epoch, []string{topicVault}, nil)
		code(t, "ConsumerGroupHeartbeat", resp.ErrorCode, nil)
		epoch = resp.MemberEpoch
		if resp.Assignment != nil && len(resp.Assignment.Topics) > 0 {
			return member
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatal("the coven member was never assigned vault")
	return ""
}

// consumerHeartbeat sends one ConsumerGroupHeartbeat subscribed to names
// or to a regex; owned partitions are reported as none.
func consumerHeartbeat(t *testing.T, cl *kgo.Client, group, member string, epoch int32, names []string, regex *string) *kmsg.ConsumerGroupHeartbeatResponse {
	t.Helper()
	req := kmsg.NewPtrConsumerGroupHeartbeatRequest()
	req.Group, req.MemberID, req.MemberEpoch = group, member, epoch
	req.RebalanceTimeoutMillis = 60000
	req.SubscribedTopicNames, req.SubscribedTopicRegex = names, regex
	req.Topics = []kmsg.ConsumerGroupHeartbeatRequestTopic{}
	return send[*kmsg.ConsumerGroupHeartbeatResponse](t, cl, req)
}

// beginTxn initialises a transactional producer and adds partition 0 of
// topic to its transaction (AddPartitionsToTxn v3, as clients send).
func (h *harness) beginTxn(t *testing.T, cl *kgo.Client, id, topic string) (int64, int16) {
	t.Helper()
	pid, epoch := initTxn(t, cl, id)
	code(t, "AddPartitionsToTxn", addPartitionsV3(t, cl, id, pid, epoch, topic)[topic], nil)
	return pid, epoch
}

func initTxn(t *testing.T, cl *kgo.Client, id string) (int64, int16) {
	t.Helper()
	req := kmsg.NewPtrInitProducerIDRequest()
	req.TransactionalID, req.TransactionTimeoutMillis = kmsg.StringPtr(id), 600000
	req.ProducerID, req.ProducerEpoch = -1, -1
	resp := retrySend[*kmsg.InitProducerIDResponse](t, cl, req, func(r *kmsg.InitProducerIDResponse) int16 { return r.ErrorCode })
	code(t, "InitProducerId "+id, resp.ErrorCode, nil)
	return resp.ProducerID, resp.ProducerEpoch
}

// addPartitionsV3 adds partition 0 of each topic and returns each topic's
// error code.
func addPartitionsV3(t *testing.T, cl *kgo.Client, id string, pid int64, epoch int16, topics ...string) map[string]int16 {
	t.Helper()
	req := kmsg.NewPtrAddPartitionsToTxnRequest()
	req.TransactionalID, req.ProducerID, req.ProducerEpoch = id, pid, epoch
	for _, topic := range topics {
		rt := kmsg.NewAddPartitionsToTxnRequestTopic()
		rt.Topic, rt.Partitions = topic, []int32{0}
		req.Topics = append(req.Topics, rt)
	}
	resp := send[*kmsg.AddPartitionsToTxnResponse](t, cl, req)
	if resp.Version > 3 {
		t.Fatalf("AddPartitionsToTxn went out as v%d, want a client version (<= 3)", resp.Version)
	}
	out := map[string]int16{}
	for _, rt := range resp.Topics {
		for _, rp := range rt.Partitions {
			out[rt.Topic] = rp.ErrorCode
		}
	}
	return out
}

// endTxn aborts (or commits) id's transaction.
func endTxn(t *testing.T, cl *kgo.Client, id string, pid int64, epoch int16) int16 {
	t.Helper()
	req := kmsg.NewPtrEndTxnRequest()
	req.TransactionalID, req.ProducerID, req.ProducerEpoch, req.Commit = id, pid, epoch, false
	return send[*kmsg.EndTxnResponse](t, cl, req).ErrorCode
}

// apiKeys is what the node advertises in ApiVersions, asked as alice (no
// ACLs needed).
func (h *harness) apiKeys(t *testing.T) []int16 {
	t.Helper()
	req := kmsg.NewPtrApiVersionsRequest()
	req.ClientSoftwareName, req.ClientSoftwareVersion = "samsa-security-test", "1"
	resp := send[*kmsg.ApiVersionsResponse](t, h.alice, req)
	code(t, "ApiVersions", resp.ErrorCode, nil)
	var keys []int16
	for _, k := range resp.ApiKeys {
		keys = append(keys, k.ApiKey)
	}
	return keys
}

// keyName is an API key's name for subtests.
func keyName(k int16) string {
	return strings.ReplaceAll(kmsg.NameForKey(k), " ", "")
}
