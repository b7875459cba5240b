package broker

import (
	"slices"
	"testing"

	"github.com/samsa-streaming/samsa/internal/metadata"
)

// The names a KIP-848 regex is matched against include the internal
// topics, as Kafka's refreshRegularExpressions scans every topic name.
func TestImageTopicNamesIncludeInternal(t *testing.T) {
	img := &metadata.Image{Topics: map[string]*metadata.Topic{}}
	for _, n := range []string{"orders", "__consumer_offsets", "__transaction_state"} {
		img.Topics[n] = &metadata.Topic{Name: n}
	}
	got := newImageTopics(img).TopicNames()
	want := []string{"__consumer_offsets", "__transaction_state", "orders"}
	if !slices.Equal(got, want) {
		t.Fatalf("TopicNames = %v, want %v", got, want)
	}
}
