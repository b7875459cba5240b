package controller

// A metadata-log write failure (a WAL write or fsync, a snapshot or WAL
// rewrite) stops the raft loop for good: the log's tail is unknown, so this
// node can neither vote nor apply. Kafka halts the process then (its raft
// client's fatal fault handler, Exit.halt); the controller reports it
// through Done and Err, and internal/node, which owns the process, stops
// the node and makes `samsa serve` exit non-zero.

// Done is closed once the raft loop has stopped: after Close, or on its own
// after a fatal metadata-log error (Err is then non-nil).
func (c *Controller) Done() <-chan struct{} { return c.donec }

// Err is nil while the raft loop runs and after a plain Close; once the
// loop died of an error it is that error (wrapping ErrClosed and the I/O
// error, which names the file).
func (c *Controller) Err() error {
	select {
	case <-c.donec:
	default:
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stopErr == ErrClosed {
		return nil
	}
	return c.stopErr
}
