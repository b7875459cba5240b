package partition

import (
	"context"
	"fmt"
	"log/slog"
	"syscall"
	"testing"

	"github.com/samsa-streaming/samsa/internal/config"
	"github.com/samsa-streaming/samsa/internal/fs"
	"github.com/samsa-streaming/samsa/internal/metadata"
)

// BenchmarkOpenPartitions opens n empty single-partition topics through
// the Manager (one Sync: directory claim, partition.metadata, log open) and
// reports the time per partition, which stays flat as n grows when the
// opening and the map publication are linear. Each partition keeps
// FDsPerPartition descriptors open, so n is capped by RLIMIT_NOFILE (the Go
// runtime raises the soft limit to the hard one): the sizes are 1k, 2k, 5k,
// 10k and 50k as far as they fit, and always the largest count that fits
// (10k partitions need RLIMIT_NOFILE ≥ 32,048, 50k ≥ 152,048; a machine
// whose hard limit is 20,000 runs up to 6,000).
func BenchmarkOpenPartitions(b *testing.B) {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		b.Fatal(err)
	}
	fit := 0
	if rl.Cur > 2048 {
		fit = int(rl.Cur-2048) / FDsPerPartition / 1000 * 1000
	}
	if fit < 1_000 {
		b.Fatalf("RLIMIT_NOFILE %d does not fit 1,000 partitions; raise it (ulimit -n)", rl.Cur)
	}
	var sizes []int
	for _, n := range []int{1_000, 2_000, 5_000, 10_000, 50_000} {
		if n < fit {
			sizes = append(sizes, n)
		}
	}
	for _, n := range append(sizes, fit) {
		b.Run(fmt.Sprintf("partitions=%d", n), func(b *testing.B) {
			topics := make(map[string]metadata.Uuid, n)
			for i := range n {
				topics[fmt.Sprintf("t%06d", i)] = metadata.RandomUuid()
			}
			img := strayImage(topics)
			b.ResetTimer()
			for range b.N {
				b.StopTimer()
				bc := config.Broker{}.Defaults()
				m, err := NewManager(ManagerOptions{DataDir: b.TempDir(), NodeID: 1, Broker: &bc, FS: fs.OS(),
					Logger: slog.New(slog.DiscardHandler), Clock: &fakeClock{strayNow}})
				if err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				if err := m.Sync(context.Background(), img, true); err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				if len(m.All()) != n {
					b.Fatalf("opened %d of %d (offline %d)", len(m.All()), n, m.OfflineCount())
				}
				m.Close()
				b.StartTimer()
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/partition")
		})
	}
}
