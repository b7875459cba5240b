package broker

import (
	"github.com/samsa-streaming/samsa/internal/errcode"
)

// errorCode is err's Kafka error code (internal/errcode, the one table
// shared with the leader side of replication).
func errorCode(err error) int16 { return errcode.Code(err) }

// errMessage is the message sent with an error code, where the protocol has
// a field for one.
func errMessage(err error) *string {
	if err == nil {
		return nil
	}
	s := err.Error()
	return &s
}
