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
