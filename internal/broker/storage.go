package broker

import "github.com/samsa-streaming/samsa/internal/metadata"

// offline is the error of a partition this broker hosts whose log
// directory failed (partition.ErrOffline, mapped to KAFKA_STORAGE_ERROR),
// else nil. Handlers check it before leadership, as Kafka's
// ReplicaManager.getPartitionOrError answers HostedPartition.Offline
// before looking at the leader.
func (b *Broker) offline(topic string, part int32) error {
	if p, ok := b.parts.Get(topic, part); ok {
		return p.Offline()
	}
	return nil
}

// replicaOffline reports whether replica r is offline, as Kafka's KRaft
// metadata cache reports it (isReplicaOffline): its broker is unknown or
// fenced, or its log directory is offline. This broker knows the last of
// itself before the controller has fenced it.
// offlineIn is replicaOffline for one partition: this broker's replica is
// also offline when its partition could not be opened here
// (partition.Manager.Offline), while the rest of the log directory works.
func (b *Broker) offlineIn(topic string, idx int32) func(*metadata.Image, int32) bool {
	return func(img *metadata.Image, r int32) bool {
		if b.replicaOffline(img, r) {
			return true
		}
		return r == b.cfg.NodeID && b.parts.Offline(topic, idx) != nil
	}
}

func (b *Broker) replicaOffline(img *metadata.Image, r int32) bool {
	if br, ok := img.Brokers[r]; !ok || br.Fenced {
		return true
	}
	return r == b.cfg.NodeID && b.parts.LogDirOffline() != nil
}
