package httpserve

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// groupKey keys a group's answer among the topics' (no topic name holds
// a NUL).
func groupKey(group string) string { return "\x00group:" + group }

// GroupAllows says whether the broker lets the session's user do op on
// the consumer group named group, by the user's own DescribeGroups
// request with the group's authorized operations (KIP-430). A user
// without DESCRIBE on the group is refused whatever op is; an answer that
// allows op is kept for the TTL, a refusal is asked again (a new ACL
// applies at once).
func (a *BasicAuth) GroupAllows(ctx context.Context, s *Session, group string, op int) (bool, error) {
	key := groupKey(group)
	s.mu.Lock()
	p, ok := s.perms[key]
	s.mu.Unlock()
	if ok && time.Since(p.when) <= a.cfg.TTL && p.ops&(1<<op) != 0 {
		return true, nil
	}
	req := kmsg.NewPtrDescribeGroupsRequest()
	req.Groups = []string{group}
	req.IncludeAuthorizedOperations = true
	resp, err := req.RequestWith(ctx, s.client)
	if errors.Is(err, kerr.GroupAuthorizationFailed) {
		return false, nil // no DESCRIBE on the group: no right on it
	}
	if err != nil {
		return false, fmt.Errorf("asking Kafka what %s may do on group %s: %w", s.User, group, err)
	}
	p = permAnswer{when: time.Now()}
	for _, g := range resp.Groups {
		if g.ErrorCode == 0 && g.AuthorizedOperations > 0 {
			p.ops = g.AuthorizedOperations
		}
	}
	if p.ops&(1<<op) == 0 {
		return false, nil
	}
	s.mu.Lock()
	s.perms[key] = p
	s.mu.Unlock()
	return true, nil
}
