//go:build !cgo

package compat

import (
	"context"
	"errors"
)

// confluentChurnUnavailable reports why confluent-kafka-go cannot run.
func confluentChurnUnavailable() error { return errors.New("built without cgo") }

func confluentChurnMember(context.Context, *churnEmitter, string, string, string, string) error {
	return confluentChurnUnavailable()
}
