"""confluent-kafka's Schema Registry serdes against the REST proxy's records.

Usage:
  rest_serde.py consume BOOTSTRAP REGISTRY_URL TOPIC FORMAT COUNT
  rest_serde.py produce BOOTSTRAP REGISTRY_URL TOPIC FORMAT COUNT

FORMAT is avro, json or protobuf.

consume reads COUNT records of TOPIC (every partition, from the beginning)
through a DeserializingConsumer whose value deserializer is the format's
(AvroDeserializer, JSONDeserializer, ProtobufDeserializer, each fetching the
writer's schema by the id in the record); Avro keys go through an
AvroDeserializer too, other keys must be absent. It prints one JSON line a
record: {"partition", "offset", "key", "value"}, the value as a plain object
(Avro bytes as a string of code points 0-255, Protobuf enums by name, every
Protobuf field present).

produce writes COUNT records reading(i) through a SerializingProducer with
the format's serializer (registering the schema under TOPIC-value, and for
Avro a "string" key schema under TOPIC-key, key "k<i>"; no key otherwise) and
prints one JSON line a delivery: {"partition", "offset", "key", "value"}, the
value as consume would print it.
"""

import json
import sys
import time

from confluent_kafka import DeserializingConsumer, SerializingProducer, TopicPartition, OFFSET_BEGINNING
from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroDeserializer, AvroSerializer
from confluent_kafka.schema_registry.json_schema import JSONDeserializer, JSONSerializer
from confluent_kafka.schema_registry.protobuf import ProtobufDeserializer, ProtobufSerializer
from google.protobuf import descriptor_pb2, descriptor_pool
from google.protobuf.message_factory import GetMessageClass

KINDS = ["A", "B", "C"]

AVRO_SCHEMA = json.dumps(
    {
        "type": "record",
        "name": "Reading",
        "namespace": "samsa.rest",
        "fields": [
            {"name": "name", "type": "string"},
            {"name": "id", "type": "long"},
            {"name": "score", "type": "double"},
            {"name": "ok", "type": "boolean"},
            {"name": "tags", "type": {"type": "array", "items": "string"}},
            {"name": "origin", "type": {"type": "record", "name": "Origin", "fields": [{"name": "lang", "type": "string"}]}},
            {"name": "kind", "type": {"type": "enum", "name": "Kind", "symbols": KINDS}},
            {"name": "note", "type": ["null", "string"], "default": None},
            {"name": "blob", "type": "bytes"},
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
            "origin": {"type": "object", "properties": {"lang": {"type": "string"}}, "required": ["lang"]},
            "kind": {"type": "string", "enum": KINDS},
            "note": {"type": ["null", "string"]},
        },
        "required": ["name", "id", "score", "ok", "tags", "origin", "kind"],
    }
)


def reading(i, fmt):
    """Record i as Python produces it (the plain form consume prints)."""
    r = {
        "name": "py-%d" % i,
        "id": i * 10_000_000_000 + 7,
        "score": i + 0.5,
        "ok": i % 2 == 1,
        "tags": ["p%d" % i] * (i % 3),
        "origin": {"lang": "python"},
        "kind": KINDS[(i + 1) % 3],
    }
    if fmt in ("avro", "json"):
        r["note"] = None if i % 2 else "note %d é" % i
    if fmt == "avro":
        r["blob"] = bytes([i % 256, 0, 255]).decode("latin-1")
    return r


def proto_reading_class():
    """Reading built from a FileDescriptorProto (no protoc): Origin, then
    Reading (message index [1]), then enum Kind."""
    F = descriptor_pb2.FieldDescriptorProto
    fdp = descriptor_pb2.FileDescriptorProto(name="samsa/rest_reading.proto", package="samsa.rest", syntax="proto3")
    origin = fdp.message_type.add(name="Origin")
    origin.field.add(name="lang", number=1, type=F.TYPE_STRING, label=F.LABEL_OPTIONAL, json_name="lang")
    r = fdp.message_type.add(name="Reading")
    for name, num, typ, label, type_name in [
        ("name", 1, F.TYPE_STRING, F.LABEL_OPTIONAL, None),
        ("id", 2, F.TYPE_INT64, F.LABEL_OPTIONAL, None),
        ("score", 3, F.TYPE_DOUBLE, F.LABEL_OPTIONAL, None),
        ("ok", 4, F.TYPE_BOOL, F.LABEL_OPTIONAL, None),
        ("tags", 5, F.TYPE_STRING, F.LABEL_REPEATED, None),
        ("origin", 6, F.TYPE_MESSAGE, F.LABEL_OPTIONAL, ".samsa.rest.Origin"),
        ("kind", 7, F.TYPE_ENUM, F.LABEL_OPTIONAL, ".samsa.rest.Kind"),
    ]:
        f = r.field.add(name=name, number=num, type=typ, label=label, json_name=name)
        if type_name:
            f.type_name = type_name
    kind = fdp.enum_type.add(name="Kind")
    for n, v in enumerate(KINDS):
        kind.value.add(name=v, number=n)
    pool = descriptor_pool.DescriptorPool()
    pool.Add(fdp)
    return GetMessageClass(pool.FindMessageTypeByName("samsa.rest.Reading"))


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


def proto_from_dict(cls, d):
    m = cls(name=d["name"], id=d["id"], score=d["score"], ok=d["ok"], tags=d["tags"], kind=KINDS.index(d["kind"]))
    m.origin.lang = d["origin"]["lang"]
    return m


def plain(fmt, v):
    """A deserialized value as JSON-printable plain data."""
    if v is None:
        return None
    if fmt == "protobuf":
        return proto_to_dict(v)
    if fmt == "avro":
        v = dict(v)
        if isinstance(v.get("blob"), bytes):
            v["blob"] = v["blob"].decode("latin-1")
    return v


def consume(bootstrap, url, topic, fmt, count):
    client = SchemaRegistryClient({"url": url})
    if fmt == "avro":
        de = AvroDeserializer(client)
    elif fmt == "json":
        de = JSONDeserializer(None, schema_registry_client=client)
    else:
        de = ProtobufDeserializer(proto_reading_class(), {}, client)
    conf = {
        "bootstrap.servers": bootstrap,
        "group.id": "samsa-rest-python-" + topic,
        "enable.auto.commit": False,
        "value.deserializer": de,
    }
    if fmt == "avro":
        conf["key.deserializer"] = AvroDeserializer(client)
    c = DeserializingConsumer(conf)
    md = c.list_topics(topic, timeout=20)
    c.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in md.topics[topic].partitions])
    got = 0
    deadline = time.time() + 60
    while got < count and time.time() < deadline:
        msg = c.poll(1.0)
        if msg is None:
            continue
        if msg.error():
            raise SystemExit("consume: %s" % msg.error())
        key = msg.key()
        if isinstance(key, bytes):
            raise SystemExit("consume: undeserialized key %r" % key)
        print(json.dumps({"partition": msg.partition(), "offset": msg.offset(), "key": key,
                          "value": plain(fmt, msg.value())}), flush=True)
        got += 1
    c.close()
    if got < count:
        raise SystemExit("consume: %d of %d records before the deadline" % (got, count))


def produce(bootstrap, url, topic, fmt, count):
    client = SchemaRegistryClient({"url": url})
    conf = {"bootstrap.servers": bootstrap, "acks": "all", "linger.ms": 5}
    if fmt == "avro":
        conf["value.serializer"] = AvroSerializer(client, AVRO_SCHEMA)
        conf["key.serializer"] = AvroSerializer(client, '"string"')
        convert = lambda d: dict(d, blob=d["blob"].encode("latin-1"))
    elif fmt == "json":
        conf["value.serializer"] = JSONSerializer(JSON_SCHEMA, client)
        convert = lambda d: d
    else:
        cls = proto_reading_class()
        conf["value.serializer"] = ProtobufSerializer(cls, client, {"use.deprecated.format": False})
        convert = lambda d: proto_from_dict(cls, d)
    p = SerializingProducer(conf)
    errors = []

    def report(value, key):
        def cb(err, msg):
            if err is not None:
                errors.append(str(err))
            else:
                print(json.dumps({"partition": msg.partition(), "offset": msg.offset(), "key": key, "value": value}), flush=True)
        return cb

    for i in range(count):
        v = reading(i, fmt)
        key = "k%d" % i if fmt == "avro" else None
        p.produce(topic, key=key, value=convert(v), on_delivery=report(v, key))
        p.poll(0)
    left = p.flush(30)
    if left or errors:
        raise SystemExit("produce: %d undelivered, errors %s" % (left, errors))


def main():
    cmd, bootstrap, url, topic, fmt, count = sys.argv[1:7]
    {"produce": produce, "consume": consume}[cmd](bootstrap, url, topic, fmt, int(count))


if __name__ == "__main__":
    main()
