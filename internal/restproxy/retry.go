package restproxy

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
)

// Kafka's transient errors (LEADER_NOT_AVAILABLE while a topic is being
// created or a leader elected, NOT_COORDINATOR, ...) are retried inside
// the proxy for a short while before they are answered, so that a client
// sees the answer it would get a moment later rather than a 5xx.

// transientRetryFor bounds how long one call is retried.
const transientRetryFor = 5 * time.Second

// transientBackoff is the first pause between two attempts (doubled up to
// transientBackoffMax).
const (
	transientBackoff    = 20 * time.Millisecond
	transientBackoffMax = 400 * time.Millisecond
)

// retryingKey marks a context whose handler is already retried as a
// whole (retryGET), so that the calls inside it are tried once.
type retryingKey struct{}

// transient says err is a retriable Kafka error worth waiting out. An
// unknown topic or partition is not: it is answered (404) at once.
func transient(err error) bool {
	var ke *kerr.Error
	if !errors.As(err, &ke) || !ke.Retriable {
		return false
	}
	return ke != kerr.UnknownTopicOrPartition && ke != kerr.UnknownTopicID
}

// retryTransient calls f until it returns something else than a transient
// error, for up to transientRetryFor (or ctx's end).
func retryTransient(ctx context.Context, f func() error) error {
	if ctx.Value(retryingKey{}) != nil {
		return f()
	}
	deadline := time.Now().Add(transientRetryFor)
	backoff := transientBackoff
	for {
		err := f()
		if err == nil || !transient(err) || time.Now().Add(backoff).After(deadline) {
			return err
		}
		t := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			t.Stop()
			return err
		case <-t.C:
		}
		backoff = min(2*backoff, transientBackoffMax)
	}
}

// retryGET runs a handler; a GET (which answers nothing when it fails, and
// changes nothing) is run again while it fails with a transient error.
// Handlers of other methods retry their idempotent Kafka calls themselves.
func retryGET(r *http.Request, h func(*http.Request) error) error {
	if r.Method != http.MethodGet {
		return h(r)
	}
	ctx := r.Context()
	inner := r.WithContext(context.WithValue(ctx, retryingKey{}, true))
	return retryTransient(ctx, func() error { return h(inner) })
}
