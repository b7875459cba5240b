package broker

import (
	"context"
	"slices"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// SaslHandshake, versions 0-1.
//
// Version notes:
//   - v0: the SASL tokens that follow are sent as size-prefixed frames
//     without request headers (GSSAPI-era clients)
//   - v1: the tokens travel in SaslAuthenticate requests (KIP-152)
//
// On a listener without SASL it answers ILLEGAL_SASL_STATE, as Kafka's
// KafkaApis does; a mechanism that is not enabled answers
// UNSUPPORTED_SASL_MECHANISM with the enabled ones. A handshake after
// authenticating starts a re-authentication (KIP-368, v1 only).
func init() { register(int16(kmsg.SASLHandshake), 0, 1, (*Broker).handleSaslHandshake) }

func (b *Broker) handleSaslHandshake(_ context.Context, c *conn, r *request) (kmsg.Response, error) {
	req := r.req.(*kmsg.SASLHandshakeRequest)
	resp := req.ResponseKind().(*kmsg.SASLHandshakeResponse)
	if c.l.SASL == nil || c.sasl.ex != nil || c.sasl.done && req.Version == 0 {
		resp.ErrorCode = kerr.IllegalSaslState.Code
		return resp, nil
	}
	resp.SupportedMechanisms = c.l.SASL.Mechanisms()
	if !slices.Contains(resp.SupportedMechanisms, req.Mechanism) {
		resp.ErrorCode = kerr.UnsupportedSaslMechanism.Code
		return resp, nil
	}
	if c.sasl.done && req.Mechanism != c.sasl.mechanism {
		// Kafka: a re-authentication must use the same mechanism.
		resp.ErrorCode = kerr.IllegalSaslState.Code
		return resp, nil
	}
	ex, err := c.l.SASL.Start(req.Mechanism)
	if err != nil {
		resp.ErrorCode = kerr.UnsupportedSaslMechanism.Code
		return resp, nil
	}
	c.sasl.mechanism, c.sasl.ex, c.sasl.raw = req.Mechanism, ex, req.Version == 0
	return resp, nil
}
