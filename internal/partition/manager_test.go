package partition

import (
	"log/slog"
	"testing"

	"github.com/samsa-streaming/samsa/internal/config"
	"github.com/samsa-streaming/samsa/internal/fs"
	"github.com/samsa-streaming/samsa/internal/metadata"
)

// producer.id.expiration.ms is a dynamic broker setting, as in Kafka: this
// broker's value wins over the cluster default, which wins over the static
// setting.
func TestManagerProducerIDExpirationSetting(t *testing.T) {
	bc := config.Broker{}.Defaults()
	if err := bc.SetValue("producer.id.expiration.ms", "5000"); err != nil {
		t.Fatal(err)
	}
	m, err := NewManager(ManagerOptions{DataDir: t.TempDir(), NodeID: 1, Broker: &bc, FS: fs.OS(), Logger: slog.New(slog.DiscardHandler), Clock: &fakeClock{}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	if got := m.pidExpiryMs.Load(); got != 5000 {
		t.Fatalf("static: %d", got)
	}
	img := &metadata.Image{BrokerConfigs: map[int32]map[string]string{
		metadata.ClusterDefault: {"producer.id.expiration.ms": "7000"},
	}}
	if got := m.producerIDExpirationMs(img); got != 7000 {
		t.Fatalf("cluster default: %d", got)
	}
	img.BrokerConfigs[1] = map[string]string{"producer.id.expiration.ms": "9000"}
	if got := m.producerIDExpirationMs(img); got != 9000 {
		t.Fatalf("per broker: %d", got)
	}
	def := config.Broker{}.Defaults()
	if got := def.Int("producer.id.expiration.ms", 0); got != 86_400_000 {
		t.Fatalf("Kafka's default is one day, got %d", got)
	}
}
