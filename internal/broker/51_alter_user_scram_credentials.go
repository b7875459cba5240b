package broker

import (
	"context"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/samsa-streaming/samsa/internal/acl"
	"github.com/samsa-streaming/samsa/internal/metadata"
	"github.com/samsa-streaming/samsa/internal/sasl"
)

// AlterUserScramCredentials, version 0.
//
// Version notes:
//   - v0: flexible (KIP-554); upsertions carry the salted password, never
//     the password
//
// Alter on the cluster is required (CLUSTER_AUTHORIZATION_FAILED for every
// user). Per user, as Kafka's ScramControlManager: an unknown mechanism
// answers UNSUPPORTED_SASL_MECHANISM; an empty name, iterations outside
// 4096-16384 or an empty salt UNACCEPTABLE_CREDENTIAL; deleting a
// credential that does not exist RESOURCE_NOT_FOUND; the same user and
// mechanism twice DUPLICATE_RESOURCE. Each change is an UpsertScram or
// RemoveScram record in the metadata log.
func init() {
	register(int16(kmsg.AlterUserSCRAMCredentials), 0, 0, (*Broker).handleAlterUserScramCredentials)
}

// scramChange is one deletion or upsertion.
type scramChange struct {
	user string
	mech int8
	up   *kmsg.AlterUserSCRAMCredentialsRequestUpsertion
}

func (b *Broker) handleAlterUserScramCredentials(ctx context.Context, c *conn, r *request) (kmsg.Response, error) {
	req := r.req.(*kmsg.AlterUserSCRAMCredentialsRequest)
	resp := req.ResponseKind().(*kmsg.AlterUserSCRAMCredentialsResponse)
	var changes []scramChange
	for _, d := range req.Deletions {
		changes = append(changes, scramChange{user: d.Name, mech: d.Mechanism})
	}
	for i := range req.Upsertions {
		u := &req.Upsertions[i]
		changes = append(changes, scramChange{user: u.Name, mech: u.Mechanism, up: u})
	}
	seen := map[[2]string]int{}
	for _, ch := range changes {
		seen[[2]string{ch.user, scramMechanisms[ch.mech]}]++
	}
	allowed := c.canCluster(acl.OpAlter)
	errs := map[string]*kmsg.AlterUserSCRAMCredentialsResponseResult{}
	var order []string
	for _, ch := range changes {
		res, ok := errs[ch.user]
		if !ok {
			r := kmsg.NewAlterUserSCRAMCredentialsResponseResult()
			r.User = ch.user
			res, errs[ch.user] = &r, &r
			order = append(order, ch.user)
		}
		if res.ErrorCode != 0 {
			continue
		}
		code, msg := b.alterScram(ctx, ch, allowed, seen[[2]string{ch.user, scramMechanisms[ch.mech]}] > 1)
		if code != nil {
			res.ErrorCode, res.ErrorMessage = code.Code, kmsg.StringPtr(msg)
		}
	}
	for _, u := range order {
		resp.Results = append(resp.Results, *errs[u])
	}
	return resp, nil
}

// alterScram validates and applies one change; it returns the error to
// answer, or nil.
func (b *Broker) alterScram(ctx context.Context, ch scramChange, allowed, dup bool) (*kerr.Error, string) {
	mech, known := scramMechanisms[ch.mech]
	switch {
	case !allowed:
		return kerr.ClusterAuthorizationFailed, ""
	case ch.user == "":
		return kerr.UnacceptableCredential, "Username must not be empty"
	case !known:
		return kerr.UnsupportedSaslMechanism, "Unknown SCRAM mechanism"
	case dup:
		return kerr.DuplicateResource, "A user credential cannot be altered twice in the same request"
	}
	if ch.up == nil {
		if _, ok := b.image().Scram[ch.user][mech]; !ok {
			return kerr.ResourceNotFound, "Attempt to delete a user credential that does not exist"
		}
		if _, err := b.ctl.Propose(ctx, metadata.RemoveScram{User: ch.user, Mechanism: mech}); err != nil {
			return kerr.UnknownServerError, err.Error()
		}
		return nil, ""
	}
	u := ch.up
	switch {
	case u.Iterations < metadata.ScramMinIterations || u.Iterations > metadata.ScramMaxIterations:
		return kerr.UnacceptableCredential, "Iterations must be between 4096 and 16384"
	case len(u.Salt) == 0 || len(u.SaltedPassword) == 0:
		return kerr.UnacceptableCredential, "Salt and salted password must not be empty"
	}
	cred, err := sasl.ScramCredentialFromSalted(mech, u.Salt, u.SaltedPassword, u.Iterations)
	if err != nil {
		return kerr.UnacceptableCredential, err.Error()
	}
	rec := metadata.UpsertScram{User: ch.user, Mechanism: mech, ScramCredential: metadata.ScramCredential{
		Salt: cred.Salt, StoredKey: cred.StoredKey, ServerKey: cred.ServerKey, Iterations: cred.Iterations,
	}}
	if _, err := b.ctl.Propose(ctx, rec); err != nil {
		return kerr.UnknownServerError, err.Error()
	}
	return nil, ""
}
