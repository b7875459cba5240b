package replication

import (
	"testing"
	"time"

	"github.com/samsa-streaming/samsa/internal/metadata"
)

func TestThrottle(t *testing.T) {
	var th Throttle
	now := time.Unix(100, 0)
	if !th.Allow(now, 1000) {
		t.Fatal("a fresh throttle refuses")
	}
	th.Record(now, 600)
	if !th.Allow(now.Add(100*time.Millisecond), 1000) {
		t.Fatal("refused under the rate")
	}
	th.Record(now, 600)
	if th.Allow(now.Add(500*time.Millisecond), 1000) {
		t.Fatal("allowed over the rate within the second")
	}
	if !th.Allow(now.Add(time.Second), 1000) {
		t.Fatal("refused in the next second")
	}
}

func TestThrottledReplicaAndRate(t *testing.T) {
	for _, c := range []struct {
		list string
		part int32
		id   int32
		want bool
	}{
		{"", 0, 1, false}, {"*", 3, 7, true}, {"0:1,1:2", 1, 2, true}, {"0:1, 1:2", 1, 2, true},
		{"0:1,1:2", 1, 1, false}, {"10:1", 1, 1, false}, {"garbage", 0, 1, false},
	} {
		if got := ThrottledReplica(c.list, c.part, c.id); got != c.want {
			t.Errorf("ThrottledReplica(%q, %d, %d) = %v", c.list, c.part, c.id, got)
		}
	}
	img := metadata.NewImage()
	img.BrokerConfigs = map[int32]map[string]string{
		metadata.ClusterDefault: {"follower.replication.throttled.rate": "500"},
		2:                       {"follower.replication.throttled.rate": "9000", "leader.replication.throttled.rate": "x"},
	}
	if got := ThrottleRate(img, 1, "follower.replication.throttled.rate"); got != 500 {
		t.Errorf("cluster default: %d", got)
	}
	if got := ThrottleRate(img, 2, "follower.replication.throttled.rate"); got != 9000 {
		t.Errorf("per broker: %d", got)
	}
	if got := ThrottleRate(img, 2, "leader.replication.throttled.rate"); got != 0 {
		t.Errorf("a bad value must mean no throttle, got %d", got)
	}
}
