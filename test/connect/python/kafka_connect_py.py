"""Drives a Kafka Connect worker with PyPI's kafka-connect-py client.

Usage: kafka_connect_py.py URL NAME TOPIC

Creates a VerifiableSource connector NAME writing to TOPIC through
kafka_connect.KafkaConnect, reads its status, pauses, resumes and deletes
it, and prints one JSON line per step: {"step": ..., "result": ...}.
test/connect/dist_python_test.go runs it and checks every line.
"""

import json
import sys
import time

import requests
from kafka_connect import KafkaConnect


def emit(step, result):
    print(json.dumps({"step": step, "result": result}), flush=True)


def wait_state(kc, name, want, timeout=60):
    """Polls the status until the connector and all its tasks are in want."""
    deadline = time.time() + timeout
    status = None
    while time.time() < deadline:
        status = kc.get_connector_status(name)
        tasks = status.get("tasks", [])
        if status["connector"]["state"] == want and tasks and all(t["state"] == want for t in tasks):
            return status
        time.sleep(0.2)
    raise SystemExit(f"{name} never reached {want}: {status}")


def main():
    url, name, topic = sys.argv[1:4]
    kc = KafkaConnect(url=url)
    emit("info", kc.get_cluster_info())
    created = kc.create_connector({
        "name": name,
        "config": {
            "connector.class": "org.apache.kafka.connect.tools.VerifiableSourceConnector",
            "tasks.max": "2",
            "topic": topic,
            "throughput": "10",
        },
    })
    emit("create", created)
    emit("config", kc.get_connector_config(name))
    emit("status", wait_state(kc, name, "RUNNING"))
    emit("tasks", kc.list_connector_tasks(name))
    kc.pause_connector(name)
    emit("pause", wait_state(kc, name, "PAUSED"))
    kc.resume_connector(name)
    emit("resume", wait_state(kc, name, "RUNNING"))
    emit("list", kc.list_connectors(expand="status"))
    kc.delete_connector(name)
    code, deadline = 200, time.time() + 30
    while code == 200 and time.time() < deadline:
        try:
            kc.get_connector_status(name)
            time.sleep(0.2)
        except requests.HTTPError as e:
            code = e.response.status_code
    emit("status-after-delete", code)
    emit("list-after-delete", kc.list_connectors())


if __name__ == "__main__":
    main()
