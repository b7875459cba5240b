package compat

import (
	"fmt"
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"
)

// franz-go's default key partitioner is Java-compatible; agreeing with it on
// many keys guards the partition checks of the whole matrix.
func TestKeyPartitionMatchesFranzGo(t *testing.T) {
	p := kgo.StickyKeyPartitioner(nil).ForTopic("t")
	for i := 0; i < 1000; i++ {
		key := fmt.Sprintf("key-%d", i)
		r := &kgo.Record{Key: []byte(key)}
		if got, want := keyPartition(key, numPartitions), int32(p.Partition(r, numPartitions)); got != want {
			t.Fatalf("key %q: partition %d, franz-go says %d", key, got, want)
		}
	}
}
