package broker

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/samsa-streaming/samsa/internal/acl"
	"github.com/samsa-streaming/samsa/internal/metadata"
)

// UnregisterBroker, version 0 (KIP-500, KIP-631).
//
// Version notes:
//   - v0: flexible versions
func init() { register(int16(kmsg.UnregisterBroker), 0, 0, (*Broker).handleUnregisterBroker) }

// handleUnregisterBroker is Kafka's UnregisterBroker (KIP-500): it removes
// a broker's registration, typically after the broker was decommissioned.
// Samsa refuses while the broker still hosts replicas (reassign them
// first): the metadata never names an unregistered broker as a replica.
func (b *Broker) handleUnregisterBroker(ctx context.Context, c *conn, r *request) (kmsg.Response, error) {
	req := r.req.(*kmsg.UnregisterBrokerRequest)
	resp := req.ResponseKind().(*kmsg.UnregisterBrokerResponse)
	if !c.canCluster(acl.OpAlter) {
		resp.ErrorCode = kerr.ClusterAuthorizationFailed.Code
		return resp, nil
	}

	fail := func(code *kerr.Error, msg string) (kmsg.Response, error) {
		resp.ErrorCode = code.Code
		resp.ErrorMessage = kmsg.StringPtr(msg)
		return resp, nil
	}
	img := b.image()
	if _, ok := img.Brokers[req.BrokerID]; !ok {
		return fail(kerr.BrokerIDNotRegistered, fmt.Sprintf("Broker ID %d is not currently registered", req.BrokerID))
	}
	if hosted := hostedPartitions(img, req.BrokerID); len(hosted) > 0 {
		return fail(kerr.InvalidRequest, unregisterRefusal(req.BrokerID, hosted))
	}
	_, err := b.ctl.Propose(ctx, metadata.UnregisterBroker{ID: req.BrokerID})
	switch {
	case err == nil:
	case errors.Is(err, metadata.ErrStaleBroker):
		return fail(kerr.BrokerIDNotRegistered, fmt.Sprintf("Broker ID %d is not currently registered", req.BrokerID))
	case errors.Is(err, metadata.ErrInvalidReplicaAssignment):
		// A replica was assigned to it meanwhile.
		return fail(kerr.InvalidRequest, unregisterRefusal(req.BrokerID, hostedPartitions(b.image(), req.BrokerID)))
	default:
		resp.ErrorCode = errorCode(err)
		resp.ErrorMessage = errMessage(err)
	}
	return resp, nil
}

// hostedPartitions lists "topic-partition" for each replica broker id
// holds, sorted.
func hostedPartitions(img *metadata.Image, id int32) []string {
	var out []string
	for _, t := range img.Topics {
		for _, p := range t.Partitions {
			if slices.Contains(p.Replicas, id) {
				out = append(out, fmt.Sprintf("%s-%d", t.Name, p.Index))
			}
		}
	}
	sort.Strings(out)
	return out
}

func unregisterRefusal(id int32, hosted []string) string {
	const show = 5
	list := fmt.Sprint(hosted)
	if len(hosted) > show {
		list = fmt.Sprintf("%v and %d more", hosted[:show], len(hosted)-show)
	}
	return fmt.Sprintf("Broker %d still hosts %d replica(s) (%s); reassign them to other brokers before unregistering it.", id, len(hosted), list)
}
