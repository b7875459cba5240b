#!/usr/bin/env python3
"""Drives confluent-kafka (librdkafka) for Samsa's compatibility tests.

    roundtrip.py produce BOOTSTRAP TOPIC CODEC INPUT.tsv
        Produces each line of INPUT (key TAB value TAB timestampMs
        [TAB hkey=hvalue]...) with acks=all, idempotence on, the murmur2
        partitioner (Java's) and compression.type=CODEC, then prints one JSON
        line per record in input order:
        {"index": i, "partition": p, "offset": o, "timestamp": t}
    roundtrip.py consume BOOTSTRAP TOPIC COUNT [GROUP] [KEY=VALUE]...
        Reads COUNT records from the beginning of every partition (assigned,
        or by subscribing as GROUP and committing) and prints one JSON line
        per record: {"partition", "offset", "timestamp", "key", "value",
        "headers": [[hk, hv], ...]}. KEY=VALUE are extra consumer settings,
        e.g. isolation.level=read_committed (librdkafka's default) or
        read_uncommitted.
    roundtrip.py churn-member BOOTSTRAP TOPIC GROUP [KEY=VALUE]...
        Consumes TOPIC as a member of GROUP (extra consumer settings as
        KEY=VALUE) until stdin closes, then closes the consumer (leaving the
        group). After each batch it prints what it processed, then commits
        exactly that synchronously. One JSON line per event:
        {"event": "record", "topic", "partition", "offset"},
        {"event": "commit", "topic", "partition", "offset": next} (after the
        commit succeeded), {"event": "commit_failed", "error"},
        {"event": "assigned"|"revoked"|"lost", "partitions": [...]},
        {"event": "error", "error"}, {"event": "closed"}.

If the environment variable SAMSA_COMPAT_CLIENT_PROPS names a file of
KEY=VALUE lines (# starts a comment), those settings (e.g. security.protocol,
sasl.mechanisms, ssl.ca.location) are applied to every client a command
makes, over the defaults and under KEY=VALUE arguments.

Errors go to stderr with exit status 1. Run by test/compat/python_test.go.
"""

import json
import os
import sys
import threading
import time

from confluent_kafka import (OFFSET_BEGINNING, Consumer, KafkaException,
                             Producer, TopicPartition)

TIMEOUT_S = 60.0
CLIENT_PROPS_ENV = "SAMSA_COMPAT_CLIENT_PROPS"


def client_props():
    """Returns the settings of the file named by SAMSA_COMPAT_CLIENT_PROPS."""
    path = os.environ.get(CLIENT_PROPS_ENV)
    if not path:
        return {}
    props = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith(("#", "!")):
                continue
            k, sep, v = line.partition("=")
            if not sep or not k.strip():
                sys.exit("%s: line is not KEY=VALUE: %r" % (path, line))
            props[k.strip()] = v.strip()
    return props


def read_input(path):
    records = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if not line:
                continue
            fields = line.split("\t")
            if len(fields) < 3:
                raise ValueError("bad input line: %r" % line)
            headers = []
            for h in fields[3:]:
                k, sep, v = h.partition("=")
                if not sep:
                    raise ValueError("bad header: %r" % h)
                headers.append((k, v.encode()))
            records.append((fields[0].encode(), fields[1].encode(),
                            int(fields[2]), headers))
    return records


def produce(bootstrap, topic, codec, path):
    records = read_input(path)
    conf = {
        "bootstrap.servers": bootstrap,
        "client.id": "samsa-compat-python",
        "compression.type": codec,
        "enable.idempotence": True,
        "acks": "all",
        "partitioner": "murmur2_random",
        "linger.ms": 5,
        "log_level": 5,
        "message.timeout.ms": int(TIMEOUT_S * 1000),
    }
    conf.update(client_props())
    producer = Producer(conf)
    results = [None] * len(records)

    def on_delivery(index):
        def cb(err, msg):
            results[index] = (err, msg)
        return cb

    for i, (key, value, ts, headers) in enumerate(records):
        while True:
            try:
                producer.produce(topic, value=value, key=key, timestamp=ts,
                                 headers=headers, on_delivery=on_delivery(i))
                break
            except BufferError:
                producer.poll(0.1)
        producer.poll(0)
    remaining = producer.flush(TIMEOUT_S)
    if remaining:
        sys.exit("%d records still in flight after %ss" % (remaining, TIMEOUT_S))
    failed = False
    for i, (err, msg) in enumerate(results):
        if err is not None:
            print("record %d: %s" % (i, err), file=sys.stderr)
            failed = True
            continue
        print(json.dumps({"index": i, "partition": msg.partition(),
                          "offset": msg.offset(),
                          "timestamp": msg.timestamp()[1]}))
    if failed:
        sys.exit(1)


def text(b):
    return None if b is None else b.decode("utf-8")


def settings_conf(conf, settings):
    for kv in settings:
        k, sep, v = kv.partition("=")
        if not sep or not k:
            sys.exit("setting is not KEY=VALUE: %r" % kv)
        conf[k] = v


def consume(bootstrap, topic, count, group, settings=()):
    conf = {
        "bootstrap.servers": bootstrap,
        "client.id": "samsa-compat-python",
        "group.id": group or "samsa-compat-python-unused",
        "enable.auto.commit": False,
        "auto.offset.reset": "earliest",
    }
    conf.update(client_props())
    settings_conf(conf, settings)
    consumer = Consumer(conf)
    try:
        if group:
            consumer.subscribe([topic])
        else:
            md = consumer.list_topics(topic, timeout=TIMEOUT_S)
            t = md.topics[topic]
            if t.error is not None:
                raise KafkaException(t.error)
            consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING)
                             for p in sorted(t.partitions)])
        seen = 0
        deadline = time.monotonic() + TIMEOUT_S
        extra_until = None
        while True:
            now = time.monotonic()
            if seen >= count:
                # Keep polling briefly so duplicates or extras show up.
                if extra_until is None:
                    extra_until = now + 0.3
                if now >= extra_until:
                    break
            elif now >= deadline:
                break
            msg = consumer.poll(0.1)
            if msg is None:
                continue
            if msg.error() is not None:
                if msg.error().code() == -191:  # _PARTITION_EOF
                    continue
                raise KafkaException(msg.error())
            headers = msg.headers() or []
            print(json.dumps({
                "partition": msg.partition(),
                "offset": msg.offset(),
                "timestamp": msg.timestamp()[1],
                "timestamp_type": {1: "CreateTime", 2: "LogAppendTime"}.get(
                    msg.timestamp()[0], "NoTimestampType"),
                "key": text(msg.key()),
                "value": text(msg.value()),
                "headers": [[k, text(v)] for k, v in headers],
            }))
            seen += 1
        if group and seen:
            consumer.commit(asynchronous=False)
        if seen < count:
            sys.exit("consumed %d of %d records before timeout" % (seen, count))
    finally:
        consumer.close()


def churn_member(bootstrap, topic, group, settings):
    conf = {
        "bootstrap.servers": bootstrap,
        "client.id": "samsa-compat-python",
        "group.id": group,
        "enable.auto.commit": False,
        "auto.offset.reset": "earliest",
    }
    conf.update(client_props())
    settings_conf(conf, settings)

    def emit(obj):
        print(json.dumps(obj), flush=True)

    # The test stops a member by closing its stdin and kills one with SIGKILL.
    stop = threading.Event()

    def watch_stdin():
        while sys.stdin.buffer.read(4096):
            pass
        stop.set()

    threading.Thread(target=watch_stdin, daemon=True).start()

    def on(event):
        def cb(_consumer, partitions):
            emit({"event": event,
                  "partitions": sorted(p.partition for p in partitions)})
        return cb

    consumer = Consumer(conf)
    try:
        consumer.subscribe([topic], on_assign=on("assigned"),
                           on_revoke=on("revoked"), on_lost=on("lost"))
        while not stop.is_set():
            nxt = {}
            for msg in consumer.consume(num_messages=500, timeout=0.2):
                err = msg.error()
                if err is not None:
                    if err.code() == -191:  # _PARTITION_EOF
                        continue
                    if err.fatal():
                        raise KafkaException(err)
                    emit({"event": "error", "error": str(err)})
                    continue
                print(json.dumps({"event": "record", "topic": msg.topic(),
                                  "partition": msg.partition(),
                                  "offset": msg.offset()}))
                nxt[(msg.topic(), msg.partition())] = msg.offset() + 1
            if not nxt:
                continue
            sys.stdout.flush()  # processed before committed
            try:
                done = consumer.commit(
                    offsets=[TopicPartition(t, p, o) for (t, p), o in nxt.items()],
                    asynchronous=False)
            except KafkaException as e:
                # A rebalance can fence the commit; the next owner re-reads
                # those records.
                emit({"event": "commit_failed", "error": str(e)})
                continue
            for tp in done or []:
                if tp.error is not None:
                    emit({"event": "commit_failed", "error": str(tp.error)})
                else:
                    emit({"event": "commit", "topic": tp.topic,
                          "partition": tp.partition, "offset": tp.offset})
    finally:
        consumer.close()
    emit({"event": "closed"})


def main(argv):
    if len(argv) == 5 and argv[0] == "produce":
        produce(argv[1], argv[2], argv[3], argv[4])
    elif len(argv) >= 4 and argv[0] == "consume":
        rest = argv[4:]
        groups = [a for a in rest if "=" not in a]
        if len(groups) > 1:
            sys.exit(__doc__)
        consume(argv[1], argv[2], int(argv[3]), groups[0] if groups else None,
                [a for a in rest if "=" in a])
    elif len(argv) >= 4 and argv[0] == "churn-member":
        churn_member(argv[1], argv[2], argv[3], argv[4:])
    else:
        sys.exit(__doc__)
    sys.stdout.flush()


if __name__ == "__main__":
    main(sys.argv[1:])
