package broker

import (
	"context"
	"sort"
	"strings"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/samsa-streaming/samsa/internal/acl"
	"github.com/samsa-streaming/samsa/internal/config"
)

// IncrementalAlterConfigs, versions 0-1 (KIP-339).
//
// Version notes:
//   - v1: flexible versions
func init() {
	register(int16(kmsg.IncrementalAlterConfigs), 0, 1, (*Broker).handleIncrementalAlterConfigs)
}

func (b *Broker) handleIncrementalAlterConfigs(ctx context.Context, c *conn, r *request) (kmsg.Response, error) {
	req := r.req.(*kmsg.IncrementalAlterConfigsRequest)
	resp := req.ResponseKind().(*kmsg.IncrementalAlterConfigsResponse)

	dups := duplicateResources(len(req.Resources), func(i int) configResource {
		return configResource{req.Resources[i].ResourceType, req.Resources[i].ResourceName}
	})
	changed := false
	for i := range req.Resources {
		rr := &req.Resources[i]
		rs := kmsg.NewIncrementalAlterConfigsResponseResource()
		rs.ResourceType, rs.ResourceName = rr.ResourceType, rr.ResourceName
		var err error
		switch dups[configResource{rr.ResourceType, rr.ResourceName}] {
		case -1:
			continue // answered at its first occurrence
		case 2:
			err = newTopicError(kerr.InvalidRequest, "Each resource must appear at most once.")
			dups[configResource{rr.ResourceType, rr.ResourceName}] = -1
		default:
			if err = c.configResourceAllowed(acl.OpAlterConfigs, rr.ResourceType, rr.ResourceName); err != nil {
				break
			}
			var did bool
			did, err = b.incrementalAlterResource(ctx, rr, req.ValidateOnly)
			changed = changed || did
		}
		if err != nil {
			rs.ErrorCode = errorCode(err)
			rs.ErrorMessage = errMessage(err)
		}
		resp.Resources = append(resp.Resources, rs)
	}
	if changed {
		b.syncPartitions(ctx)
	}
	return resp, nil
}

func (b *Broker) incrementalAlterResource(ctx context.Context, rr *kmsg.IncrementalAlterConfigsRequestResource, validateOnly bool) (bool, error) {
	tg, err := resolveConfigTarget(b, b.image(), rr.ResourceType, rr.ResourceName)
	if err != nil {
		return false, err
	}
	// Request-shape errors first, as Kafka's ConfigAdminManager.preprocess
	// checks them: repeated keys, null values for anything but DELETE.
	seen := map[string]int{}
	var nulls []string
	for _, c := range rr.Configs {
		seen[c.Name]++
		if c.Op != kmsg.IncrementalAlterConfigOpDelete && c.Value == nil {
			nulls = append(nulls, c.Name)
		}
	}
	var repeated []string
	for k, n := range seen {
		if n > 1 {
			repeated = append(repeated, k)
		}
	}
	if len(repeated) > 0 {
		sort.Strings(repeated)
		return false, newTopicError(kerr.InvalidRequest, "Error due to duplicate config keys : %s", strings.Join(repeated, ","))
	}
	if len(nulls) > 0 {
		return false, newTopicError(kerr.InvalidRequest, "Null value not supported for : %s", strings.Join(nulls, ", "))
	}

	next := cloneConfigs(tg.current)
	for _, c := range rr.Configs {
		switch c.Op {
		case kmsg.IncrementalAlterConfigOpSet:
			next[c.Name] = *c.Value
		case kmsg.IncrementalAlterConfigOpDelete:
			delete(next, c.Name)
		case kmsg.IncrementalAlterConfigOpAppend, kmsg.IncrementalAlterConfigOpSubtract:
			d, err := tg.def(c.Name)
			if err != nil {
				return false, err
			}
			if d.Type != config.TypeList {
				if tg.topic != nil {
					return false, newTopicError(kerr.InvalidConfig, "Can't %s to key %s because its type is not LIST.", opName(c.Op), c.Name)
				}
				verb := "append"
				if c.Op == kmsg.IncrementalAlterConfigOpSubtract {
					verb = "subtract"
				}
				return false, newTopicError(kerr.InvalidRequest, "Config value %s is not allowed for config key: %s", verb, c.Name)
			}
			base, ok := next[c.Name]
			if !ok {
				base = tg.baseValue(b, c.Name)
			}
			next[c.Name] = listOp(base, *c.Value, c.Op == kmsg.IncrementalAlterConfigOpAppend)
		default:
			return false, newTopicError(kerr.InvalidRequest, "Unknown operations type %d", c.Op)
		}
	}
	return tg.apply(ctx, b, next, validateOnly)
}

func opName(op kmsg.IncrementalAlterConfigOp) string {
	if op == kmsg.IncrementalAlterConfigOpSubtract {
		return "SUBTRACT"
	}
	return "APPEND"
}
