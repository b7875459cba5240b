package connect

// SourcePartitionOffset is one source partition and the offset a user
// asked to set for it through PATCH /connectors/{c}/offsets (Offset nil
// means reset, as a JSON null does).
type SourcePartitionOffset struct {
	Partition map[string]any
	Offset    map[string]any
}

// SourceOffsetAlterer is implemented by source connectors that check or
// apply offset changes (Java's SourceConnector.alterOffsets). It is
// called with the connector's configuration before the runtime writes
// the new offsets; an error rejects the request (400). Returning true
// says the connector knows the offsets are now correct, and the REST
// answer says so; false, or not implementing the interface, is Java's
// default ("framework-managed offsets ... have been altered").
type SourceOffsetAlterer interface {
	AlterSourceOffsets(props map[string]string, offsets []SourcePartitionOffset) (bool, error)
}

// SinkOffsetAlterer is the sink side (Java's SinkConnector.alterOffsets):
// offsets maps each partition to its new next offset, nil to reset it.
type SinkOffsetAlterer interface {
	AlterSinkOffsets(props map[string]string, offsets map[TopicPartition]*int64) (bool, error)
}
