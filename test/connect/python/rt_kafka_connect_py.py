"""Drive a Connect worker with PyPI's kafka-connect-py 1.0.0.

Usage: rt_kafka_connect_py.py URL INPUT_FILE

Creates a FileStream source, reads its status, pauses, resumes, restarts
and deletes it, and prints one JSON object with what the client saw.
"""
import json
import sys
import time

from kafka_connect import KafkaConnect


def wait_state(kc, name, want):
    deadline = time.time() + 60
    while True:
        st = kc.get_connector_status(name)
        tasks = [t["state"] for t in st["tasks"]]
        if st["connector"]["state"] == want and tasks and all(t == want for t in tasks):
            return st
        if time.time() > deadline:
            raise SystemExit("never %s: %s" % (want, st))
        time.sleep(0.2)


def main():
    url, path = sys.argv[1], sys.argv[2]
    kc = KafkaConnect(url=url)
    out = {"cluster": sorted(kc.get_cluster_info().keys())}
    created = kc.create_connector({"name": "pysrc", "config": {
        "connector.class": "FileStreamSource", "file": path, "topic": "rt-python"}})
    out["created"] = created["name"]
    out["running"] = wait_state(kc, "pysrc", "RUNNING")["connector"]["state"]
    kc.pause_connector("pysrc")
    out["paused"] = wait_state(kc, "pysrc", "PAUSED")["connector"]["state"]
    kc.resume_connector("pysrc")
    out["resumed"] = wait_state(kc, "pysrc", "RUNNING")["connector"]["state"]
    kc.restart_connector("pysrc", include_tasks=True)
    out["restarted"] = wait_state(kc, "pysrc", "RUNNING")["connector"]["state"]
    out["listed"] = kc.list_connectors()
    out["topics"] = kc.list_connector_topics("pysrc")["pysrc"]["topics"]
    kc.delete_connector("pysrc")
    out["after_delete"] = kc.list_connectors()
    print(json.dumps(out, sort_keys=True))


if __name__ == "__main__":
    main()
