"""Produces and consumes Schema Registry framed records with confluent-kafka.

Usage:
  serde.py produce BOOTSTRAP REGISTRY_URL TOPIC FORMAT COUNT
  serde.py consume BOOTSTRAP REGISTRY_URL TOPIC FORMAT COUNT

FORMAT is avro, protobuf or json. produce writes COUNT records through a
SerializingProducer whose value serializer is the format's
(AvroSerializer, ProtobufSerializer, JSONSerializer) with its default
configuration, so the schema is registered under TOPIC-value on first use;
it prints one JSON line per delivery: {"partition", "offset", "key"}.
consume reads COUNT records from partition 0 of TOPIC from the beginning
through a DeserializingConsumer with the format's deserializer and prints
one JSON line per record: {"offset", "key", "value"}, the value as a plain
object with the fields of Reading (below).

Record i of a producer is reading(i, lang): every format carries the same
fields, so the Go side checks them the same way.
"""

import json
import sys
import time

from confluent_kafka import DeserializingConsumer, SerializingProducer, TopicPartition, OFFSET_BEGINNING
from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroDeserializer, AvroSerializer
from confluent_kafka.schema_registry.json_schema import JSONDeserializer, JSONSerializer
from confluent_kafka.schema_registry.protobuf import ProtobufDeserializer, ProtobufSerializer
from confluent_kafka.serialization import StringDeserializer, StringSerializer
from google.protobuf import descriptor_pb2, descriptor_pool
from google.protobuf.message_factory import GetMessageClass

KINDS = ["A", "B", "C"]


def reading(i, lang):
    """Record i: the values python_test.go and crosslang_test.go expect."""
    return {
        "name": "reading-%d" % i,
        "id": i * 10_000_000_000 + 7,
        "score": i + 0.25,
        "ok": i % 2 == 0,
        "tags": ["t%d" % i, "x"],
        "origin": {"lang": lang},
        "kind": KINDS[i % 3],
    }


AVRO_SCHEMA = json.dumps(
    {
        "type": "record",
        "name": "Reading",
        "namespace": "samsa.test",
        "fields": [
            {"name": "name", "type": "string"},
            {"name": "id", "type": "long"},
            {"name": "score", "type": "double"},
            {"name": "ok", "type": "boolean"},
            {"name": "tags", "type": {"type": "array", "items": "string"}},
            {
                "name": "origin",
                "type": {"type": "record", "name": "Origin", "fields": [{"name": "lang", "type": "string"}]},
            },
            {"name": "kind", "type": {"type": "enum", "name": "Kind", "symbols": KINDS}},
        ],
    }
)

JSON_SCHEMA = json.dumps(
    {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "title": "Reading",
        "type": "object",
        "properties": {
            "name": {"type": "string"},
            "id": {"type": "integer"},
            "score": {"type": "number"},
            "ok": {"type": "boolean"},
            "tags": {"type": "array", "items": {"type": "string"}},
            "origin": {
                "type": "object",
                "properties": {"lang": {"type": "string"}},
                "required": ["lang"],
            },
            "kind": {"type": "string", "enum": KINDS},
        },
        "required": ["name", "id", "score", "ok", "tags", "origin", "kind"],
    }
)


def proto_reading_class():
    """The Reading message, built from a FileDescriptorProto (no protoc):

    syntax = "proto3"; package samsa.test;
    message Origin { string lang = 1; }
    message Reading { string name = 1; int64 id = 2; double score = 3;
      bool ok = 4; repeated string tags = 5; Origin origin = 6; Kind kind = 7; }
    enum Kind { A = 0; B = 1; C = 2; }

    Reading is the file's second message: its message index is [1].
    """
    F = descriptor_pb2.FieldDescriptorProto
    fdp = descriptor_pb2.FileDescriptorProto(name="samsa/reading.proto", package="samsa.test", syntax="proto3")
    origin = fdp.message_type.add(name="Origin")
    origin.field.add(name="lang", number=1, type=F.TYPE_STRING, label=F.LABEL_OPTIONAL, json_name="lang")
    r = fdp.message_type.add(name="Reading")
    for name, num, typ, label, type_name in [
        ("name", 1, F.TYPE_STRING, F.LABEL_OPTIONAL, None),
        ("id", 2, F.TYPE_INT64, F.LABEL_OPTIONAL, None),
        ("score", 3, F.TYPE_DOUBLE, F.LABEL_OPTIONAL, None),
        ("ok", 4, F.TYPE_BOOL, F.LABEL_OPTIONAL, None),
        ("tags", 5, F.TYPE_STRING, F.LABEL_REPEATED, None),
        ("origin", 6, F.TYPE_MESSAGE, F.LABEL_OPTIONAL, ".samsa.test.Origin"),
        ("kind", 7, F.TYPE_ENUM, F.LABEL_OPTIONAL, ".samsa.test.Kind"),
    ]:
        f = r.field.add(name=name, number=num, type=typ, label=label, json_name=name)
        if type_name:
            f.type_name = type_name
    kind = fdp.enum_type.add(name="Kind")
    for n, v in enumerate(KINDS):
        kind.value.add(name=v, number=n)
    pool = descriptor_pool.DescriptorPool()
    pool.Add(fdp)
    return GetMessageClass(pool.FindMessageTypeByName("samsa.test.Reading"))


def proto_from_dict(cls, d):
    m = cls(name=d["name"], id=d["id"], score=d["score"], ok=d["ok"], tags=d["tags"], kind=KINDS.index(d["kind"]))
    m.origin.lang = d["origin"]["lang"]
    return m


def proto_to_dict(m):
    return {
        "name": m.name,
        "id": m.id,
        "score": m.score,
        "ok": m.ok,
        "tags": list(m.tags),
        "origin": {"lang": m.origin.lang},
        "kind": KINDS[m.kind],
    }


def serializer(fmt, client):
    if fmt == "avro":
        return AvroSerializer(client, AVRO_SCHEMA), lambda d: d
    if fmt == "json":
        return JSONSerializer(JSON_SCHEMA, client), lambda d: d
    if fmt == "protobuf":
        cls = proto_reading_class()
        return ProtobufSerializer(cls, client), lambda d: proto_from_dict(cls, d)
    raise SystemExit("unknown format " + fmt)


def deserializer(fmt, client):
    if fmt == "avro":
        return AvroDeserializer(client), lambda v: v
    if fmt == "json":
        return JSONDeserializer(None, schema_registry_client=client), lambda v: v
    if fmt == "protobuf":
        return ProtobufDeserializer(proto_reading_class(), {}, client), proto_to_dict
    raise SystemExit("unknown format " + fmt)


def produce(bootstrap, url, topic, fmt, count):
    client = SchemaRegistryClient({"url": url})
    ser, convert = serializer(fmt, client)
    p = SerializingProducer(
        {
            "bootstrap.servers": bootstrap,
            "key.serializer": StringSerializer("utf_8"),
            "value.serializer": ser,
            "acks": "all",
            "linger.ms": 5,
        }
    )
    errors = []

    def report(err, msg):
        if err is not None:
            errors.append(str(err))
        else:
            print(json.dumps({"partition": msg.partition(), "offset": msg.offset(), "key": msg.key().decode()}), flush=True)

    for i in range(count):
        p.produce(topic, key="k%d" % i, value=convert(reading(i, "python")), on_delivery=report)
        p.poll(0)
    left = p.flush(30)
    if left or errors:
        raise SystemExit("produce: %d undelivered, errors %s" % (left, errors))


def consume(bootstrap, url, topic, fmt, count):
    client = SchemaRegistryClient({"url": url})
    de, convert = deserializer(fmt, client)
    c = DeserializingConsumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": "samsa-registry-python-" + topic,
            "enable.auto.commit": False,
            "key.deserializer": StringDeserializer("utf_8"),
            "value.deserializer": de,
        }
    )
    c.assign([TopicPartition(topic, 0, OFFSET_BEGINNING)])
    got = 0
    deadline = time.time() + 30
    while got < count and time.time() < deadline:
        msg = c.poll(1.0)
        if msg is None:
            continue
        if msg.error():
            raise SystemExit("consume: %s" % msg.error())
        print(json.dumps({"offset": msg.offset(), "key": msg.key(), "value": convert(msg.value())}), flush=True)
        got += 1
    c.close()
    if got < count:
        raise SystemExit("consume: %d of %d records before the deadline" % (got, count))


def main():
    cmd, bootstrap, url, topic, fmt, count = sys.argv[1:7]
    {"produce": produce, "consume": consume}[cmd](bootstrap, url, topic, fmt, int(count))


if __name__ == "__main__":
    main()
