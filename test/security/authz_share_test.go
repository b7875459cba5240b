package security_test

import (
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// The share-group rows (KIP-932): Kafka checks READ on the group for the
// heartbeat, fetch and acknowledge, DESCRIBE on the group for describe,
// DESCRIBE on subscribed topics for the heartbeat and READ on fetched
// topics for the fetch.
const (
	shareGroup  = aliceGroup + "-share"
	shareMember = "alice-share-member-0001"
)

func shareHeartbeatReq(topics []string) *kmsg.ShareGroupHeartbeatRequest {
	req := kmsg.NewPtrShareGroupHeartbeatRequest()
	req.GroupID, req.MemberID, req.MemberEpoch = shareGroup, shareMember, 0
	req.SubscribedTopicNames = topics
	return req
}

func shareFetchReq(h *harness) *kmsg.ShareFetchRequest {
	req := kmsg.NewPtrShareFetchRequest()
	req.GroupID, req.MemberID = kmsg.StringPtr(shareGroup), kmsg.StringPtr(shareMember)
	req.ShareSessionEpoch, req.MaxRecords, req.BatchSize = 0, 10, 10
	t := kmsg.NewShareFetchRequestTopic()
	t.TopicID = h.vaultID
	p := kmsg.NewShareFetchRequestTopicPartition()
	t.Partitions = append(t.Partitions, p)
	req.Topics = append(req.Topics, t)
	return req
}

func shareAckReq(h *harness) *kmsg.ShareAcknowledgeRequest {
	req := kmsg.NewPtrShareAcknowledgeRequest()
	req.GroupID, req.MemberID, req.ShareSessionEpoch = kmsg.StringPtr(shareGroup), kmsg.StringPtr(shareMember), 1
	t := kmsg.NewShareAcknowledgeRequestTopic()
	t.TopicID = h.vaultID
	p := kmsg.NewShareAcknowledgeRequestTopicPartition()
	b := kmsg.NewShareAcknowledgeRequestTopicPartitionAcknowledgementBatch()
	b.FirstOffset, b.LastOffset, b.AcknowledgeTypes = 0, 0, []int8{1}
	p.AcknowledgementBatches = append(p.AcknowledgementBatches, b)
	t.Partitions = append(t.Partitions, p)
	req.Topics = append(req.Topics, t)
	return req
}

// notAuthz fails when got is an authorization error.
func notAuthz(t *testing.T, what string, got int16) {
	t.Helper()
	if got == kerr.GroupAuthorizationFailed.Code || got == kerr.TopicAuthorizationFailed.Code || got == kerr.ClusterAuthorizationFailed.Code {
		t.Errorf("%s: %v with the minimal ACLs", what, kerr.ErrorForCode(got))
	}
}

func shareCases() map[int16]*apiCase {
	return map[int16]*apiCase{
		int16(kmsg.ShareGroupHeartbeat): {
			denied: func(t *testing.T, h *harness) {
				resp := deny[*kmsg.ShareGroupHeartbeatResponse](t, h, shareHeartbeatReq([]string{topicVault}))
				code(t, "ShareGroupHeartbeat", resp.ErrorCode, gaf)
				if resp.Assignment != nil {
					t.Errorf("ShareGroupHeartbeat without Read answers an assignment")
				}
			},
			allowed: []step{
				{grants: []binding{onGroup(shareGroup, read)}, check: func(t *testing.T, h *harness) {
					resp := deny[*kmsg.ShareGroupHeartbeatResponse](t, h, shareHeartbeatReq([]string{topicVault}))
					code(t, "ShareGroupHeartbeat subscribed to vault without Describe", resp.ErrorCode, taf)
				}},
				{grants: []binding{onTopic(topicVault, describe)}, check: func(t *testing.T, h *harness) {
					resp := send[*kmsg.ShareGroupHeartbeatResponse](t, h.alice, shareHeartbeatReq([]string{topicVault}))
					code(t, "ShareGroupHeartbeat", resp.ErrorCode, nil)
				}},
			},
		},
		int16(kmsg.ShareGroupDescribe): {
			denied: func(t *testing.T, h *harness) {
				req := kmsg.NewPtrShareGroupDescribeRequest()
				req.GroupIDs = []string{shareGroup}
				g := deny[*kmsg.ShareGroupDescribeResponse](t, h, req).Groups[0]
				code(t, "ShareGroupDescribe", g.ErrorCode, gaf)
				if len(g.Members) > 0 {
					t.Errorf("ShareGroupDescribe without Describe answers members")
				}
			},
			allowed: []step{{grants: []binding{onGroup(shareGroup, describe)}, check: func(t *testing.T, h *harness) {
				req := kmsg.NewPtrShareGroupDescribeRequest()
				req.GroupIDs = []string{shareGroup}
				g := send[*kmsg.ShareGroupDescribeResponse](t, h.alice, req).Groups[0]
				notAuthz(t, "ShareGroupDescribe", g.ErrorCode)
			}}},
		},
		int16(kmsg.ShareFetch): {
			denied: func(t *testing.T, h *harness) {
				resp := deny[*kmsg.ShareFetchResponse](t, h, shareFetchReq(h))
				code(t, "ShareFetch", resp.ErrorCode, gaf)
				for _, tp := range resp.Topics {
					for _, p := range tp.Partitions {
						if len(p.Records) > 0 {
							t.Errorf("ShareFetch without Read answers records")
						}
					}
				}
			},
			allowed: []step{
				{grants: []binding{onGroup(shareGroup, read)}, check: func(t *testing.T, h *harness) {
					resp := send[*kmsg.ShareFetchResponse](t, h.alice, shareFetchReq(h))
					notAuthz(t, "ShareFetch (group)", resp.ErrorCode)
					for _, tp := range resp.Topics {
						for _, p := range tp.Partitions {
							code(t, "ShareFetch vault without topic Read", p.ErrorCode, taf)
						}
					}
				}},
				{grants: []binding{onTopic(topicVault, read)}, check: func(t *testing.T, h *harness) {
					resp := send[*kmsg.ShareFetchResponse](t, h.alice, shareFetchReq(h))
					notAuthz(t, "ShareFetch", resp.ErrorCode)
					for _, tp := range resp.Topics {
						for _, p := range tp.Partitions {
							notAuthz(t, "ShareFetch vault", p.ErrorCode)
						}
					}
				}},
			},
		},
		int16(kmsg.ShareAcknowledge): {
			denied: func(t *testing.T, h *harness) {
				resp := deny[*kmsg.ShareAcknowledgeResponse](t, h, shareAckReq(h))
				code(t, "ShareAcknowledge", resp.ErrorCode, gaf)
			},
			allowed: []step{{grants: []binding{onGroup(shareGroup, read)}, check: func(t *testing.T, h *harness) {
				resp := send[*kmsg.ShareAcknowledgeResponse](t, h.alice, shareAckReq(h))
				notAuthz(t, "ShareAcknowledge", resp.ErrorCode)
			}}},
		},
	}
}
