package broker

import (
	"context"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/samsa-streaming/samsa/internal/acl"
	"github.com/samsa-streaming/samsa/internal/metadata"
)

// AlterClientQuotas, versions 0-1.
//
// Version notes:
//   - v1: flexible versions
//
// AlterConfigs on the cluster is required (CLUSTER_AUTHORIZATION_FAILED
// for every entry). Entries are validated as Kafka's
// ClientQuotaControlManager validates them (internal/quota Store.Alter);
// each valid entry's operations become ClientQuota records in the metadata
// log, unless ValidateOnly.
func init() { register(int16(kmsg.AlterClientQuotas), 0, 1, (*Broker).handleAlterClientQuotas) }

func (b *Broker) handleAlterClientQuotas(ctx context.Context, c *conn, r *request) (kmsg.Response, error) {
	req := r.req.(*kmsg.AlterClientQuotasRequest)
	resp := req.ResponseKind().(*kmsg.AlterClientQuotasResponse)
	allowed := c.canCluster(acl.OpAlterConfigs)
	_, results := b.quotaManager().Store().Alter(req.Entries)
	for i, e := range req.Entries {
		re := kmsg.NewAlterClientQuotasResponseEntry()
		for _, ce := range e.Entity {
			we := kmsg.NewAlterClientQuotasResponseEntryEntity()
			we.Type, we.Name = ce.Type, ce.Name
			re.Entity = append(re.Entity, we)
		}
		switch {
		case !allowed:
			re.ErrorCode = kerr.ClusterAuthorizationFailed.Code
		case results[i] != nil:
			re.ErrorCode, re.ErrorMessage = quotaErrorCode(results[i]), kmsg.StringPtr(quotaMessage(results[i]))
		case !req.ValidateOnly:
			if err := b.proposeQuotaEntry(ctx, e); err != nil {
				re.ErrorCode, re.ErrorMessage = errorCode(err), kmsg.StringPtr(err.Error())
			}
		}
		resp.Entries = append(resp.Entries, re)
	}
	return resp, nil
}

// proposeQuotaEntry writes one entry's operations as ClientQuota records.
func (b *Broker) proposeQuotaEntry(ctx context.Context, e kmsg.AlterClientQuotasRequestEntry) error {
	entity := make([]metadata.QuotaEntity, 0, len(e.Entity))
	for _, ce := range e.Entity {
		entity = append(entity, metadata.QuotaEntity{Type: ce.Type, Name: ce.Name})
	}
	for _, op := range e.Ops {
		rec := metadata.ClientQuota{Entity: entity, Key: op.Key, Value: op.Value, Remove: op.Remove}
		if op.Remove {
			if _, set := b.image().Quotas[metadata.QuotaEntityKey(entity)].Values[op.Key]; !set {
				continue // removing an unset key is no error (Kafka)
			}
			rec.Value = 0
		}
		if _, err := b.ctl.Propose(ctx, rec); err != nil {
			return err
		}
	}
	return nil
}
