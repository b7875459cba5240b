package broker

import (
	"context"
	"sync"

	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/samsa-streaming/samsa/internal/metadata"
)

// ensureInternalTopic creates an internal topic as Kafka does on the first
// FindCoordinator that needs it: partitions from partsKey, replication from
// rfKey capped at the live brokers. mu serialises creators. The coordinator
// runtime (internal/coordinator) follows the image the creation publishes:
// the controller runs its subscribers before the proposal returns, so the
// shards of the partitions this broker leads are loading by then.
func (b *Broker) ensureInternalTopic(ctx context.Context, mu *sync.Mutex, name, partsKey, rfKey string, configs func(*metadata.Image) map[string]string) (*metadata.Topic, error) {
	if t, ok := b.image().Topics[name]; ok {
		return t, nil
	}
	mu.Lock()
	defer mu.Unlock()
	img := b.image()
	if t, ok := img.Topics[name]; ok {
		return t, nil
	}
	live := 0
	for _, br := range img.Brokers {
		if !br.Fenced {
			live++
		}
	}
	rf := int16(min(b.settingInt(img, rfKey), int64(live)))
	n := int32(b.settingInt(img, partsKey))
	t, err := b.createTopic(ctx, name, n, rf, nil, configs(img), false)
	if err != nil && errorCode(err) == kerr.TopicAlreadyExists.Code {
		if t2, ok := b.image().Topics[name]; ok {
			t, err = t2, nil
		}
	}
	if err != nil {
		return nil, err
	}
	b.lg.Info("created internal topic", "topic", name, "partitions", n, "replication_factor", rf)
	return t, nil
}
