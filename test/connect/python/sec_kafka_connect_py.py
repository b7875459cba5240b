"""Drive a secured Connect worker with PyPI's kafka-connect-py 1.0.0.

Usage: sec_kafka_connect_py.py URL CA_FILE INPUT_FILE

Over HTTPS trusting CA_FILE: lists connectors without credentials and as
alice (no ACLs), then as admin (basic auth, the client's auth="user:pass")
creates a FileStream source and reads its status. Prints one JSON object
with what the client saw.
"""
import json
import sys
import time

import requests
from kafka_connect import KafkaConnect


def status_code(call):
    try:
        call()
    except requests.HTTPError as e:
        return e.response.status_code
    return 200


def main():
    url, ca, path = sys.argv[1], sys.argv[2], sys.argv[3]
    anon = KafkaConnect(url=url, ssl_verify=ca)
    alice = KafkaConnect(url=url, auth="alice:alice-secret", ssl_verify=ca)
    kc = KafkaConnect(url=url, auth="admin:admin-secret", ssl_verify=ca)
    out = {
        "cluster": sorted(anon.get_cluster_info().keys()),
        "anonymous": status_code(anon.list_connectors),
        "alice": status_code(alice.list_connectors),
    }
    config = {"name": "pysec", "config": {
        "connector.class": "FileStreamSource", "file": path, "topic": "sec-python"}}
    deadline = time.time() + 60
    while True:  # 409 while the worker group has no leader yet
        try:
            created = kc.create_connector(config)
            break
        except requests.HTTPError as e:
            if e.response.status_code != 409 or time.time() > deadline:
                raise
            time.sleep(0.2)
    out["created"] = created["name"]
    while True:
        st = kc.get_connector_status("pysec")
        tasks = [t["state"] for t in st["tasks"]]
        if st["connector"]["state"] == "RUNNING" and tasks == ["RUNNING"]:
            break
        if time.time() > deadline:
            raise SystemExit("never RUNNING: %s" % st)
        time.sleep(0.2)
    out["running"] = st["connector"]["state"]
    out["listed"] = kc.list_connectors()
    print(json.dumps(out, sort_keys=True))


if __name__ == "__main__":
    main()
