package batch

// Batches as the log stores them after compaction.
//
// Log compaction (internal/log's cleaner) removes records from a batch but
// keeps its base offset and its last offset delta, so that offsets never
// move and a producer's last sequence number survives. A compacted batch
// can therefore hold fewer records than LastOffsetDelta+1, and may even be
// an empty, header-only batch (NumRecords 0) kept for an idempotent
// producer's sequence state. Validate, which checks what clients send,
// rejects both; ValidateStored accepts them.

// ValidateStored checks that b is exactly one well-formed v2 batch as the
// log may hold it: header present, length consistent with len(b), magic 2,
// CRC correct, a known codec, NumRecords >= 0, LastOffsetDelta >= 0 and
// LastOffsetDelta >= NumRecords-1 (compaction leaves gaps). It does not
// decode the records. It returns the header.
func ValidateStored(b []byte) (Header, error) {
	h, err := ParseHeader(b)
	if err != nil {
		return h, err
	}
	if h.Magic != 2 {
		return h, ErrMagic
	}
	if h.Length < HeaderSize-LogOverhead || int64(h.Length)+LogOverhead != int64(len(b)) {
		return h, ErrLength
	}
	if err := CheckCRC(b); err != nil {
		return h, err
	}
	if h.Codec() > CodecZstd {
		return h, ErrCodec
	}
	if h.NumRecords < 0 || h.LastOffsetDelta < 0 || int64(h.LastOffsetDelta) < int64(h.NumRecords)-1 {
		return h, ErrRecordCount
	}
	return h, nil
}

// DeleteHorizon returns the batch's delete horizon (KIP-534): when the
// DeleteHorizonBit attribute is set, the base timestamp holds the time
// after which the cleaner may remove the batch's tombstones.
func (h *Header) DeleteHorizon() (int64, bool) {
	if h.Attributes&DeleteHorizonBit == 0 {
		return -1, false
	}
	return h.BaseTimestamp, true
}
