package coordinator

// Topics tells a coordinator which topic-partitions exist in the current
// image (group.Topics, for offset commits).
type Topics struct{ Images Images }

// PartitionExists reports whether topic has partition p.
func (t Topics) PartitionExists(topic string, p int32) bool {
	tp, ok := t.Images.Image().Topics[topic]
	return ok && p >= 0 && int(p) < len(tp.Partitions)
}
