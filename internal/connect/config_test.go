package connect

import (
	"strings"
	"testing"
	"time"
)

func TestFromProperties(t *testing.T) {
	c, err := FromProperties(map[string]string{
		"bootstrap.servers": "a:9092, b:9092", "listeners": "http://:8084", "group.id": "g",
		"rest.advertised.host.name": "w1", "offset.flush.interval.ms": "1500",
		"exactly.once.source.support": "enabled", "topic.tracking.enable": "false",
		"offset.storage.file.filename": "/tmp/o", "config.storage.topic": "cfg",
		"consumer.session.timeout.ms": "6000", "consumer.heartbeat.interval.ms": "500",
	})
	if err != nil {
		t.Fatal(err)
	}
	c.Defaults()
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	want := Config{Listen: "0.0.0.0:8084", AdvertisedURL: "http://w1:8084", GroupID: "g", ConfigTopic: "cfg",
		OffsetTopic: "connect-offsets", StatusTopic: "connect-status", OffsetFlushInterval: 1500 * time.Millisecond,
		OffsetFile: "/tmp/o", ExactlyOnceSource: true, NoTopicTracking: true}
	if strings.Join(c.Brokers, ",") != "a:9092,b:9092" || c.Listen != want.Listen || c.AdvertisedURL != want.AdvertisedURL ||
		c.GroupID != want.GroupID || c.ConfigTopic != want.ConfigTopic || c.OffsetTopic != want.OffsetTopic ||
		c.StatusTopic != want.StatusTopic || c.OffsetFlushInterval != want.OffsetFlushInterval || c.OffsetFile != want.OffsetFile ||
		!c.ExactlyOnceSource || !c.NoTopicTracking || c.NoTopicReset ||
		c.SinkSessionTimeout != 6*time.Second || c.SinkHeartbeatInterval != 500*time.Millisecond {
		t.Fatalf("got %+v", c)
	}
	if c.Props["value.converter"] != "org.apache.kafka.connect.json.JsonConverter" {
		t.Fatalf("default value.converter %q", c.Props["value.converter"])
	}
}

func TestFromPropertiesErrors(t *testing.T) {
	for _, props := range []map[string]string{
		{"listeners": "::nope"},
		{"offset.flush.interval.ms": "soon"},
		{"exactly.once.source.support": "maybe"},
	} {
		if _, err := FromProperties(props); err == nil {
			t.Errorf("%v: no error", props)
		}
	}
	var c Config
	c.Defaults()
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "bootstrap.servers") {
		t.Fatalf("no brokers: %v", err)
	}
}

func TestTaskKeyAndJavaMap(t *testing.T) {
	id, ok := taskKey("my-conn-12")
	if !ok || id.Connector != "my-conn" || id.Task != 12 {
		t.Fatalf("taskKey: %v %v", id, ok)
	}
	if _, ok := taskKey("nodash"); ok {
		t.Fatal("taskKey accepted a key without a task number")
	}
	if got := javaMap(map[string]string{"b": "2", "a": "1"}); got != "{a=1, b=2}" {
		t.Fatalf("javaMap %q", got)
	}
}
