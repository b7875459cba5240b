// Package protocol holds Kafka Connect's group protocol: the binary
// metadata and assignment codecs of the "connect" protocol type, the
// assignors that the group leader runs, and Member, the group-membership
// loop of a distributed worker.
//
// # Wire format
//
// Byte-compatible with Apache Kafka Connect (ConnectProtocol and
// IncrementalCooperativeConnectProtocol), in Kafka's protocol primitives
// (big-endian integers, STRING = int16 length + UTF-8, arrays = int32
// count, NULLABLE_BYTES = int32 length or -1):
//
//	Metadata   = version:int16 url:STRING config-offset:int64
//	             [allocation:NULLABLE_BYTES]         (versions 1 and 2)
//	Assignment = version:int16 error:int16 leader:STRING leader-url:STRING
//	             config-offset:int64 assignment:[connector:STRING tasks:[int32]]
//	             [revoked:[connector:STRING tasks:[int32]] delay:int32] (v1+)
//
// A task number of -1 stands for the connector itself. The allocation of
// a v1/v2 metadata is the member's current assignment encoded as an
// Assignment (null when it has none). Subprotocols: "default" (version
// 0, eager), "compatible" (1, incremental cooperative) and "sessioned"
// (2, incremental cooperative with session keys for internal REST).
// Decoders accept any version >= 0 and missing trailing fields, as Java
// does, and allocate only in proportion to the bytes present.
//
// Member sends JoinGroup, SyncGroup, Heartbeat and LeaveGroup through
// kgo's Client.Request, which finds the group coordinator with
// FindCoordinator, caches it, and forgets it and retries on
// NOT_COORDINATOR / COORDINATOR_NOT_AVAILABLE; Member itself rejoins on
// REBALANCE_IN_PROGRESS, retries JoinGroup with the id MEMBER_ID_REQUIRED
// hands out, and starts over with no id on UNKNOWN_MEMBER_ID or
// ILLEGAL_GENERATION.
//
// # Concurrency
//
// The codecs and Assignor are plain functions and values: an Assignor is
// used by one goroutine at a time and reads no clock (the caller passes
// now). Member runs one goroutine, the caller's, inside Run(ctx); its
// accessors (Generation, IsLeader, LeaderURL) and Rejoin are safe from
// any goroutine; its Callbacks are invoked from Run's goroutine.
package protocol
