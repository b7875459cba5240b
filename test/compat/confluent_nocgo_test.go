//go:build !cgo

package compat

import (
	"errors"
	"testing"
)

// TestConfluentKafkaGo needs cgo for librdkafka.
func TestConfluentKafkaGo(t *testing.T) {
	requireTool(t, "confluent-kafka-go", errors.New("built without cgo"), "CGO_ENABLED=1 and a C compiler")
}
