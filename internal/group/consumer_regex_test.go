package group

import (
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// A subscription regex is matched against every topic name of the image,
// internal topics included, and against the whole name, as Kafka's
// GroupMetadataManager.refreshRegularExpressions does
// (regex.matcher(topicName).matches() over image.topics().topicsByName()).
// franz-go's Test848RegexBrokerResolves sends exactly this kind of regex:
// its patterns wrapped in .*(?:…).* and expects the internal topic it names
// assigned.
func TestConsumerRegexResolvesInternalTopics(t *testing.T) {
	img := newFakeImage("__consumer_offsets", 3, "p-orders", 1, "p-orders-v2", 1, "other", 1)
	h := newHarness(t, img)

	wrapped := h.newClient("A")
	wrapped.regex = kmsg.StringPtr(".*(?:(?:__consumer_offsets)|(?:p-orders)).*")
	wrapped.mustHeartbeat()
	if got := wrapped.owned.Count(); got != 5 || len(wrapped.owned[tid("__consumer_offsets")]) != 3 ||
		len(wrapped.owned[tid("p-orders")]) != 1 || len(wrapped.owned[tid("p-orders-v2")]) != 1 {
		t.Fatalf("wrapped regex assigned %v, want __consumer_offsets 0-2, p-orders 0 and p-orders-v2 0", wrapped.owned)
	}

	// A bare name matches only the whole name.
	h2 := newHarness(t, img)
	bare := h2.newClient("B")
	bare.regex = kmsg.StringPtr("p-orders|__.*")
	bare.mustHeartbeat()
	if got := bare.owned.Count(); got != 4 || len(bare.owned[tid("p-orders-v2")]) != 0 {
		t.Fatalf("bare regex assigned %v, want __consumer_offsets 0-2 and p-orders 0", bare.owned)
	}
}
