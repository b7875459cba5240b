package group

// EachCommitted is the read-only view the consumer-lag metrics take of
// committed offsets: it calls fn for every committed offset of every group
// whose __consumer_offsets partition this broker leads and has loaded, so
// that across a cluster each group is reported once, by its coordinator.
// It walks one shard at a time under that shard's lock; fn must be quick
// and must not call the coordinator. Transactional offsets not yet
// committed are not included.
func (c *Coordinator) EachCommitted(fn func(group, topic string, partition int32, offset int64)) {
	for _, s := range c.allShards() {
		s.mu.Lock()
		if s.state == shardActive {
			for _, g := range s.groups {
				for tp, cm := range g.offsets {
					fn(g.id, tp.topic, tp.partition, cm.offset)
				}
			}
		}
		s.mu.Unlock()
	}
}

// EachGroup calls fn for every live group whose __consumer_offsets
// partition this broker leads and has loaded, with its member count (the
// consumergroup members metric); the same locking rules as EachCommitted.
func (c *Coordinator) EachGroup(fn func(group string, members int)) {
	for _, s := range c.allShards() {
		s.mu.Lock()
		if s.state == shardActive {
			for _, g := range s.groups {
				if g.stateName() == "Dead" {
					continue
				}
				n := 0
				switch {
				case g.classic != nil:
					n = len(g.classic.members)
				case g.consumer != nil:
					n = len(g.consumer.members)
				}
				fn(g.id, n)
			}
		}
		s.mu.Unlock()
	}
}

// GroupType reports whether a live group named id exists on this
// coordinator and its type ("classic" or "consumer"), so that share groups
// (internal/share) can refuse the id as Kafka does. code is the error a
// request for the group would get here (NOT_COORDINATOR,
// COORDINATOR_LOAD_IN_PROGRESS, …), 0 when this broker is its
// coordinator.
func (c *Coordinator) GroupType(id string) (typ string, exists bool, code int16) {
	s, code := c.lockShard(id)
	if code != 0 {
		return "", false, code
	}
	defer s.mu.Unlock()
	g := s.groups[id]
	if g == nil || g.stateName() == "Dead" {
		return "", false, 0
	}
	return g.typ.String(), true, 0
}
