package broker

import (
	"context"
	"sort"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/samsa-streaming/samsa/internal/acl"
	"github.com/samsa-streaming/samsa/internal/metadata"
)

// DescribeUserScramCredentials, version 0.
//
// Version notes:
//   - v0: flexible (KIP-554)
//
// Describe on the cluster is required (CLUSTER_AUTHORIZATION_FAILED).
// Users nil or empty lists every user with credentials; a named user
// without any answers RESOURCE_NOT_FOUND, a user named twice
// DUPLICATE_RESOURCE, as Kafka does. Salts and keys are never returned.
func init() {
	register(int16(kmsg.DescribeUserSCRAMCredentials), 0, 0, (*Broker).handleDescribeUserScramCredentials)
}

// scramMechanisms are KIP-554's mechanism codes.
var scramMechanisms = map[int8]string{1: metadata.ScramSHA256, 2: metadata.ScramSHA512}

func scramMechanismCode(name string) int8 {
	for code, n := range scramMechanisms {
		if n == name {
			return code
		}
	}
	return 0
}

func (b *Broker) handleDescribeUserScramCredentials(_ context.Context, c *conn, r *request) (kmsg.Response, error) {
	req := r.req.(*kmsg.DescribeUserSCRAMCredentialsRequest)
	resp := req.ResponseKind().(*kmsg.DescribeUserSCRAMCredentialsResponse)
	if !c.canCluster(acl.OpDescribe) {
		resp.ErrorCode = kerr.ClusterAuthorizationFailed.Code
		return resp, nil
	}
	img := b.image()
	var users []string
	if len(req.Users) == 0 {
		for u := range img.Scram {
			users = append(users, u)
		}
		sort.Strings(users)
	}
	count := map[string]int{}
	for _, u := range req.Users {
		count[u.Name]++
		if count[u.Name] == 1 {
			users = append(users, u.Name)
		}
	}
	for _, u := range users {
		res := kmsg.NewDescribeUserSCRAMCredentialsResponseResult()
		res.User = u
		creds := img.Scram[u]
		switch {
		case count[u] > 1:
			res.ErrorCode, res.ErrorMessage = kerr.DuplicateResource.Code, kmsg.StringPtr("Cannot describe SCRAM credentials for the same user twice in a single request: "+u)
		case len(creds) == 0:
			res.ErrorCode, res.ErrorMessage = kerr.ResourceNotFound.Code, kmsg.StringPtr("Attempt to describe a user credential that does not exist: "+u)
		}
		if res.ErrorCode == 0 {
			for _, mech := range []string{metadata.ScramSHA256, metadata.ScramSHA512} {
				if cr, ok := creds[mech]; ok {
					ci := kmsg.NewDescribeUserSCRAMCredentialsResponseResultCredentialInfo()
					ci.Mechanism, ci.Iterations = scramMechanismCode(mech), cr.Iterations
					res.CredentialInfos = append(res.CredentialInfos, ci)
				}
			}
		}
		resp.Results = append(resp.Results, res)
	}
	return resp, nil
}
