package replication

import (
	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/samsa-streaming/samsa/internal/errcode"
)

// replicaErrorCode is the leader's answer for err (internal/errcode, the
// one table shared with every broker handler).
func replicaErrorCode(err error) int16 { return errcode.Code(err) }

// CheckLeaderEpoch compares the leader epoch a client (consumer or
// follower) knows with this replica's (KIP-320): an older one is
// FENCED_LEADER_EPOCH, a newer one UNKNOWN_LEADER_EPOCH (retriable: this
// broker has not seen the newest metadata yet), -1 is not checked.
func CheckLeaderEpoch(client, ours int32) int16 {
	switch {
	case client < 0:
		return 0
	case client < ours:
		return kerr.FencedLeaderEpoch.Code
	case client > ours:
		return kerr.UnknownLeaderEpoch.Code
	}
	return 0
}
