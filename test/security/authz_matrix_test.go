package security_test

import (
	"bytes"
	"slices"
	"testing"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/samsa-streaming/samsa/internal/clustertest"
)

// step adds grants (cumulative within an API) and checks what alice gets.
type step struct {
	grants []binding
	check  func(t *testing.T, h *harness)
}

// apiCase is one API's row of the matrix: what alice gets without ACLs
// (Kafka's authorization error, nothing leaked), and with the minimal
// ACLs, added in steps where a partial grant has its own answer.
type apiCase struct {
	denied  func(t *testing.T, h *harness)
	allowed []step
}

// noACL is the row of an API that needs no ACL: the same check both ways.
func noACL(check func(t *testing.T, h *harness)) *apiCase {
	return &apiCase{denied: check, allowed: []step{{check: check}}}
}

// TestAuthorizationMatrix runs, for every API key the broker advertises,
// a request as alice (SCRAM, no ACLs) expecting Kafka's authorization
// error and no leak of topic names, ids, groups, members, transactional
// ids or records; then, with the minimal ACLs created through CreateAcls
// by the super user, the same API succeeding. An API the broker serves
// without a row here fails the test.
func TestAuthorizationMatrix(t *testing.T) {
	clustertest.SkipInShort(t, "starts the samsa binary")
	h := startHarness(t)
	h.setup(t)
	keys := h.apiKeys(t)
	cases := matrix()
	for _, k := range keys {
		if cases[k] == nil {
			t.Errorf("the broker serves %s (key %d), which the authorization matrix has no row for", kmsg.NameForKey(k), k)
		}
	}
	for k := range cases {
		if !slices.Contains(keys, k) {
			t.Errorf("the matrix has a row for %s, which the broker does not advertise", kmsg.NameForKey(k))
		}
	}
	t.Run("NoACLs", func(t *testing.T) {
		for _, k := range keys {
			if c := cases[k]; c != nil {
				t.Run(keyName(k), func(t *testing.T) { c.denied(t, h) })
			}
		}
	})
	t.Run("MinimalACLs", func(t *testing.T) {
		for _, k := range keys {
			c := cases[k]
			if c == nil {
				continue
			}
			t.Run(keyName(k), func(t *testing.T) {
				defer h.revokeAll(t)
				for _, s := range c.allowed {
					h.grant(t, s.grants...)
					s.check(t, h)
				}
			})
		}
	})
}

func matrix() map[int16]*apiCase {
	m := map[int16]*apiCase{}
	for _, part := range []map[int16]*apiCase{dataCases(), groupCases(), txnCases(), adminCases(), shareCases()} {
		for k, c := range part {
			m[k] = c
		}
	}
	return m
}

const (
	read            = kmsg.ACLOperationRead
	write           = kmsg.ACLOperationWrite
	create          = kmsg.ACLOperationCreate
	del             = kmsg.ACLOperationDelete
	alter           = kmsg.ACLOperationAlter
	describe        = kmsg.ACLOperationDescribe
	clusterAction   = kmsg.ACLOperationClusterAction
	describeConfigs = kmsg.ACLOperationDescribeConfigs
	alterConfigs    = kmsg.ACLOperationAlterConfigs
	// describeBit is the KIP-430 bit field of DESCRIBE alone.
	describeBit = int32(1) << 8
)

var (
	taf  = kerr.TopicAuthorizationFailed
	gaf  = kerr.GroupAuthorizationFailed
	caf  = kerr.ClusterAuthorizationFailed
	tiaf = kerr.TransactionalIDAuthorizationFailed
)

// ---- produce, fetch, offsets, metadata ----

func dataCases() map[int16]*apiCase {
	return map[int16]*apiCase{
		int16(kmsg.Produce): {
			denied: func(t *testing.T, h *harness) {
				resp := deny[*kmsg.ProduceResponse](t, h, produceReq(topicVault, h.vaultID, recordBatch("x", false, -1), nil))
				code(t, "Produce vault", resp.Topics[0].Partitions[0].ErrorCode, taf)
				resp = deny[*kmsg.ProduceResponse](t, h, produceReq("nowhere", [16]byte{}, recordBatch("x", false, -1), nil))
				want := taf // no existence check before authorization
				if resp.Version >= 13 {
					want = kerr.UnknownTopicID // ids are not secret
				}
				code(t, "Produce unknown topic", resp.Topics[0].Partitions[0].ErrorCode, want)
				resp = deny[*kmsg.ProduceResponse](t, h, produceReq(topicVault, h.vaultID, recordBatch("x", true, h.heistPID), kmsg.StringPtr(txnHeist)))
				code(t, "transactional Produce", resp.Topics[0].Partitions[0].ErrorCode, tiaf)
			},
			allowed: []step{{grants: []binding{onTopic(topicVault, write)}, check: func(t *testing.T, h *harness) {
				resp := send[*kmsg.ProduceResponse](t, h.alice, produceReq(topicVault, h.vaultID, recordBatch("alice", false, -1), nil))
				code(t, "Produce vault", resp.Topics[0].Partitions[0].ErrorCode, nil)
			}}},
		},
		int16(kmsg.Fetch): {
			denied: func(t *testing.T, h *harness) {
				for _, replica := range []int32{-1, 1} {
					resp := deny[*kmsg.FetchResponse](t, h, fetchReq(h, replica))
					p := resp.Topics[0].Partitions[0]
					code(t, "Fetch vault", p.ErrorCode, taf)
					if len(p.RecordBatches) > 0 || p.HighWatermark >= 0 {
						t.Errorf("Fetch as replica %d: records or offsets without Read: hw %d, %d bytes", replica, p.HighWatermark, len(p.RecordBatches))
					}
				}
			},
			allowed: []step{{grants: []binding{onTopic(topicVault, read)}, check: func(t *testing.T, h *harness) {
				resp := send[*kmsg.FetchResponse](t, h.alice, fetchReq(h, -1))
				p := resp.Topics[0].Partitions[0]
				code(t, "Fetch vault", p.ErrorCode, nil)
				if !bytes.Contains(p.RecordBatches, []byte(payload)) {
					t.Errorf("Fetch with Read: no records")
				}
			}}},
		},
		int16(kmsg.ListOffsets): {
			denied: func(t *testing.T, h *harness) {
				resp := deny[*kmsg.ListOffsetsResponse](t, h, listOffsetsReq(topicVault, "__consumer_offsets"))
				for _, rt := range resp.Topics {
					p := rt.Partitions[0]
					code(t, "ListOffsets "+rt.Topic, p.ErrorCode, taf)
					if p.Offset != -1 {
						t.Errorf("ListOffsets %s: offset %d without Describe", rt.Topic, p.Offset)
					}
				}
			},
			allowed: []step{{grants: []binding{onTopic(topicVault, describe)}, check: func(t *testing.T, h *harness) {
				p := send[*kmsg.ListOffsetsResponse](t, h.alice, listOffsetsReq(topicVault)).Topics[0].Partitions[0]
				code(t, "ListOffsets vault", p.ErrorCode, nil)
				if p.Offset < 3 {
					t.Errorf("ListOffsets vault: latest offset %d, want >= 3", p.Offset)
				}
			}}},
		},
		int16(kmsg.Metadata): {
			denied:  metadataDenied,
			allowed: []step{{grants: []binding{onTopic(topicVault, describe)}, check: metadataAllowed}},
		},
		int16(kmsg.OffsetForLeaderEpoch): {
			denied: func(t *testing.T, h *harness) {
				resp := deny[*kmsg.OffsetForLeaderEpochResponse](t, h, offsetForLeaderEpochReq())
				p := resp.Topics[0].Partitions[0]
				code(t, "OffsetForLeaderEpoch vault", p.ErrorCode, taf)
				if p.EndOffset != -1 {
					t.Errorf("OffsetForLeaderEpoch: end offset %d without Describe", p.EndOffset)
				}
			},
			allowed: []step{{grants: []binding{onTopic(topicVault, describe)}, check: func(t *testing.T, h *harness) {
				p := send[*kmsg.OffsetForLeaderEpochResponse](t, h.alice, offsetForLeaderEpochReq()).Topics[0].Partitions[0]
				code(t, "OffsetForLeaderEpoch vault", p.ErrorCode, nil)
			}}},
		},
		int16(kmsg.DescribeTopicPartitions): {
			denied: func(t *testing.T, h *harness) {
				resp := deny[*kmsg.DescribeTopicPartitionsResponse](t, h, describeTopicPartitionsReq(topicVault, "__consumer_offsets", "nowhere"))
				if len(resp.Topics) != 3 {
					t.Fatalf("DescribeTopicPartitions: %d topics, want 3", len(resp.Topics))
				}
				for _, st := range resp.Topics {
					code(t, "DescribeTopicPartitions "+*st.Topic, st.ErrorCode, taf)
					if st.TopicID != [16]byte{} || len(st.Partitions) > 0 || st.IsInternal {
						t.Errorf("DescribeTopicPartitions %s without Describe: id, partitions or internal flag: %+v", *st.Topic, st)
					}
				}
				if all := deny[*kmsg.DescribeTopicPartitionsResponse](t, h, describeTopicPartitionsReq()); len(all.Topics) > 0 {
					t.Errorf("DescribeTopicPartitions of all topics lists %d topics without Describe", len(all.Topics))
				}
			},
			allowed: []step{{grants: []binding{onTopic(topicVault, describe)}, check: func(t *testing.T, h *harness) {
				resp := send[*kmsg.DescribeTopicPartitionsResponse](t, h.alice, describeTopicPartitionsReq(topicVault, topicGrow))
				if len(resp.Topics) != 2 || *resp.Topics[0].Topic != topicVault {
					t.Fatalf("DescribeTopicPartitions: %+v", resp.Topics)
				}
				v := resp.Topics[0]
				code(t, "DescribeTopicPartitions vault", v.ErrorCode, nil)
				if v.TopicID != h.vaultID || len(v.Partitions) != 1 || v.AuthorizedOperations != describeBit {
					t.Errorf("DescribeTopicPartitions vault: id %x, %d partitions, operations %b", v.TopicID, len(v.Partitions), v.AuthorizedOperations)
				}
				code(t, "DescribeTopicPartitions alice-grow (no Describe)", resp.Topics[1].ErrorCode, taf)
				all := send[*kmsg.DescribeTopicPartitionsResponse](t, h.alice, describeTopicPartitionsReq())
				if len(all.Topics) != 1 || *all.Topics[0].Topic != topicVault {
					t.Errorf("DescribeTopicPartitions of all topics: %d topics, want vault alone", len(all.Topics))
				}
			}}},
		},
	}
}

func produceReq(topic string, id [16]byte, records []byte, txnID *string) *kmsg.ProduceRequest {
	req := kmsg.NewPtrProduceRequest()
	req.Acks, req.TimeoutMillis, req.TransactionID = -1, 5000, txnID
	rt := kmsg.NewProduceRequestTopic()
	rt.Topic, rt.TopicID = topic, id
	rp := kmsg.NewProduceRequestTopicPartition()
	rp.Records = records
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	return req
}

// fetchReq fetches vault-0 from offset 0 as a consumer (replica -1) or
// as follower replica.
func fetchReq(h *harness, replica int32) *kmsg.FetchRequest {
	req := kmsg.NewPtrFetchRequest()
	req.ReplicaID, req.ReplicaState.ID, req.ReplicaState.Epoch = replica, replica, -1
	req.MaxBytes, req.MaxWaitMillis, req.SessionEpoch = 1<<20, 0, -1
	rt := kmsg.NewFetchRequestTopic()
	rt.Topic, rt.TopicID = topicVault, h.vaultID
	rp := kmsg.NewFetchRequestTopicPartition()
	rp.PartitionMaxBytes, rp.CurrentLeaderEpoch, rp.LogStartOffset = 1<<20, -1, -1
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	return req
}

func listOffsetsReq(topics ...string) *kmsg.ListOffsetsRequest {
	req := kmsg.NewPtrListOffsetsRequest()
	req.ReplicaID = -1
	for _, topic := range topics {
		rt := kmsg.NewListOffsetsRequestTopic()
		rt.Topic = topic
		rp := kmsg.NewListOffsetsRequestTopicPartition()
		rp.Timestamp, rp.CurrentLeaderEpoch = -1, -1
		rt.Partitions = append(rt.Partitions, rp)
		req.Topics = append(req.Topics, rt)
	}
	return req
}

func offsetForLeaderEpochReq() *kmsg.OffsetForLeaderEpochRequest {
	req := kmsg.NewPtrOffsetForLeaderEpochRequest()
	req.ReplicaID = -1
	rt := kmsg.NewOffsetForLeaderEpochRequestTopic()
	rt.Topic = topicVault
	rp := kmsg.NewOffsetForLeaderEpochRequestTopicPartition()
	rp.CurrentLeaderEpoch, rp.LeaderEpoch = -1, 0
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	return req
}

func describeTopicPartitionsReq(topics ...string) *kmsg.DescribeTopicPartitionsRequest {
	req := kmsg.NewPtrDescribeTopicPartitionsRequest()
	req.ResponsePartitionLimit = 100
	for _, topic := range topics {
		rt := kmsg.NewDescribeTopicPartitionsRequestTopic()
		rt.Topic = topic
		req.Topics = append(req.Topics, rt)
	}
	return req
}

func metadataReq(auto bool, topics ...string) *kmsg.MetadataRequest {
	req := kmsg.NewPtrMetadataRequest()
	req.AllowAutoTopicCreation, req.IncludeTopicAuthorizedOperations = auto, true
	if topics == nil {
		return req // all topics
	}
	req.Topics = []kmsg.MetadataRequestTopic{}
	for _, topic := range topics {
		rt := kmsg.NewMetadataRequestTopic()
		rt.Topic = kmsg.StringPtr(topic)
		req.Topics = append(req.Topics, rt)
	}
	return req
}

func metadataDenied(t *testing.T, h *harness) {
	if all := deny[*kmsg.MetadataResponse](t, h, metadataReq(false)); len(all.Topics) > 0 {
		t.Errorf("Metadata of all topics lists %d topics without Describe", len(all.Topics))
	}
	// User:ANONYMOUS on the PLAINTEXT listener is an ordinary principal
	// without ACLs.
	anon := h.node.Client(t)
	if all := send[*kmsg.MetadataResponse](t, anon, metadataReq(false)); len(all.Topics) > 0 {
		t.Errorf("Metadata of all topics as User:ANONYMOUS lists %d topics", len(all.Topics))
	}
	named := deny[*kmsg.MetadataResponse](t, h, metadataReq(true, topicVault, "__consumer_offsets", "nowhere"))
	if len(named.Topics) != 3 {
		t.Fatalf("Metadata: %d topics, want 3", len(named.Topics))
	}
	for _, mt := range named.Topics {
		code(t, "Metadata "+*mt.Topic, mt.ErrorCode, taf)
		if mt.TopicID != [16]byte{} || len(mt.Partitions) > 0 || mt.IsInternal || mt.AuthorizedOperations != -2147483648 {
			t.Errorf("Metadata %s without Describe: %+v", *mt.Topic, mt)
		}
	}
	byID := kmsg.NewPtrMetadataRequest()
	rt := kmsg.NewMetadataRequestTopic()
	rt.TopicID = h.vaultID
	byID.Topics = append(byID.Topics, rt)
	if resp := deny[*kmsg.MetadataResponse](t, h, byID); resp.Version >= 12 {
		mt := resp.Topics[0]
		code(t, "Metadata by id", mt.ErrorCode, taf)
		if mt.Topic != nil || len(mt.Partitions) > 0 {
			t.Errorf("Metadata by id without Describe: name %v, %d partitions", mt.Topic, len(mt.Partitions))
		}
	}
	// Auto-creation was refused too: the topic does not exist.
	if got := send[*kmsg.MetadataResponse](t, h.admin, metadataReq(false, "nowhere")); got.Topics[0].ErrorCode != kerr.UnknownTopicOrPartition.Code {
		t.Errorf("Metadata as alice created nowhere: %v", kerr.ErrorForCode(got.Topics[0].ErrorCode))
	}
}

func metadataAllowed(t *testing.T, h *harness) {
	all := send[*kmsg.MetadataResponse](t, h.alice, metadataReq(false))
	if len(all.Topics) != 1 || *all.Topics[0].Topic != topicVault {
		t.Fatalf("Metadata of all topics with Describe on vault: %d topics", len(all.Topics))
	}
	mt := all.Topics[0]
	if mt.TopicID != h.vaultID || len(mt.Partitions) != 1 || mt.AuthorizedOperations != describeBit {
		t.Errorf("Metadata vault: id %x, %d partitions, operations %b (want %b)", mt.TopicID, len(mt.Partitions), mt.AuthorizedOperations, describeBit)
	}
	// Describe on a topic does not allow auto-creating others.
	named := send[*kmsg.MetadataResponse](t, h.alice, metadataReq(true, topicVault, "nowhere"))
	code(t, "Metadata vault", named.Topics[0].ErrorCode, nil)
	code(t, "Metadata auto-create without Create", named.Topics[1].ErrorCode, taf)
}

// ---- consumer groups ----

func groupCases() map[int16]*apiCase {
	return map[int16]*apiCase{
		int16(kmsg.OffsetCommit): {
			denied: func(t *testing.T, h *harness) {
				resp := deny[*kmsg.OffsetCommitResponse](t, h, offsetCommitReq(groupCabal))
				code(t, "OffsetCommit cabal", resp.Topics[0].Partitions[0].ErrorCode, gaf)
			},
			allowed: []step{
				{grants: []binding{onGroup(aliceGroup, read)}, check: func(t *testing.T, h *harness) {
					resp := send[*kmsg.OffsetCommitResponse](t, h.alice, offsetCommitReq(aliceGroup))
					code(t, "OffsetCommit without Read on the topic", resp.Topics[0].Partitions[0].ErrorCode, taf)
				}},
				{grants: []binding{onTopic(topicVault, read)}, check: func(t *testing.T, h *harness) {
					resp := send[*kmsg.OffsetCommitResponse](t, h.alice, offsetCommitReq(aliceGroup))
					code(t, "OffsetCommit", resp.Topics[0].Partitions[0].ErrorCode, nil)
				}},
			},
		},
		int16(kmsg.OffsetFetch): {
			denied: func(t *testing.T, h *harness) {
				resp := deny[*kmsg.OffsetFetchResponse](t, h, offsetFetchReq(groupCabal, false))
				if resp.Version >= 8 {
					code(t, "OffsetFetch cabal", resp.Groups[0].ErrorCode, gaf)
				} else {
					code(t, "OffsetFetch cabal", resp.ErrorCode, gaf)
				}
			},
			allowed: []step{
				{grants: []binding{onGroup(groupCabal, describe)}, check: func(t *testing.T, h *harness) {
					g := send[*kmsg.OffsetFetchResponse](t, h.alice, offsetFetchReq(groupCabal, false)).Groups[0]
					code(t, "OffsetFetch cabal", g.ErrorCode, nil)
					if len(g.Topics) > 0 {
						t.Errorf("OffsetFetch of all topics lists %d topics without Describe on them", len(g.Topics))
					}
					g = send[*kmsg.OffsetFetchResponse](t, h.alice, offsetFetchReq(groupCabal, true)).Groups[0]
					code(t, "OffsetFetch cabal vault (no Describe on vault)", g.Topics[0].Partitions[0].ErrorCode, taf)
				}},
				{grants: []binding{onTopic(topicVault, describe)}, check: func(t *testing.T, h *harness) {
					g := send[*kmsg.OffsetFetchResponse](t, h.alice, offsetFetchReq(groupCabal, false)).Groups[0]
					if len(g.Topics) != 1 || g.Topics[0].Partitions[0].Offset != 2 {
						t.Errorf("OffsetFetch cabal: %+v, want vault-0 at 2", g.Topics)
					}
				}},
			},
		},
		int16(kmsg.FindCoordinator): {
			denied: func(t *testing.T, h *harness) {
				for typ, want := range map[int8]*kerr.Error{0: gaf, 1: tiaf} {
					key := map[int8]string{0: groupCabal, 1: txnHeist}[typ]
					co := deny[*kmsg.FindCoordinatorResponse](t, h, findCoordinatorReq(typ, key)).Coordinators[0]
					code(t, "FindCoordinator "+key, co.ErrorCode, want)
					if co.NodeID != -1 {
						t.Errorf("FindCoordinator %s: node %d without Describe", key, co.NodeID)
					}
				}
			},
			allowed: []step{{grants: []binding{onGroup(groupCabal, describe), onTxn(txnHeist, describe)}, check: func(t *testing.T, h *harness) {
				for typ, key := range map[int8]string{0: groupCabal, 1: txnHeist} {
					co := send[*kmsg.FindCoordinatorResponse](t, h.alice, findCoordinatorReq(typ, key)).Coordinators[0]
					code(t, "FindCoordinator "+key, co.ErrorCode, nil)
				}
			}}},
		},
		int16(kmsg.JoinGroup): {
			denied: func(t *testing.T, h *harness) {
				join := kmsg.NewPtrJoinGroupRequest()
				join.Group, join.SessionTimeoutMillis, join.RebalanceTimeoutMillis, join.ProtocolType = groupCabal, 30000, 30000, "consumer"
				p := kmsg.NewJoinGroupRequestProtocol()
				p.Name = "range"
				join.Protocols = append(join.Protocols, p)
				resp := deny[*kmsg.JoinGroupResponse](t, h, join)
				code(t, "JoinGroup cabal", resp.ErrorCode, gaf)
				if resp.MemberID != "" || resp.LeaderID != "" || len(resp.Members) > 0 || resp.Generation != -1 {
					t.Errorf("JoinGroup without Read: %+v", resp)
				}
			},
			allowed: []step{{grants: []binding{onGroup(aliceGroup+"-join", read)}, check: func(t *testing.T, h *harness) {
				joinGroup(t, h.alice, aliceGroup+"-join", topicVault)
			}}},
		},
		int16(kmsg.Heartbeat): {
			denied: func(t *testing.T, h *harness) {
				req := kmsg.NewPtrHeartbeatRequest()
				req.Group, req.Generation, req.MemberID = groupCabal, 1, h.cabalMember
				code(t, "Heartbeat cabal", deny[*kmsg.HeartbeatResponse](t, h, req).ErrorCode, gaf)
			},
			allowed: []step{{grants: []binding{onGroup(aliceGroup+"-hb", read)}, check: func(t *testing.T, h *harness) {
				member, gen := joinClassic(t, h.alice, aliceGroup+"-hb", topicVault)
				req := kmsg.NewPtrHeartbeatRequest()
				req.Group, req.Generation, req.MemberID = aliceGroup+"-hb", gen, member
				code(t, "Heartbeat", send[*kmsg.HeartbeatResponse](t, h.alice, req).ErrorCode, nil)
			}}},
		},
		int16(kmsg.LeaveGroup): {
			denied: func(t *testing.T, h *harness) {
				req := kmsg.NewPtrLeaveGroupRequest()
				req.Group, req.MemberID = groupCabal, h.cabalMember
				m := kmsg.NewLeaveGroupRequestMember()
				m.MemberID = h.cabalMember
				req.Members = append(req.Members, m)
				resp := deny[*kmsg.LeaveGroupResponse](t, h, req)
				code(t, "LeaveGroup cabal", resp.ErrorCode, gaf)
				if len(resp.Members) > 0 {
					t.Errorf("LeaveGroup without Read answers members: %+v", resp.Members)
				}
			},
			allowed: []step{{grants: []binding{onGroup(aliceGroup+"-leave", read)}, check: func(t *testing.T, h *harness) {
				member, _ := joinGroup(t, h.alice, aliceGroup+"-leave", topicVault)
				req := kmsg.NewPtrLeaveGroupRequest()
				req.Group, req.MemberID = aliceGroup+"-leave", member
				m := kmsg.NewLeaveGroupRequestMember()
				m.MemberID = member
				req.Members = append(req.Members, m)
				code(t, "LeaveGroup", send[*kmsg.LeaveGroupResponse](t, h.alice, req).ErrorCode, nil)
			}}},
		},
		int16(kmsg.SyncGroup): {
			denied: func(t *testing.T, h *harness) {
				req := kmsg.NewPtrSyncGroupRequest()
				req.Group, req.Generation, req.MemberID = groupCabal, 1, h.cabalMember
				resp := deny[*kmsg.SyncGroupResponse](t, h, req)
				code(t, "SyncGroup cabal", resp.ErrorCode, gaf)
				if len(resp.MemberAssignment) > 0 {
					t.Errorf("SyncGroup without Read answers an assignment")
				}
			},
			allowed: []step{{grants: []binding{onGroup(aliceGroup+"-sync", read)}, check: func(t *testing.T, h *harness) {
				joinClassic(t, h.alice, aliceGroup+"-sync", topicVault)
			}}},
		},
		int16(kmsg.DescribeGroups): {
			denied: func(t *testing.T, h *harness) {
				req := kmsg.NewPtrDescribeGroupsRequest()
				req.Groups, req.IncludeAuthorizedOperations = []string{groupCabal}, true
				g := deny[*kmsg.DescribeGroupsResponse](t, h, req).Groups[0]
				code(t, "DescribeGroups cabal", g.ErrorCode, gaf)
				if len(g.Members) > 0 || g.State != "" || g.Protocol != "" {
					t.Errorf("DescribeGroups without Describe: %+v", g)
				}
			},
			allowed: []step{{grants: []binding{onGroup(groupCabal, describe)}, check: func(t *testing.T, h *harness) {
				req := kmsg.NewPtrDescribeGroupsRequest()
				req.Groups, req.IncludeAuthorizedOperations = []string{groupCabal}, true
				g := send[*kmsg.DescribeGroupsResponse](t, h.alice, req).Groups[0]
				code(t, "DescribeGroups cabal", g.ErrorCode, nil)
				if len(g.Members) != 1 || g.Members[0].MemberID != h.cabalMember || g.AuthorizedOperations != describeBit {
					t.Errorf("DescribeGroups cabal: %d members, operations %b", len(g.Members), g.AuthorizedOperations)
				}
			}}},
		},
		int16(kmsg.ListGroups): {
			denied: func(t *testing.T, h *harness) {
				if resp := deny[*kmsg.ListGroupsResponse](t, h, kmsg.NewPtrListGroupsRequest()); len(resp.Groups) > 0 {
					t.Errorf("ListGroups without ACLs lists %d groups", len(resp.Groups))
				}
			},
			allowed: []step{{grants: []binding{onGroup(groupCabal, describe)}, check: func(t *testing.T, h *harness) {
				resp := send[*kmsg.ListGroupsResponse](t, h.alice, kmsg.NewPtrListGroupsRequest())
				if len(resp.Groups) != 1 || resp.Groups[0].Group != groupCabal {
					t.Errorf("ListGroups with Describe on cabal: %+v", resp.Groups)
				}
			}}},
		},
		int16(kmsg.DeleteGroups): {
			denied: func(t *testing.T, h *harness) {
				req := kmsg.NewPtrDeleteGroupsRequest()
				req.Groups = []string{groupCabal, emptyGroup1}
				for _, g := range deny[*kmsg.DeleteGroupsResponse](t, h, req).Groups {
					code(t, "DeleteGroups "+g.Group, g.ErrorCode, gaf)
				}
			},
			allowed: []step{{grants: []binding{onGroup(emptyGroup1, del)}, check: func(t *testing.T, h *harness) {
				req := kmsg.NewPtrDeleteGroupsRequest()
				req.Groups = []string{emptyGroup1}
				code(t, "DeleteGroups", send[*kmsg.DeleteGroupsResponse](t, h.alice, req).Groups[0].ErrorCode, nil)
			}}},
		},
		int16(kmsg.OffsetDelete): {
			denied: func(t *testing.T, h *harness) {
				resp := deny[*kmsg.OffsetDeleteResponse](t, h, offsetDeleteReq(groupCabal))
				code(t, "OffsetDelete cabal", resp.ErrorCode, gaf)
				if len(resp.Topics) > 0 {
					t.Errorf("OffsetDelete without Delete answers topics")
				}
			},
			allowed: []step{
				{grants: []binding{onGroup(emptyGroup2, del)}, check: func(t *testing.T, h *harness) {
					resp := send[*kmsg.OffsetDeleteResponse](t, h.alice, offsetDeleteReq(emptyGroup2))
					code(t, "OffsetDelete", resp.ErrorCode, nil)
					code(t, "OffsetDelete vault without Read", resp.Topics[0].Partitions[0].ErrorCode, taf)
				}},
				{grants: []binding{onTopic(topicVault, read)}, check: func(t *testing.T, h *harness) {
					resp := send[*kmsg.OffsetDeleteResponse](t, h.alice, offsetDeleteReq(emptyGroup2))
					code(t, "OffsetDelete vault", resp.Topics[0].Partitions[0].ErrorCode, nil)
				}},
			},
		},
		int16(kmsg.ConsumerGroupHeartbeat): {
			denied: func(t *testing.T, h *harness) {
				req := kmsg.NewPtrConsumerGroupHeartbeatRequest()
				req.Group, req.MemberID, req.RebalanceTimeoutMillis = groupCoven, "alice-member-1", 30000
				req.SubscribedTopicNames, req.Topics = []string{topicVault}, []kmsg.ConsumerGroupHeartbeatRequestTopic{}
				resp := deny[*kmsg.ConsumerGroupHeartbeatResponse](t, h, req)
				code(t, "ConsumerGroupHeartbeat coven", resp.ErrorCode, gaf)
				if resp.Assignment != nil {
					t.Errorf("ConsumerGroupHeartbeat without Read answers an assignment")
				}
			},
			allowed: []step{
				{grants: []binding{onGroup(aliceGroup+"-cg", read), onGroup(aliceGroup+"-rx", read)}, check: func(t *testing.T, h *harness) {
					resp := consumerHeartbeat(t, h.alice, aliceGroup+"-cg", "alice-member-2", 0, []string{topicVault}, nil)
					code(t, "ConsumerGroupHeartbeat subscribed to vault without Describe", resp.ErrorCode, taf)
				}},
				{grants: []binding{onTopic(topicVault, describe)}, check: consumerHeartbeatAllowed},
			},
		},
		int16(kmsg.ConsumerGroupDescribe): {
			denied: func(t *testing.T, h *harness) {
				g := deny[*kmsg.ConsumerGroupDescribeResponse](t, h, consumerGroupDescribeReq()).Groups[0]
				code(t, "ConsumerGroupDescribe coven", g.ErrorCode, gaf)
				if len(g.Members) > 0 {
					t.Errorf("ConsumerGroupDescribe without Describe answers members")
				}
			},
			allowed: []step{
				{grants: []binding{onGroup(groupCoven, describe)}, check: func(t *testing.T, h *harness) {
					g := deny[*kmsg.ConsumerGroupDescribeResponse](t, h, consumerGroupDescribeReq()).Groups[0]
					code(t, "ConsumerGroupDescribe coven assigned an undescribed topic", g.ErrorCode, taf)
					if len(g.Members) > 0 {
						t.Errorf("ConsumerGroupDescribe answers members assigned a topic alice may not describe")
					}
				}},
				{grants: []binding{onTopic(topicVault, describe)}, check: func(t *testing.T, h *harness) {
					g := send[*kmsg.ConsumerGroupDescribeResponse](t, h.alice, consumerGroupDescribeReq()).Groups[0]
					code(t, "ConsumerGroupDescribe coven", g.ErrorCode, nil)
					if len(g.Members) != 1 || g.AuthorizedOperations != describeBit {
						t.Errorf("ConsumerGroupDescribe coven: %d members, operations %b", len(g.Members), g.AuthorizedOperations)
					}
				}},
			},
		},
	}
}

func offsetCommitReq(group string) *kmsg.OffsetCommitRequest {
	req := kmsg.NewPtrOffsetCommitRequest()
	req.Group, req.Generation = group, -1
	rt := kmsg.NewOffsetCommitRequestTopic()
	rt.Topic = topicVault
	rp := kmsg.NewOffsetCommitRequestTopicPartition()
	rp.Offset = 1
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	return req
}

func offsetFetchReq(group string, named bool) *kmsg.OffsetFetchRequest {
	req := kmsg.NewPtrOffsetFetchRequest()
	rg := kmsg.NewOffsetFetchRequestGroup()
	rg.Group = group
	req.Group = group
	if named {
		rt := kmsg.NewOffsetFetchRequestGroupTopic()
		rt.Topic, rt.Partitions = topicVault, []int32{0}
		rg.Topics = append(rg.Topics, rt)
		ot := kmsg.NewOffsetFetchRequestTopic()
		ot.Topic, ot.Partitions = topicVault, []int32{0}
		req.Topics = append(req.Topics, ot)
	}
	req.Groups = append(req.Groups, rg)
	return req
}

func findCoordinatorReq(typ int8, key string) *kmsg.FindCoordinatorRequest {
	req := kmsg.NewPtrFindCoordinatorRequest()
	req.CoordinatorType, req.CoordinatorKey, req.CoordinatorKeys = typ, key, []string{key}
	return req
}

func offsetDeleteReq(group string) *kmsg.OffsetDeleteRequest {
	req := kmsg.NewPtrOffsetDeleteRequest()
	req.Group = group
	rt := kmsg.NewOffsetDeleteRequestTopic()
	rt.Topic = topicVault
	rp := kmsg.NewOffsetDeleteRequestTopicPartition()
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	return req
}

func consumerGroupDescribeReq() *kmsg.ConsumerGroupDescribeRequest {
	req := kmsg.NewPtrConsumerGroupDescribeRequest()
	req.Groups, req.IncludeAuthorizedOperations = []string{groupCoven}, true
	return req
}

// consumerHeartbeatAllowed joins a KIP-848 group subscribed to vault, and
// another through a regex matching vault and alice-grow, of which alice
// may describe only vault: the regex resolves to vault alone.
func consumerHeartbeatAllowed(t *testing.T, h *harness) {
	resp := consumerHeartbeat(t, h.alice, aliceGroup+"-cg", "alice-member-2", 0, []string{topicVault}, nil)
	code(t, "ConsumerGroupHeartbeat", resp.ErrorCode, nil)
	if resp.MemberEpoch < 1 {
		t.Errorf("ConsumerGroupHeartbeat: member epoch %d", resp.MemberEpoch)
	}
	regex := kmsg.StringPtr("vault|alice-grow")
	epoch := int32(0)
	for range 50 {
		resp := consumerHeartbeat(t, h.alice, aliceGroup+"-rx", "alice-member-3", epoch, nil, regex)
		code(t, "ConsumerGroupHeartbeat (regex)", resp.ErrorCode, nil)
		epoch = resp.MemberEpoch
		if resp.Assignment != nil && len(resp.Assignment.Topics) > 0 {
			for _, at := range resp.Assignment.Topics {
				if at.TopicID != h.vaultID {
					t.Errorf("the regex resolved to topic %x, which alice may not describe", at.TopicID)
				}
			}
			return
		}
	}
	t.Error("the regex member was never assigned vault")
}

// ---- transactions ----

func txnCases() map[int16]*apiCase {
	return map[int16]*apiCase{
		int16(kmsg.InitProducerID): {
			denied: func(t *testing.T, h *harness) {
				req := kmsg.NewPtrInitProducerIDRequest()
				req.TransactionalID, req.TransactionTimeoutMillis, req.ProducerID, req.ProducerEpoch = kmsg.StringPtr(txnHeist), 60000, -1, -1
				resp := deny[*kmsg.InitProducerIDResponse](t, h, req)
				code(t, "InitProducerId heist", resp.ErrorCode, tiaf)
				req.TransactionalID = nil
				resp = deny[*kmsg.InitProducerIDResponse](t, h, req)
				code(t, "InitProducerId (idempotent)", resp.ErrorCode, caf)
				if resp.ProducerID != -1 {
					t.Errorf("InitProducerId without ACLs: producer id %d", resp.ProducerID)
				}
			},
			allowed: []step{
				{grants: []binding{onTopic(topicVault, write)}, check: func(t *testing.T, h *harness) {
					req := kmsg.NewPtrInitProducerIDRequest()
					req.ProducerID, req.ProducerEpoch = -1, -1
					resp := send[*kmsg.InitProducerIDResponse](t, h.alice, req)
					code(t, "InitProducerId with Write on a topic (KIP-679)", resp.ErrorCode, nil)
				}},
				{grants: []binding{onTxn(aliceTxn, write)}, check: func(t *testing.T, h *harness) {
					pid, epoch := initTxn(t, h.alice, aliceTxn)
					if pid < 0 || epoch < 0 {
						t.Errorf("InitProducerId %s: %d/%d", aliceTxn, pid, epoch)
					}
				}},
			},
		},
		int16(kmsg.AddPartitionsToTxn): {
			denied: func(t *testing.T, h *harness) {
				got := addPartitionsDenied(t, h)
				code(t, "AddPartitionsToTxn v3 heist", got, tiaf)
				req := kmsg.NewPtrAddPartitionsToTxnRequest()
				tx := kmsg.NewAddPartitionsToTxnRequestTransaction()
				tx.TransactionalID, tx.ProducerID, tx.ProducerEpoch, tx.VerifyOnly = txnHeist, h.heistPID, h.heistEpoch, true
				tt := kmsg.NewAddPartitionsToTxnRequestTransactionTopic()
				tt.Topic, tt.Partitions = topicVault, []int32{0}
				tx.Topics = append(tx.Topics, tt)
				req.Transactions = append(req.Transactions, tx)
				resp := send[*kmsg.AddPartitionsToTxnResponse](t, h.aliceNew, req)
				h.noLeak(t, req, resp)
				if resp.Version < 4 {
					t.Fatalf("AddPartitionsToTxn went out as v%d, want the brokers' v4+", resp.Version)
				}
				code(t, "AddPartitionsToTxn v4+ (brokers only)", resp.ErrorCode, caf)
			},
			allowed: []step{
				{grants: []binding{onTxn(aliceTxn, write), onTopic(topicMarkers, write)}, check: func(t *testing.T, h *harness) {
					pid, epoch := initTxn(t, h.alice, aliceTxn)
					got := addPartitionsV3(t, h.alice, aliceTxn, pid, epoch, topicVault, topicMarkers)
					code(t, "AddPartitionsToTxn vault without Write", got[topicVault], taf)
					code(t, "AddPartitionsToTxn alice-markers beside a refused partition", got[topicMarkers], kerr.OperationNotAttempted)
				}},
				{grants: []binding{onTopic(topicVault, write)}, check: func(t *testing.T, h *harness) {
					pid, epoch := initTxn(t, h.alice, aliceTxn)
					got := addPartitionsV3(t, h.alice, aliceTxn, pid, epoch, topicVault, topicMarkers)
					code(t, "AddPartitionsToTxn vault", got[topicVault], nil)
					code(t, "AddPartitionsToTxn alice-markers", got[topicMarkers], nil)
					code(t, "EndTxn", endTxn(t, h.alice, aliceTxn, pid, epoch), nil)
				}},
			},
		},
		int16(kmsg.AddOffsetsToTxn): {
			denied: func(t *testing.T, h *harness) {
				code(t, "AddOffsetsToTxn heist", deny[*kmsg.AddOffsetsToTxnResponse](t, h, addOffsetsReq(txnHeist, h.heistPID, h.heistEpoch, groupCabal)).ErrorCode, tiaf)
			},
			allowed: []step{
				{grants: []binding{onTxn(aliceTxn, write)}, check: func(t *testing.T, h *harness) {
					pid, epoch := initTxn(t, h.alice, aliceTxn)
					code(t, "AddOffsetsToTxn without Read on the group", send[*kmsg.AddOffsetsToTxnResponse](t, h.alice, addOffsetsReq(aliceTxn, pid, epoch, aliceGroup)).ErrorCode, gaf)
				}},
				{grants: []binding{onGroup(aliceGroup, read)}, check: func(t *testing.T, h *harness) {
					pid, epoch := initTxn(t, h.alice, aliceTxn)
					code(t, "AddOffsetsToTxn", send[*kmsg.AddOffsetsToTxnResponse](t, h.alice, addOffsetsReq(aliceTxn, pid, epoch, aliceGroup)).ErrorCode, nil)
					code(t, "EndTxn", endTxn(t, h.alice, aliceTxn, pid, epoch), nil)
				}},
			},
		},
		int16(kmsg.EndTxn): {
			denied: func(t *testing.T, h *harness) {
				req := kmsg.NewPtrEndTxnRequest()
				req.TransactionalID, req.ProducerID, req.ProducerEpoch, req.Commit = txnHeist, h.heistPID, h.heistEpoch, true
				code(t, "EndTxn heist", deny[*kmsg.EndTxnResponse](t, h, req).ErrorCode, tiaf)
			},
			allowed: []step{{grants: []binding{onTxn(aliceTxn, write), onTopic(topicVault, write)}, check: func(t *testing.T, h *harness) {
				pid, epoch := h.beginTxn(t, h.alice, aliceTxn, topicVault)
				code(t, "EndTxn", endTxn(t, h.alice, aliceTxn, pid, epoch), nil)
			}}},
		},
		int16(kmsg.WriteTxnMarkers): {
			denied: func(t *testing.T, h *harness) {
				resp := deny[*kmsg.WriteTxnMarkersResponse](t, h, writeTxnMarkersReq(topicVault, h.heistPID, h.heistEpoch))
				code(t, "WriteTxnMarkers vault", resp.Markers[0].Topics[0].Partitions[0].ErrorCode, caf)
			},
			allowed: []step{{grants: []binding{onCluster(clusterAction)}, check: func(t *testing.T, h *harness) {
				resp := send[*kmsg.WriteTxnMarkersResponse](t, h.alice, writeTxnMarkersReq(topicMarkers, 424242, 0))
				code(t, "WriteTxnMarkers alice-markers", resp.Markers[0].Topics[0].Partitions[0].ErrorCode, nil)
			}}},
		},
		int16(kmsg.TxnOffsetCommit): {
			denied: func(t *testing.T, h *harness) {
				resp := deny[*kmsg.TxnOffsetCommitResponse](t, h, txnOffsetCommitReq(txnHeist, h.heistPID, h.heistEpoch, groupCabal))
				code(t, "TxnOffsetCommit heist", resp.Topics[0].Partitions[0].ErrorCode, tiaf)
			},
			allowed: []step{
				{grants: []binding{onTxn(aliceTxn, write), onGroup(aliceGroup, read)}, check: func(t *testing.T, h *harness) {
					pid, epoch := initTxn(t, h.alice, aliceTxn)
					code(t, "AddOffsetsToTxn", send[*kmsg.AddOffsetsToTxnResponse](t, h.alice, addOffsetsReq(aliceTxn, pid, epoch, aliceGroup)).ErrorCode, nil)
					resp := send[*kmsg.TxnOffsetCommitResponse](t, h.alice, txnOffsetCommitReq(aliceTxn, pid, epoch, aliceGroup))
					code(t, "TxnOffsetCommit vault without Read", resp.Topics[0].Partitions[0].ErrorCode, taf)
					code(t, "EndTxn", endTxn(t, h.alice, aliceTxn, pid, epoch), nil)
				}},
				{grants: []binding{onTopic(topicVault, read)}, check: func(t *testing.T, h *harness) {
					pid, epoch := initTxn(t, h.alice, aliceTxn)
					code(t, "AddOffsetsToTxn", send[*kmsg.AddOffsetsToTxnResponse](t, h.alice, addOffsetsReq(aliceTxn, pid, epoch, aliceGroup)).ErrorCode, nil)
					resp := send[*kmsg.TxnOffsetCommitResponse](t, h.alice, txnOffsetCommitReq(aliceTxn, pid, epoch, aliceGroup))
					code(t, "TxnOffsetCommit vault", resp.Topics[0].Partitions[0].ErrorCode, nil)
					code(t, "EndTxn", endTxn(t, h.alice, aliceTxn, pid, epoch), nil)
				}},
			},
		},
		int16(kmsg.DescribeTransactions): {
			denied: func(t *testing.T, h *harness) {
				req := kmsg.NewPtrDescribeTransactionsRequest()
				req.TransactionalIDs = []string{txnHeist}
				st := deny[*kmsg.DescribeTransactionsResponse](t, h, req).TransactionStates[0]
				code(t, "DescribeTransactions heist", st.ErrorCode, tiaf)
				if st.State != "" || len(st.Topics) > 0 || st.ProducerID == h.heistPID {
					t.Errorf("DescribeTransactions without Describe: %+v", st)
				}
			},
			allowed: []step{
				{grants: []binding{onTxn(txnHeist, describe)}, check: func(t *testing.T, h *harness) {
					st := describeHeist(t, h)
					if len(st.Topics) > 0 {
						t.Errorf("DescribeTransactions lists %d topics alice may not describe", len(st.Topics))
					}
				}},
				{grants: []binding{onTopic(topicVault, describe)}, check: func(t *testing.T, h *harness) {
					if st := describeHeist(t, h); len(st.Topics) != 1 || st.Topics[0].Topic != topicVault {
						t.Errorf("DescribeTransactions heist: topics %+v, want vault", st.Topics)
					}
				}},
			},
		},
		int16(kmsg.ListTransactions): {
			denied: func(t *testing.T, h *harness) {
				if resp := deny[*kmsg.ListTransactionsResponse](t, h, kmsg.NewPtrListTransactionsRequest()); len(resp.TransactionStates) > 0 {
					t.Errorf("ListTransactions without ACLs lists %d transactions", len(resp.TransactionStates))
				}
			},
			allowed: []step{{grants: []binding{onTxn(txnHeist, describe)}, check: func(t *testing.T, h *harness) {
				resp := send[*kmsg.ListTransactionsResponse](t, h.alice, kmsg.NewPtrListTransactionsRequest())
				code(t, "ListTransactions", resp.ErrorCode, nil)
				if len(resp.TransactionStates) != 1 || resp.TransactionStates[0].TransactionalID != txnHeist {
					t.Errorf("ListTransactions with Describe on heist: %+v", resp.TransactionStates)
				}
			}}},
		},
	}
}

// addPartitionsDenied sends AddPartitionsToTxn v3 for heist as alice and
// returns vault-0's code.
func addPartitionsDenied(t *testing.T, h *harness) int16 {
	t.Helper()
	req := kmsg.NewPtrAddPartitionsToTxnRequest()
	req.TransactionalID, req.ProducerID, req.ProducerEpoch = txnHeist, h.heistPID, h.heistEpoch
	rt := kmsg.NewAddPartitionsToTxnRequestTopic()
	rt.Topic, rt.Partitions = topicVault, []int32{0}
	req.Topics = append(req.Topics, rt)
	resp := deny[*kmsg.AddPartitionsToTxnResponse](t, h, req)
	return resp.Topics[0].Partitions[0].ErrorCode
}

func addOffsetsReq(id string, pid int64, epoch int16, group string) *kmsg.AddOffsetsToTxnRequest {
	req := kmsg.NewPtrAddOffsetsToTxnRequest()
	req.TransactionalID, req.ProducerID, req.ProducerEpoch, req.Group = id, pid, epoch, group
	return req
}

func writeTxnMarkersReq(topic string, pid int64, epoch int16) *kmsg.WriteTxnMarkersRequest {
	req := kmsg.NewPtrWriteTxnMarkersRequest()
	m := kmsg.NewWriteTxnMarkersRequestMarker()
	m.ProducerID, m.ProducerEpoch, m.Committed = pid, epoch, false
	mt := kmsg.NewWriteTxnMarkersRequestMarkerTopic()
	mt.Topic, mt.Partitions = topic, []int32{0}
	m.Topics = append(m.Topics, mt)
	req.Markers = append(req.Markers, m)
	return req
}

func txnOffsetCommitReq(id string, pid int64, epoch int16, group string) *kmsg.TxnOffsetCommitRequest {
	req := kmsg.NewPtrTxnOffsetCommitRequest()
	req.TransactionalID, req.ProducerID, req.ProducerEpoch, req.Group, req.Generation = id, pid, epoch, group, -1
	rt := kmsg.NewTxnOffsetCommitRequestTopic()
	rt.Topic = topicVault
	rp := kmsg.NewTxnOffsetCommitRequestTopicPartition()
	rp.Offset, rp.LeaderEpoch = 1, -1
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	return req
}

func describeHeist(t *testing.T, h *harness) kmsg.DescribeTransactionsResponseTransactionState {
	t.Helper()
	req := kmsg.NewPtrDescribeTransactionsRequest()
	req.TransactionalIDs = []string{txnHeist}
	st := send[*kmsg.DescribeTransactionsResponse](t, h.alice, req).TransactionStates[0]
	code(t, "DescribeTransactions heist", st.ErrorCode, nil)
	if st.State != "Ongoing" || st.ProducerID != h.heistPID {
		t.Errorf("DescribeTransactions heist: state %q, producer %d (want Ongoing, %d): a refused request ended it?", st.State, st.ProducerID, h.heistPID)
	}
	return st
}

// ---- admin, ACLs, configs, cluster, SASL ----

func adminCases() map[int16]*apiCase {
	m := map[int16]*apiCase{
		int16(kmsg.ApiVersions): noACL(func(t *testing.T, h *harness) {
			if len(h.apiKeys(t)) == 0 {
				t.Error("ApiVersions lists no API")
			}
		}),
		// SaslAuthenticate needs no ACL: every client of this test logged
		// in with it before its first request; this checks alice did.
		int16(kmsg.SASLAuthenticate): noACL(func(t *testing.T, h *harness) {
			cl := h.client(t, "alice")
			if err := cl.Ping(ctxFor(t)); err != nil {
				t.Errorf("alice's SCRAM login: %v", err)
			}
		}),
		int16(kmsg.SASLHandshake): noACL(func(t *testing.T, h *harness) {
			// On a connection of its own: a handshake starts a
			// re-authentication (KIP-368) the test does not finish.
			cl := h.client(t, "alice")
			req := kmsg.NewPtrSASLHandshakeRequest()
			req.Mechanism = "SCRAM-SHA-256"
			resp := send[*kmsg.SASLHandshakeResponse](t, cl, req)
			code(t, "SaslHandshake", resp.ErrorCode, nil)
		}),
		int16(kmsg.DescribeCluster): {
			denied: func(t *testing.T, h *harness) {
				req := kmsg.NewPtrDescribeClusterRequest()
				req.IncludeClusterAuthorizedOperations = true
				resp := deny[*kmsg.DescribeClusterResponse](t, h, req)
				code(t, "DescribeCluster (no ACL needed)", resp.ErrorCode, nil)
				if resp.ClusterAuthorizedOperations != 0 || len(resp.Brokers) == 0 {
					t.Errorf("DescribeCluster without ACLs: operations %b, %d brokers", resp.ClusterAuthorizedOperations, len(resp.Brokers))
				}
			},
			allowed: []step{{grants: []binding{onCluster(describe)}, check: func(t *testing.T, h *harness) {
				req := kmsg.NewPtrDescribeClusterRequest()
				req.IncludeClusterAuthorizedOperations = true
				if resp := send[*kmsg.DescribeClusterResponse](t, h.alice, req); resp.ClusterAuthorizedOperations != describeBit {
					t.Errorf("DescribeCluster: operations %b, want %b", resp.ClusterAuthorizedOperations, describeBit)
				}
			}}},
		},
	}
	for k, c := range topicAdminCases() {
		m[k] = c
	}
	for k, c := range clusterCases() {
		m[k] = c
	}
	return m
}

func topicAdminCases() map[int16]*apiCase {
	return map[int16]*apiCase{
		int16(kmsg.CreateTopics): {
			denied: func(t *testing.T, h *harness) {
				st := deny[*kmsg.CreateTopicsResponse](t, h, createTopicsReq("alice-new")).Topics[0]
				code(t, "CreateTopics alice-new", st.ErrorCode, taf)
				if got := send[*kmsg.MetadataResponse](t, h.admin, metadataReq(false, "alice-new")); got.Topics[0].ErrorCode == 0 {
					t.Error("CreateTopics without Create created the topic")
				}
			},
			allowed: []step{{grants: []binding{onTopic("alice-new", create)}, check: func(t *testing.T, h *harness) {
				st := send[*kmsg.CreateTopicsResponse](t, h.alice, createTopicsReq("alice-new")).Topics[0]
				code(t, "CreateTopics alice-new", st.ErrorCode, nil)
				code(t, "CreateTopics configs without DescribeConfigs", st.ConfigErrorCode, taf)
				if len(st.Configs) > 0 || st.NumPartitions != -1 {
					t.Errorf("CreateTopics without DescribeConfigs answers %d configs, %d partitions", len(st.Configs), st.NumPartitions)
				}
			}}},
		},
		int16(kmsg.DeleteTopics): {
			denied: func(t *testing.T, h *harness) {
				req := kmsg.NewPtrDeleteTopicsRequest()
				req.TopicNames = []string{topicVault, "nowhere"}
				for _, n := range []string{topicVault, "nowhere"} {
					rt := kmsg.NewDeleteTopicsRequestTopic()
					rt.Topic = kmsg.StringPtr(n)
					req.Topics = append(req.Topics, rt)
				}
				rt := kmsg.NewDeleteTopicsRequestTopic()
				rt.TopicID = h.doomedID
				req.Topics = append(req.Topics, rt)
				resp := deny[*kmsg.DeleteTopicsResponse](t, h, req)
				if len(resp.Topics) != 3 {
					t.Fatalf("DeleteTopics: %d answers, want 3", len(resp.Topics))
				}
				for _, st := range resp.Topics {
					code(t, "DeleteTopics", st.ErrorCode, taf)
					if st.Topic == nil && st.TopicID != h.doomedID || st.Topic != nil && st.TopicID != [16]byte{} {
						t.Errorf("DeleteTopics without Describe: name %v id %x", st.Topic, st.TopicID)
					}
				}
			},
			allowed: []step{
				{grants: []binding{onTopic(topicDoomed, describe)}, check: func(t *testing.T, h *harness) {
					st := send[*kmsg.DeleteTopicsResponse](t, h.alice, deleteTopicByID(h.doomedID)).Topics[0]
					code(t, "DeleteTopics by id without Delete", st.ErrorCode, taf)
					if st.Topic == nil || *st.Topic != topicDoomed {
						t.Errorf("DeleteTopics by id with Describe: name %v, want doomed", st.Topic)
					}
				}},
				{grants: []binding{onTopic(topicDoomed, del)}, check: func(t *testing.T, h *harness) {
					st := send[*kmsg.DeleteTopicsResponse](t, h.alice, deleteTopicByID(h.doomedID)).Topics[0]
					code(t, "DeleteTopics doomed", st.ErrorCode, nil)
				}},
			},
		},
		int16(kmsg.DeleteRecords): {
			denied: func(t *testing.T, h *harness) {
				p := deny[*kmsg.DeleteRecordsResponse](t, h, deleteRecordsReq()).Topics[0].Partitions[0]
				code(t, "DeleteRecords vault", p.ErrorCode, taf)
				if p.LowWatermark != -1 {
					t.Errorf("DeleteRecords without Delete: low watermark %d", p.LowWatermark)
				}
			},
			allowed: []step{{grants: []binding{onTopic(topicVault, del)}, check: func(t *testing.T, h *harness) {
				p := send[*kmsg.DeleteRecordsResponse](t, h.alice, deleteRecordsReq()).Topics[0].Partitions[0]
				code(t, "DeleteRecords vault", p.ErrorCode, nil)
			}}},
		},
		int16(kmsg.CreatePartitions): {
			denied: func(t *testing.T, h *harness) {
				for _, st := range deny[*kmsg.CreatePartitionsResponse](t, h, createPartitionsReq(topicGrow, topicVault, "nowhere")).Topics {
					code(t, "CreatePartitions "+st.Topic, st.ErrorCode, taf)
				}
			},
			allowed: []step{{grants: []binding{onTopic(topicGrow, alter)}, check: func(t *testing.T, h *harness) {
				st := send[*kmsg.CreatePartitionsResponse](t, h.alice, createPartitionsReq(topicGrow)).Topics[0]
				code(t, "CreatePartitions alice-grow", st.ErrorCode, nil)
			}}},
		},
		int16(kmsg.DescribeProducers): {
			denied: func(t *testing.T, h *harness) {
				p := deny[*kmsg.DescribeProducersResponse](t, h, describeProducersReq()).Topics[0].Partitions[0]
				code(t, "DescribeProducers vault", p.ErrorCode, taf)
				if len(p.ActiveProducers) > 0 {
					t.Errorf("DescribeProducers without Read lists producers")
				}
			},
			allowed: []step{{grants: []binding{onTopic(topicVault, read)}, check: func(t *testing.T, h *harness) {
				p := send[*kmsg.DescribeProducersResponse](t, h.alice, describeProducersReq()).Topics[0].Partitions[0]
				code(t, "DescribeProducers vault", p.ErrorCode, nil)
			}}},
		},
		int16(kmsg.DescribeConfigs): {
			denied: func(t *testing.T, h *harness) {
				for _, r := range deny[*kmsg.DescribeConfigsResponse](t, h, describeConfigsReq(true)).Resources {
					want := taf
					if r.ResourceType == kmsg.ConfigResourceTypeBroker {
						want = caf
					}
					code(t, "DescribeConfigs "+r.ResourceName, r.ErrorCode, want)
					if len(r.Configs) > 0 {
						t.Errorf("DescribeConfigs %s without DescribeConfigs answers configs", r.ResourceName)
					}
				}
			},
			allowed: []step{{grants: []binding{onTopic(topicVault, describeConfigs)}, check: func(t *testing.T, h *harness) {
				r := send[*kmsg.DescribeConfigsResponse](t, h.alice, describeConfigsReq(false)).Resources[0]
				code(t, "DescribeConfigs vault", r.ErrorCode, nil)
				if len(r.Configs) == 0 {
					t.Error("DescribeConfigs vault: no configs")
				}
			}}},
		},
		int16(kmsg.AlterConfigs): {
			denied: func(t *testing.T, h *harness) {
				code(t, "AlterConfigs vault", deny[*kmsg.AlterConfigsResponse](t, h, alterConfigsReq()).Resources[0].ErrorCode, taf)
			},
			allowed: []step{{grants: []binding{onTopic(topicVault, alterConfigs)}, check: func(t *testing.T, h *harness) {
				code(t, "AlterConfigs vault", send[*kmsg.AlterConfigsResponse](t, h.alice, alterConfigsReq()).Resources[0].ErrorCode, nil)
			}}},
		},
		int16(kmsg.IncrementalAlterConfigs): {
			denied: func(t *testing.T, h *harness) {
				code(t, "IncrementalAlterConfigs vault", deny[*kmsg.IncrementalAlterConfigsResponse](t, h, incrementalAlterConfigsReq()).Resources[0].ErrorCode, taf)
			},
			allowed: []step{{grants: []binding{onTopic(topicVault, alterConfigs)}, check: func(t *testing.T, h *harness) {
				code(t, "IncrementalAlterConfigs vault", send[*kmsg.IncrementalAlterConfigsResponse](t, h.alice, incrementalAlterConfigsReq()).Resources[0].ErrorCode, nil)
			}}},
		},
	}
}

func createTopicsReq(name string) *kmsg.CreateTopicsRequest {
	req := kmsg.NewPtrCreateTopicsRequest()
	req.TimeoutMillis = 10000
	rt := kmsg.NewCreateTopicsRequestTopic()
	rt.Topic, rt.NumPartitions, rt.ReplicationFactor = name, 1, 1
	req.Topics = append(req.Topics, rt)
	return req
}

func deleteTopicByID(id [16]byte) *kmsg.DeleteTopicsRequest {
	req := kmsg.NewPtrDeleteTopicsRequest()
	req.TimeoutMillis = 10000
	rt := kmsg.NewDeleteTopicsRequestTopic()
	rt.TopicID = id
	req.Topics = append(req.Topics, rt)
	return req
}

func deleteRecordsReq() *kmsg.DeleteRecordsRequest {
	req := kmsg.NewPtrDeleteRecordsRequest()
	req.TimeoutMillis = 10000
	rt := kmsg.NewDeleteRecordsRequestTopic()
	rt.Topic = topicVault
	rp := kmsg.NewDeleteRecordsRequestTopicPartition()
	rp.Offset = 0
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	return req
}

func createPartitionsReq(topics ...string) *kmsg.CreatePartitionsRequest {
	req := kmsg.NewPtrCreatePartitionsRequest()
	req.TimeoutMillis = 10000
	for _, topic := range topics {
		rt := kmsg.NewCreatePartitionsRequestTopic()
		rt.Topic, rt.Count = topic, 2
		req.Topics = append(req.Topics, rt)
	}
	return req
}

func describeProducersReq() *kmsg.DescribeProducersRequest {
	req := kmsg.NewPtrDescribeProducersRequest()
	rt := kmsg.NewDescribeProducersRequestTopic()
	rt.Topic, rt.Partitions = topicVault, []int32{0}
	req.Topics = append(req.Topics, rt)
	return req
}

func describeConfigsReq(withBroker bool) *kmsg.DescribeConfigsRequest {
	req := kmsg.NewPtrDescribeConfigsRequest()
	r := kmsg.NewDescribeConfigsRequestResource()
	r.ResourceType, r.ResourceName = kmsg.ConfigResourceTypeTopic, topicVault
	req.Resources = append(req.Resources, r)
	if withBroker {
		b := kmsg.NewDescribeConfigsRequestResource()
		b.ResourceType, b.ResourceName = kmsg.ConfigResourceTypeBroker, "1"
		req.Resources = append(req.Resources, b)
	}
	return req
}

func alterConfigsReq() *kmsg.AlterConfigsRequest {
	req := kmsg.NewPtrAlterConfigsRequest()
	r := kmsg.NewAlterConfigsRequestResource()
	r.ResourceType, r.ResourceName = kmsg.ConfigResourceTypeTopic, topicVault
	c := kmsg.NewAlterConfigsRequestResourceConfig()
	c.Name, c.Value = "retention.ms", kmsg.StringPtr("604800000")
	r.Configs = append(r.Configs, c)
	req.Resources = append(req.Resources, r)
	return req
}

func incrementalAlterConfigsReq() *kmsg.IncrementalAlterConfigsRequest {
	req := kmsg.NewPtrIncrementalAlterConfigsRequest()
	r := kmsg.NewIncrementalAlterConfigsRequestResource()
	r.ResourceType, r.ResourceName = kmsg.ConfigResourceTypeTopic, topicVault
	c := kmsg.NewIncrementalAlterConfigsRequestResourceConfig()
	c.Name, c.Op, c.Value = "retention.ms", kmsg.IncrementalAlterConfigOpSet, kmsg.StringPtr("604800000")
	r.Configs = append(r.Configs, c)
	req.Resources = append(req.Resources, r)
	return req
}

// clusterCases are the APIs that need an operation on the cluster.
func clusterCases() map[int16]*apiCase {
	simple := func(op kmsg.ACLOperation, newReq func(h *harness) kmsg.Request, errOf func(kmsg.Response) int16, allowedErr *kerr.Error) *apiCase {
		return &apiCase{
			denied: func(t *testing.T, h *harness) {
				req := newReq(h)
				resp := deny[kmsg.Response](t, h, req)
				code(t, kmsg.NameForKey(req.Key()), errOf(resp), caf)
			},
			allowed: []step{{grants: []binding{onCluster(op)}, check: func(t *testing.T, h *harness) {
				req := newReq(h)
				code(t, kmsg.NameForKey(req.Key()), errOf(send[kmsg.Response](t, h.alice, req)), allowedErr)
			}}},
		}
	}
	m := map[int16]*apiCase{
		int16(kmsg.DescribeACLs): simple(describe, func(*harness) kmsg.Request { return describeACLsReq() },
			func(r kmsg.Response) int16 { return r.(*kmsg.DescribeACLsResponse).ErrorCode }, nil),
		int16(kmsg.CreateACLs): simple(alter, func(*harness) kmsg.Request { return createACLsReq() },
			func(r kmsg.Response) int16 { return r.(*kmsg.CreateACLsResponse).Results[0].ErrorCode }, nil),
		int16(kmsg.DeleteACLs): simple(alter, func(*harness) kmsg.Request { return deleteACLsReq() },
			func(r kmsg.Response) int16 { return r.(*kmsg.DeleteACLsResponse).Results[0].ErrorCode }, nil),
		int16(kmsg.DescribeLogDirs): simple(describe, func(*harness) kmsg.Request { return kmsg.NewPtrDescribeLogDirsRequest() },
			func(r kmsg.Response) int16 { return r.(*kmsg.DescribeLogDirsResponse).ErrorCode }, nil),
		int16(kmsg.ElectLeaders): simple(alter, func(*harness) kmsg.Request { return electLeadersReq() },
			func(r kmsg.Response) int16 { return r.(*kmsg.ElectLeadersResponse).ErrorCode }, nil),
		int16(kmsg.AlterPartitionAssignments): simple(alter, func(*harness) kmsg.Request {
			req := kmsg.NewPtrAlterPartitionAssignmentsRequest()
			req.TimeoutMillis = 10000
			return req
		}, func(r kmsg.Response) int16 { return r.(*kmsg.AlterPartitionAssignmentsResponse).ErrorCode }, nil),
		int16(kmsg.ListPartitionReassignments): simple(describe, func(*harness) kmsg.Request {
			req := kmsg.NewPtrListPartitionReassignmentsRequest()
			req.TimeoutMillis = 10000
			return req
		}, func(r kmsg.Response) int16 { return r.(*kmsg.ListPartitionReassignmentsResponse).ErrorCode }, nil),
		int16(kmsg.DescribeClientQuotas): simple(describeConfigs, func(*harness) kmsg.Request { return kmsg.NewPtrDescribeClientQuotasRequest() },
			func(r kmsg.Response) int16 { return r.(*kmsg.DescribeClientQuotasResponse).ErrorCode }, nil),
		int16(kmsg.AlterClientQuotas): simple(alterConfigs, func(*harness) kmsg.Request { return alterClientQuotasReq() },
			func(r kmsg.Response) int16 { return r.(*kmsg.AlterClientQuotasResponse).Entries[0].ErrorCode }, nil),
		int16(kmsg.DescribeQuorum): simple(describe, func(*harness) kmsg.Request { return kmsg.NewPtrDescribeQuorumRequest() },
			func(r kmsg.Response) int16 { return r.(*kmsg.DescribeQuorumResponse).ErrorCode }, nil),
		// An unknown broker id: allowed, the answer is the controller's
		// (BROKER_ID_NOT_REGISTERED), not an authorization error.
		int16(kmsg.UnregisterBroker): simple(alter, func(*harness) kmsg.Request {
			req := kmsg.NewPtrUnregisterBrokerRequest()
			req.BrokerID = 99
			return req
		}, func(r kmsg.Response) int16 { return r.(*kmsg.UnregisterBrokerResponse).ErrorCode }, kerr.BrokerIDNotRegistered),
	}
	m[int16(kmsg.DescribeUserSCRAMCredentials)] = &apiCase{
		denied: func(t *testing.T, h *harness) {
			resp := deny[*kmsg.DescribeUserSCRAMCredentialsResponse](t, h, kmsg.NewPtrDescribeUserSCRAMCredentialsRequest(), "admin")
			code(t, "DescribeUserScramCredentials", resp.ErrorCode, caf)
		},
		allowed: []step{{grants: []binding{onCluster(describe)}, check: func(t *testing.T, h *harness) {
			resp := send[*kmsg.DescribeUserSCRAMCredentialsResponse](t, h.alice, kmsg.NewPtrDescribeUserSCRAMCredentialsRequest())
			code(t, "DescribeUserScramCredentials", resp.ErrorCode, nil)
			if len(resp.Results) < 2 {
				t.Errorf("DescribeUserScramCredentials: %d users", len(resp.Results))
			}
		}}},
	}
	m[int16(kmsg.AlterUserSCRAMCredentials)] = &apiCase{
		denied: func(t *testing.T, h *harness) {
			req := kmsg.NewPtrAlterUserSCRAMCredentialsRequest()
			d := kmsg.NewAlterUserSCRAMCredentialsRequestDeletion()
			d.Name, d.Mechanism = "admin", 1
			req.Deletions = append(req.Deletions, d)
			code(t, "AlterUserScramCredentials (delete admin)", deny[*kmsg.AlterUserSCRAMCredentialsResponse](t, h, req).Results[0].ErrorCode, caf)
			if err := h.admin.Ping(ctxFor(t)); err != nil {
				t.Errorf("admin after alice's refused deletion: %v", err)
			}
		},
		allowed: []step{{grants: []binding{onCluster(alter)}, check: func(t *testing.T, h *harness) {
			res, err := kadm.NewClient(h.alice).AlterUserSCRAMs(ctxFor(t), nil, []kadm.UpsertSCRAM{{User: "carol", Mechanism: kadm.ScramSha256, Iterations: 4096, Password: "carol-secret"}})
			if err != nil || res.Error() != nil {
				t.Errorf("AlterUserScramCredentials: %v %v", err, res.Error())
			}
		}}},
	}
	return m
}

func describeACLsReq() *kmsg.DescribeACLsRequest {
	req := kmsg.NewPtrDescribeACLsRequest()
	req.ResourceType, req.ResourcePatternType = kmsg.ACLResourceTypeAny, kmsg.ACLResourcePatternTypeAny
	req.Operation, req.PermissionType = kmsg.ACLOperationAny, kmsg.ACLPermissionTypeAny
	return req
}

// createACLsReq is alice granting herself Read on vault.
func createACLsReq() *kmsg.CreateACLsRequest {
	req := kmsg.NewPtrCreateACLsRequest()
	c := kmsg.NewCreateACLsRequestCreation()
	c.ResourceType, c.ResourceName, c.ResourcePatternType = kmsg.ACLResourceTypeTopic, topicVault, kmsg.ACLResourcePatternTypeLiteral
	c.Principal, c.Host, c.Operation, c.PermissionType = alice, "*", read, kmsg.ACLPermissionTypeAllow
	req.Creations = append(req.Creations, c)
	return req
}

// deleteACLsReq deletes the ACLs on vault.
func deleteACLsReq() *kmsg.DeleteACLsRequest {
	req := kmsg.NewPtrDeleteACLsRequest()
	f := kmsg.NewDeleteACLsRequestFilter()
	f.ResourceType, f.ResourceName, f.ResourcePatternType = kmsg.ACLResourceTypeTopic, kmsg.StringPtr(topicVault), kmsg.ACLResourcePatternTypeLiteral
	f.Operation, f.PermissionType = kmsg.ACLOperationAny, kmsg.ACLPermissionTypeAny
	req.Filters = append(req.Filters, f)
	return req
}

func electLeadersReq() *kmsg.ElectLeadersRequest {
	req := kmsg.NewPtrElectLeadersRequest()
	req.TimeoutMillis = 10000
	rt := kmsg.NewElectLeadersRequestTopic()
	rt.Topic, rt.Partitions = topicVault, []int32{0}
	req.Topics = append(req.Topics, rt)
	return req
}

func alterClientQuotasReq() *kmsg.AlterClientQuotasRequest {
	req := kmsg.NewPtrAlterClientQuotasRequest()
	e := kmsg.NewAlterClientQuotasRequestEntry()
	ent := kmsg.NewAlterClientQuotasRequestEntryEntity()
	ent.Type, ent.Name = "user", kmsg.StringPtr("bob")
	e.Entity = append(e.Entity, ent)
	op := kmsg.NewAlterClientQuotasRequestEntryOp()
	op.Key, op.Value = "producer_byte_rate", 1024
	e.Ops = append(e.Ops, op)
	req.Entries = append(req.Entries, e)
	return req
}
