package quota

import "errors"

// Sentinel errors; the broker maps them to Kafka codes (internal/errcode).
var (
	// ErrInvalidRequest is INVALID_REQUEST: a bad entity, key, value or
	// filter in AlterClientQuotas or DescribeClientQuotas.
	ErrInvalidRequest = errors.New("quota: invalid request")
	// ErrUnsupportedEntityType is UNSUPPORTED_VERSION: a DescribeClientQuotas
	// filter on an entity type Kafka does not know.
	ErrUnsupportedEntityType = errors.New("quota: unsupported entity type")
)

// Error is a refusal with Kafka's own message (the response's
// ErrorMessage); Err is one of the sentinels above.
type Error struct {
	Err     error
	Message string
}

func (e *Error) Error() string { return e.Err.Error() + ": " + e.Message }

// Unwrap returns the sentinel.
func (e *Error) Unwrap() error { return e.Err }

func invalid(msg string) error { return &Error{Err: ErrInvalidRequest, Message: msg} }
