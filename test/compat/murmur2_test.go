package compat

import (
	"fmt"
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"
)

// Vectors from Kafka's UtilsTest.testMurmur2.
func TestMurmur2KafkaVectors(t *testing.T) {
	for in, want := range map[string]int32{
		"21":                         -973932308,
		"foobar":                     -790332482,
		"a-little-bit-long-string":   -985981536,
		"a-little-bit-longer-string": -1486304829,
		"lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8": -58897971,
		"abc": 479470107,
	} {
		if got := murmur2([]byte(in)); got != want {
			t.Errorf("murmur2(%q) = %d, want %d", in, got, want)
		}
	}
}

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
