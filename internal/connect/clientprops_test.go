package connect

import (
	"strings"
	"testing"
)

func TestClientSettingsLayers(t *testing.T) {
	worker := map[string]string{"consumer.session.timeout.ms": "6000", "consumer.max.poll.records": "100", "producer.linger.ms": "20"}
	conn := map[string]string{"consumer.override.max.poll.records": "7", "consumer.override.group.id": "g"}
	id := TaskID{Connector: "c", Task: 1}
	got := clientSettings(worker, conn, consumerClient, id)
	want := map[string]string{"session.timeout.ms": "6000", "max.poll.records": "7", "group.id": "g",
		"auto.offset.reset": "earliest", "client.id": "connector-consumer-c-1"}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("consumer %s = %q, want %q (all: %v)", k, got[k], v, got)
		}
	}
	conf, err := buildClient(consumerClient, got, nil)
	if err != nil || conf.maxPollRecords != 7 || conf.groupID != "g" {
		t.Fatalf("buildClient: %+v %v", conf, err)
	}
	worker["connector.client.config.override.policy"] = "None"
	if got := clientSettings(worker, conn, consumerClient, id); got["max.poll.records"] != "100" {
		t.Errorf("policy None: max.poll.records = %q, want the worker's 100", got["max.poll.records"])
	}
	p := clientSettings(worker, nil, producerClient, id)
	if p["linger.ms"] != "20" || p["acks"] != "all" || p["enable.idempotence"] != "false" || p["max.in.flight.requests.per.connection"] != "1" {
		t.Errorf("producer settings %v", p)
	}
}

func TestClientSettingsRefused(t *testing.T) {
	for _, c := range []struct {
		kind     clientKind
		settings map[string]string
		want     string
	}{
		{consumerClient, map[string]string{"session.timeout.ms": "x"}, "Invalid value x for configuration session.timeout.ms: Not a number of type LONG"},
		{consumerClient, map[string]string{"auto.offset.reset": "middle"}, "String must be one of: earliest, latest, none"},
		{producerClient, map[string]string{"acks": "2"}, "String must be one of: all, -1, 0, 1"},
		{producerClient, map[string]string{"compression.type": "brotli"}, "compression.type"},
		{producerClient, map[string]string{"enable.idempotence": "true", "acks": "1"}, "acks to all"},
		{producerClient, map[string]string{"enable.idempotence": "true", "acks": "all", "max.in.flight.requests.per.connection": "6"}, "at most 5"},
	} {
		if _, err := buildClient(c.kind, c.settings, nil); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s %v: %v, want an error containing %q", c.kind, c.settings, err, c.want)
		}
	}
	errs := overrideErrors(map[string]string{"connector.client.config.override.policy": "Principal"},
		map[string]string{"producer.override.linger.ms": "5", "producer.override.sasl.mechanism": "PLAIN"}, producerClient)
	if len(errs["producer.override.linger.ms"]) != 1 || !strings.Contains(errs["producer.override.linger.ms"][0], "The 'Principal' policy does not allow 'linger.ms'") || len(errs["producer.override.sasl.mechanism"]) != 0 {
		t.Errorf("Principal policy errors: %v", errs)
	}
	if errs := workerClientErrors(map[string]string{"connector.client.config.override.policy": "Some"}); len(errs) != 1 {
		t.Errorf("unknown policy: %v", errs)
	}
}
