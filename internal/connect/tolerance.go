package connect

import (
	"strings"
	"time"
)

// tolerance is a connector's error handling (errors.* settings).
type tolerance struct {
	all            bool          // errors.tolerance=all
	retryTimeout   time.Duration // errors.retry.timeout (<0: forever)
	retryMaxDelay  time.Duration // errors.retry.delay.max.ms
	log            bool          // errors.log.enable
	dlqTopic       string        // errors.deadletterqueue.topic.name
	dlqRF          int16         // errors.deadletterqueue.topic.replication.factor
	contextHeaders bool          // errors.deadletterqueue.context.headers.enable
}

func newTolerance(props map[string]string) tolerance {
	t := tolerance{
		all:            strings.EqualFold(strings.TrimSpace(props["errors.tolerance"]), "all"),
		retryTimeout:   time.Duration(intProp(props, "errors.retry.timeout", 0)) * time.Millisecond,
		retryMaxDelay:  time.Duration(intProp(props, "errors.retry.delay.max.ms", 60000)) * time.Millisecond,
		log:            props["errors.log.enable"] == "true",
		dlqTopic:       strings.TrimSpace(props["errors.deadletterqueue.topic.name"]),
		dlqRF:          int16(intProp(props, "errors.deadletterqueue.topic.replication.factor", 3)),
		contextHeaders: props["errors.deadletterqueue.context.headers.enable"] == "true",
	}
	if intProp(props, "errors.retry.timeout", 0) < 0 {
		t.retryTimeout = -1
	}
	return t
}
