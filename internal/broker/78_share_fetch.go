package broker

import (
	"context"
	"slices"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/samsa-streaming/samsa/internal/acl"
	"github.com/samsa-streaming/samsa/internal/errcode"
	"github.com/samsa-streaming/samsa/internal/metadata"
	"github.com/samsa-streaming/samsa/internal/partition"
	"github.com/samsa-streaming/samsa/internal/share"
)

// ShareFetch, versions 1-2 (KIP-932; internal/share).
//
// Version notes:
//   - v0: Kafka 4.0's early access; removed in Kafka 4.1, not served
//   - v1: the stable version: MaxRecords and BatchSize, share sessions
//     (epoch 0 opens, -1 closes), piggybacked acknowledgements
//   - v2: ShareAcquireMode (KIP-1206; 1 = record limit: MaxRecords is
//     strict, which Samsa always honours) and IsRenewAck (KIP-1222: RENEW
//     acknowledgements, then the request may not fetch)
//
// The share partitions live on the partitions' leader, in memory
// (__share_group_state is not written yet). The member is not checked
// against the group's membership (which may live on another broker).
func init() { register(int16(kmsg.ShareFetch), 1, 2, (*Broker).handleShareFetch) }

// handleShareFetch acknowledges, then acquires records for the member
// from the partitions of its share session, waiting up to MaxWaitMillis
// for some.
func (b *Broker) handleShareFetch(ctx context.Context, c *conn, r *request) (kmsg.Response, error) {
	req := r.req.(*kmsg.ShareFetchRequest)
	resp := req.ResponseKind().(*kmsg.ShareFetchResponse)
	resp.AcquisitionLockTimeoutMillis = int32(b.shares.Config().Partition.LockDuration / time.Millisecond)
	fail := func(code int16, msg string) (kmsg.Response, error) {
		resp.ErrorCode = code
		if msg != "" {
			resp.ErrorMessage = kmsg.StringPtr(msg)
		}
		return resp, nil
	}
	if req.GroupID == nil || *req.GroupID == "" || req.MemberID == nil || *req.MemberID == "" {
		return fail(kerr.InvalidRequest.Code, "GroupId and MemberId are required.")
	}
	group, member := *req.GroupID, *req.MemberID
	az := c.authz()
	if !az.group(acl.OpRead, group) {
		return fail(kerr.GroupAuthorizationFailed.Code, "")
	}
	add, acks, hasAcks := shareFetchWants(req)
	if hasAcks && req.ShareSessionEpoch == 0 {
		return fail(kerr.InvalidRequest.Code, "Acknowledge data present on initial fetch request.")
	}
	if req.IsRenewAck && (req.MaxRecords != 0 || req.MaxWaitMillis != 0 || req.MinBytes != 0) {
		return fail(kerr.InvalidRequest.Code, "A renew acknowledgement cannot fetch.")
	}
	var forget []share.TP
	for _, ft := range req.ForgottenTopicsData {
		for _, p := range ft.Partitions {
			forget = append(forget, share.TP{Topic: ft.TopicID, Partition: p})
		}
	}
	parts, err := b.shares.SessionUpdate(c, group, member, req.ShareSessionEpoch, true, add, forget)
	if err != nil {
		return fail(errcode.Code(err), err.Error())
	}
	if k := [2]string{group, member}; req.ShareSessionEpoch == 0 && !slices.Contains(c.shareSessions, k) {
		c.shareSessions = append(c.shareSessions, k)
	}
	img := b.image()
	out := map[share.TP]*kmsg.ShareFetchResponseTopicPartition{}
	entry := func(tp share.TP) *kmsg.ShareFetchResponseTopicPartition {
		e, ok := out[tp]
		if !ok {
			x := kmsg.NewShareFetchResponseTopicPartition()
			x.Partition, x.CurrentLeader.LeaderID, x.CurrentLeader.LeaderEpoch = tp.Partition, -1, -1
			x.Records = []byte{} // non-nullable for Java's client
			e = &x
			out[tp] = e
		}
		return e
	}
	for tp, batches := range acks {
		e := entry(tp)
		e.AcknowledgeErrorCode, _ = b.shareAck(ctx, b.shareResolve(img, az, group, tp), member, batches, req.IsRenewAck)
	}
	if req.ShareSessionEpoch == -1 {
		b.shares.ReleaseSession(group, member, parts)
	} else if !req.IsRenewAck {
		b.shareFetchRecords(ctx, req, img, az, group, member, parts, entry)
	}
	var leaders []int32
	byTopic := map[[16]byte]int{}
	tps := make([]share.TP, 0, len(out))
	for tp := range out {
		tps = append(tps, tp)
	}
	sortTPs(tps)
	for _, tp := range tps {
		e := out[tp]
		i, ok := byTopic[tp.Topic]
		if !ok {
			i = len(resp.Topics)
			byTopic[tp.Topic] = i
			resp.Topics = append(resp.Topics, kmsg.ShareFetchResponseTopic{TopicID: tp.Topic})
		}
		if e.CurrentLeader.LeaderID >= 0 {
			leaders = append(leaders, e.CurrentLeader.LeaderID)
		}
		resp.Topics[i].Partitions = append(resp.Topics[i].Partitions, *e)
	}
	resp.NodeEndpoints = shareNodeEndpoints(img, leaders, c.l.Name)
	return resp, nil
}

// shareFetchWants reads the partitions a ShareFetch adds to its session
// and its acknowledgements by partition.
func shareFetchWants(req *kmsg.ShareFetchRequest) (add []share.TP, acks map[share.TP][]share.AckBatch, hasAcks bool) {
	acks = map[share.TP][]share.AckBatch{}
	for _, t := range req.Topics {
		for _, p := range t.Partitions {
			tp := share.TP{Topic: t.TopicID, Partition: p.Partition}
			add = append(add, tp)
			if len(p.AcknowledgementBatches) > 0 {
				hasAcks = true
				acks[tp] = append(acks[tp], ackBatchesOf(p.AcknowledgementBatches, func(a *kmsg.ShareFetchRequestTopicPartitionAcknowledgementBatch) (int64, int64, []int8) {
					return a.FirstOffset, a.LastOffset, a.AcknowledgeTypes
				})...)
			}
		}
	}
	return add, acks, hasAcks
}

// shareFetchRecords acquires records from the session's partitions until
// some are acquired, a partition fails, or MaxWaitMillis passes.
func (b *Broker) shareFetchRecords(ctx context.Context, req *kmsg.ShareFetchRequest, img *metadata.Image, az *reqAuthz, group, member string, parts []share.TP, entry func(share.TP) *kmsg.ShareFetchResponseTopicPartition) {
	targets := make([]shareTarget, 0, len(parts))
	var live []*partition.Partition
	for _, tp := range parts {
		tg := b.shareResolve(img, az, group, tp)
		if tg.code != 0 {
			e := entry(tp)
			e.ErrorCode = tg.code
			if tg.code == kerr.NotLeaderForPartition.Code && tg.mp != nil {
				e.CurrentLeader.LeaderID, e.CurrentLeader.LeaderEpoch = tg.mp.Leader, tg.mp.LeaderEpoch
			}
			continue
		}
		targets = append(targets, tg)
		live = append(live, tg.part)
	}
	maxRecords := int(req.MaxRecords)
	if maxRecords <= 0 {
		maxRecords = 500
	}
	deadline := time.Now().Add(time.Duration(req.MaxWaitMillis) * time.Millisecond)
	start := 0
	for {
		released := b.shares.Changed()
		got, lockExpiry := b.shareFetchOnce(ctx, req, targets, start, maxRecords, entry)
		start++
		wait := time.Until(deadline)
		if got || len(targets) == 0 || wait <= 0 || ctx.Err() != nil {
			return
		}
		waitShare(ctx.Done(), live, released, lockExpiry, wait)
	}
}

// shareFetchOnce acquires from each target once, starting the round at
// index start (fairness), within the request's record and byte limits.
func (b *Broker) shareFetchOnce(ctx context.Context, req *kmsg.ShareFetchRequest, targets []shareTarget, start, maxRecords int, entry func(share.TP) *kmsg.ShareFetchResponseTopicPartition) (bool, time.Time) {
	remaining := int64(req.MaxBytes)
	if remaining <= 0 {
		remaining = 1 << 62
	}
	var (
		got        bool
		lockExpiry time.Time
	)
	for i := range targets {
		tg := targets[(start+i)%len(targets)]
		if maxRecords <= 0 || remaining <= 0 {
			break
		}
		raw, acq, exp, err := b.shareAcquire(ctx, tg, *req.MemberID, maxRecords, remaining)
		if !exp.IsZero() && (lockExpiry.IsZero() || exp.Before(lockExpiry)) {
			lockExpiry = exp
		}
		if err != nil {
			switch code := errcode.Code(err); code {
			case kerr.CoordinatorLoadInProgress.Code, kerr.CoordinatorNotAvailable.Code, kerr.NotCoordinator.Code:
				// The share partition's state is not readable yet
				// (__share_group_state being created or loaded):
				// nothing to acquire this time, as Kafka answers while
				// a share partition initialises (Java's client fails
				// on these codes).
			default:
				entry(tg.key.TP).ErrorCode = code
				got = true
			}
			continue
		}
		if len(acq) == 0 {
			continue
		}
		got = true
		e := entry(tg.key.TP)
		e.Records = raw
		for _, a := range acq {
			e.AcquiredRecords = append(e.AcquiredRecords, kmsg.ShareFetchResponseTopicPartitionAcquiredRecord{FirstOffset: a.First, LastOffset: a.Last, DeliveryCount: a.Deliveries})
			maxRecords -= int(a.Last - a.First + 1)
		}
		remaining -= int64(len(raw))
	}
	return got, lockExpiry
}
