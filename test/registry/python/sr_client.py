"""Drives Samsa's schema registry with confluent-kafka's SchemaRegistryClient.

Usage: sr_client.py REGISTRY_URL SCENARIO PREFIX

Each scenario runs the client's calls in order and prints one JSON object
with what it observed (ids, versions, levels, and for each call that
failed its HTTP status, error_code and message); python_test.go asserts on
it. A SchemaRegistryError becomes {"status", "code", "message"}; any other
exception is a crash (non-zero exit with a traceback).
"""

import json
import sys

from confluent_kafka.schema_registry import (
    Schema,
    SchemaReference,
    SchemaRegistryClient,
)
from confluent_kafka.schema_registry.error import SchemaRegistryError


_clients = {}


def fresh(url):
    """The scenario's client with its caches emptied, so each call reaches
    the registry (one client: building one costs a TLS context)."""
    c = _clients.get(url)
    if c is None:
        c = _clients[url] = SchemaRegistryClient({"url": url})
    c.clear_caches()
    return c


def err(fn):
    """Runs fn; its result, or the registry's error as a dict."""
    try:
        return {"ok": fn()}
    except SchemaRegistryError as e:
        return {"status": e.http_status_code, "code": e.error_code, "message": e.error_message}


def avro(fields, name="User", namespace="samsa.test"):
    return json.dumps({"type": "record", "name": name, "namespace": namespace, "fields": fields})


USER_V1 = avro([{"name": "name", "type": "string"}])
USER_V2 = avro([{"name": "name", "type": "string"}, {"name": "age", "type": "int", "default": 0}])
# Adds a field without a default: a BACKWARD reader cannot read v2 data.
USER_BAD = avro(
    [
        {"name": "name", "type": "string"},
        {"name": "age", "type": "int", "default": 0},
        {"name": "email", "type": "string"},
    ]
)


def scenario_evolve(url, p):
    c = fresh(url)
    s = p + "-evolve-value"
    out = {}
    out["id1"] = c.register_schema(s, Schema(USER_V1, "AVRO"))
    # Same schema, other client (no cache): same id, no new version.
    out["id1_again"] = fresh(url).register_schema(s, Schema(USER_V1, "AVRO"))
    out["id2"] = c.register_schema(s, Schema(USER_V2, "AVRO"))
    latest = fresh(url).get_latest_version(s)
    out["latest"] = {"version": latest.version, "id": latest.schema_id, "schema": latest.schema.schema_str}
    out["versions"] = fresh(url).get_versions(s)
    out["compat_bad"] = fresh(url).test_compatibility(s, Schema(USER_BAD, "AVRO"))
    out["compat_bad_all"] = fresh(url).test_compatibility_all_versions(s, Schema(USER_BAD, "AVRO"))
    out["compat_good"] = fresh(url).test_compatibility(s, Schema(USER_V2, "AVRO"), version=1)
    out["reject"] = err(lambda: fresh(url).register_schema(s, Schema(USER_BAD, "AVRO")))
    out["versions_after"] = fresh(url).get_versions(s)
    out["lookup_v1"] = err(lambda: fresh(url).lookup_schema(s, Schema(USER_V1, "AVRO")).version)
    out["by_id"] = fresh(url).get_schema(out["id2"]).schema_str
    out["subjects_of_id"] = fresh(url).get_subjects_by_schema_id(out["id2"])
    out["types"] = fresh(url).get_schema_types()
    return out


def scenario_delete(url, p):
    c = fresh(url)
    s = p + "-delete-value"
    out = {}
    out["id1"] = c.register_schema(s, Schema(USER_V1, "AVRO"))
    out["id2"] = c.register_schema(s, Schema(USER_V2, "AVRO"))
    out["delete_v1"] = fresh(url).delete_version(s, 1)
    out["versions"] = fresh(url).get_versions(s)
    out["versions_deleted"] = fresh(url).get_versions(s, deleted=True)
    out["get_v1"] = err(lambda: fresh(url).get_version(s, 1).version)
    out["get_v1_deleted"] = err(lambda: fresh(url).get_version(s, 1, deleted=True).schema_id)
    out["soft"] = fresh(url).delete_subject(s)
    out["versions_gone"] = err(lambda: fresh(url).get_versions(s))
    out["versions_gone_deleted"] = err(lambda: fresh(url).get_versions(s, deleted=True))
    out["soft_again"] = err(lambda: fresh(url).delete_subject(s))
    out["subjects"] = fresh(url).get_subjects()
    out["subjects_deleted"] = fresh(url).get_subjects(deleted=True)
    # Versions go on after a soft delete.
    fresh(url).register_schema(s, Schema(USER_V1, "AVRO"))
    out["after_soft"] = fresh(url).get_latest_version(s).version
    out["soft2"] = fresh(url).delete_subject(s)
    out["hard"] = fresh(url).delete_subject(s, permanent=True)
    out["subjects_deleted_after_hard"] = fresh(url).get_subjects(deleted=True)
    out["hard_again"] = err(lambda: fresh(url).delete_subject(s, permanent=True))
    # And restart at 1 after a hard delete.
    fresh(url).register_schema(s, Schema(USER_V2, "AVRO"))
    reg = fresh(url).get_latest_version(s)
    out["after_hard"] = {"version": reg.version, "id": reg.schema_id}
    # A hard delete of a version that is not soft-deleted first is refused.
    out["hard_live"] = err(lambda: fresh(url).delete_version(s, reg.version, permanent=True))
    return out


def scenario_config(url, p):
    c = fresh(url)
    s = p + "-config-value"
    out = {}
    out["global_before"] = c.get_compatibility()
    out["set_global"] = c.set_compatibility(level="FULL")
    out["global_after"] = fresh(url).get_compatibility()
    out["global_config"] = fresh(url).get_config().compatibility_level.value
    c.register_schema(s, Schema(USER_V1, "AVRO"))
    # FULL: a field added without a default is refused.
    out["full_reject"] = err(lambda: fresh(url).register_schema(s, Schema(USER_BAD, "AVRO")))
    out["subject_unset"] = err(lambda: fresh(url).get_compatibility(s))
    out["set_subject"] = c.set_compatibility(s, "NONE")
    out["subject_level"] = fresh(url).get_compatibility(s)
    out["global_unchanged"] = fresh(url).get_compatibility()
    # NONE on the subject: the same registration now passes.
    out["none_accept"] = err(lambda: fresh(url).register_schema(s, Schema(USER_BAD, "AVRO")))
    out["none_versions"] = fresh(url).get_versions(s)
    out["bad_level"] = err(lambda: fresh(url).set_compatibility(s, "SIDEWAYS"))
    out["delete_subject_config"] = fresh(url).delete_config(s).compatibility_level.value
    out["subject_after_delete"] = err(lambda: fresh(url).get_compatibility(s))
    out["restore_global"] = fresh(url).set_compatibility(level="BACKWARD")
    out["global_restored"] = fresh(url).get_compatibility()
    return out


def scenario_mode(url, p):
    c = fresh(url)
    rest = c._rest_client  # the client's own HTTP layer, for a body with "id"
    out = {}
    out["global"] = c.get_global_mode()
    imp = p + "-import-value"
    out["set_import"] = c.update_mode(imp, "IMPORT")
    out["get_import"] = fresh(url).get_mode(imp)
    body = {"schemaType": "AVRO", "schema": USER_V1, "id": 90001, "version": 1}
    out["import"] = err(lambda: rest.post("subjects/{}/versions".format(imp), body=body))
    out["import_again"] = err(lambda: rest.post("subjects/{}/versions".format(imp), body=body))
    out["import_by_id"] = fresh(url).get_schema(90001).schema_str
    out["import_version"] = fresh(url).get_version(imp, 1).schema_id
    other = dict(body, schema=USER_V2, version=2)
    out["import_clash"] = err(lambda: rest.post("subjects/{}/versions".format(imp), body=other))
    # A subject that has schemas cannot go to IMPORT without force.
    live = p + "-live-value"
    c.register_schema(live, Schema(USER_V1, "AVRO"))
    out["import_live"] = err(lambda: fresh(url).update_mode(live, "IMPORT"))
    out["import_live_force"] = err(lambda: fresh(url).update_mode(live, "IMPORT", force=True))
    out["back_readwrite"] = fresh(url).update_mode(live, "READWRITE")
    ro = p + "-readonly-value"
    out["set_readonly"] = c.update_mode(ro, "READONLY")
    out["readonly_write"] = err(lambda: fresh(url).register_schema(ro, Schema(USER_V1, "AVRO")))
    out["delete_mode"] = fresh(url).delete_mode(ro)
    out["after_delete_mode"] = err(lambda: fresh(url).register_schema(ro, Schema(USER_V1, "AVRO")))
    out["set_global_readonly"] = c.update_global_mode("READONLY")
    out["global_readonly_write"] = err(lambda: fresh(url).register_schema(p + "-other-value", Schema(USER_V1, "AVRO")))
    out["set_global_readwrite"] = c.update_global_mode("READWRITE")
    out["global_after"] = fresh(url).get_global_mode()
    out["bad_mode"] = err(lambda: fresh(url).update_mode(ro, "SIDEWAYS"))
    out["contexts"] = fresh(url).get_contexts()
    return out


ADDRESS = json.dumps(
    {
        "type": "record",
        "name": "Address",
        "namespace": "samsa.ref",
        "fields": [{"name": "street", "type": "string"}, {"name": "zip", "type": "string"}],
    }
)
PERSON = json.dumps(
    {
        "type": "record",
        "name": "Person",
        "namespace": "samsa.ref",
        "fields": [{"name": "name", "type": "string"}, {"name": "home", "type": "samsa.ref.Address"}],
    }
)
MONEY_PROTO = """syntax = "proto3";
package samsa.ref;

message Money {
  string currency = 1;
  int64 units = 2;
}
"""
ORDER_PROTO = """syntax = "proto3";
package samsa.ref;

import "money.proto";
import "google/protobuf/timestamp.proto";

message Order {
  string id = 1;
  Money total = 2;
  google.protobuf.Timestamp at = 3;
}
"""


def scenario_references(url, p):
    c = fresh(url)
    out = {}
    # Avro: Person's field refers to Address, registered under its own subject.
    addr = p + "-address"
    out["avro_address"] = c.register_schema(addr, Schema(ADDRESS, "AVRO"))
    ref = SchemaReference("samsa.ref.Address", addr, 1)
    person = p + "-person-value"
    out["avro_person"] = c.register_schema(person, Schema(PERSON, "AVRO", [ref]))
    got = fresh(url).get_version(person, 1)
    out["avro_person_refs"] = [r.to_dict() for r in got.schema.references]
    out["avro_referenced_by"] = fresh(url).get_referenced_by(addr, 1)
    out["avro_missing_ref"] = err(
        lambda: fresh(url).register_schema(p + "-orphan-value", Schema(PERSON, "AVRO", [SchemaReference("samsa.ref.Address", p + "-nope", 1)]))
    )
    out["avro_no_ref"] = err(lambda: fresh(url).register_schema(p + "-orphan-value", Schema(PERSON, "AVRO")))
    out["avro_delete_referenced"] = err(lambda: fresh(url).delete_subject(addr))
    out["avro_lookup"] = fresh(url).lookup_schema(person, Schema(PERSON, "AVRO", [ref])).schema_id
    # Protobuf: order.proto imports money.proto (a reference) and a
    # google/protobuf file (resolved without one).
    money = p + "-money"
    out["proto_money"] = err(lambda: fresh(url).register_schema(money, Schema(MONEY_PROTO, "PROTOBUF")))
    order = p + "-order-value"
    pref = SchemaReference("money.proto", money, 1)
    out["proto_order"] = err(lambda: fresh(url).register_schema(order, Schema(ORDER_PROTO, "PROTOBUF", [pref])))
    out["proto_order_refs"] = err(lambda: [r.to_dict() for r in fresh(url).get_version(order, 1).schema.references])
    out["proto_referenced_by"] = err(lambda: fresh(url).get_referenced_by(money, 1))
    out["proto_no_ref"] = err(lambda: fresh(url).register_schema(p + "-order2-value", Schema(ORDER_PROTO, "PROTOBUF")))
    return out


# The same record written two ways: layout, attribute order, a short or
# full name, and the order of custom properties differ.
NORM_A = '{"type":"record","name":"Norm","namespace":"samsa.test","owner":"ops","team":"core","fields":[{"name":"a","type":"string"},{"name":"b","type":{"type":"array","items":"long"}}]}'
NORM_B = """{
  "fields": [
    {"type": "string",   "name": "a"},
    {"name": "b", "type": {"items": {"type": "long"}, "type": "array"}}
  ],
  "team": "core",
  "owner": "ops",
  "name": "samsa.test.Norm",
  "type": "record"
}"""
NORM_PROTO_A = 'syntax = "proto3"; package samsa.test; message Norm { string a = 1; repeated int64 b = 2; }'
NORM_PROTO_B = """// a comment
syntax = "proto3";
package samsa.test;

message Norm {
    repeated int64 b = 2;   // declared first
    string a = 1;
}
"""


def scenario_normalize(url, p):
    c = fresh(url)
    s = p + "-norm-value"
    out = {}
    out["register"] = c.register_schema(s, Schema(NORM_A, "AVRO"), normalize_schemas=True)
    look = fresh(url).lookup_schema(s, Schema(NORM_B, "AVRO"), normalize_schemas=True)
    out["lookup"] = {"id": look.schema_id, "version": look.version}
    out["register_b"] = fresh(url).register_schema(s, Schema(NORM_B, "AVRO"), normalize_schemas=True)
    out["versions"] = fresh(url).get_versions(s)
    out["compat_b"] = fresh(url).test_compatibility(s, Schema(NORM_B, "AVRO"), normalize=True)
    ps = p + "-normproto-value"
    out["proto_register"] = err(lambda: fresh(url).register_schema(ps, Schema(NORM_PROTO_A, "PROTOBUF"), normalize_schemas=True))
    out["proto_lookup"] = err(lambda: fresh(url).lookup_schema(ps, Schema(NORM_PROTO_B, "PROTOBUF"), normalize_schemas=True).schema_id)
    out["proto_versions"] = err(lambda: fresh(url).get_versions(ps))
    return out


PROTO_V1 = 'syntax = "proto3"; package samsa.test; message Account { string owner = 1; int64 balance = 2; }'
PROTO_V2 = 'syntax = "proto3"; package samsa.test; message Account { string owner = 1; int64 balance = 2; string note = 3; }'
# balance becomes a string: not wire-compatible with int64.
PROTO_BAD = 'syntax = "proto3"; package samsa.test; message Account { string owner = 1; string balance = 2; string note = 3; }'
# A closed content model, so that adding an optional property is BACKWARD
# compatible (with an open one the old writer may have written it with any
# value).
def json_account(**props):
    return json.dumps({"type": "object", "additionalProperties": False, "properties": props})


JSON_V1 = json_account(owner={"type": "string"}, balance={"type": "integer"})
JSON_V2 = json_account(owner={"type": "string"}, balance={"type": "integer"}, note={"type": "string"})
# balance becomes a string.
JSON_BAD = json_account(owner={"type": "string"}, balance={"type": "string"}, note={"type": "string"})


def scenario_evolve_types(url, p):
    """Register, evolve and reject with Protobuf and JSON Schema."""
    out = {}
    for kind, v1, v2, bad in [("proto", PROTO_V1, PROTO_V2, PROTO_BAD), ("json", JSON_V1, JSON_V2, JSON_BAD)]:
        typ = "PROTOBUF" if kind == "proto" else "JSON"
        s = "%s-evolve%s-value" % (p, kind)
        r = {}
        r["id1"] = err(lambda: fresh(url).register_schema(s, Schema(v1, typ)))
        r["id2"] = err(lambda: fresh(url).register_schema(s, Schema(v2, typ)))
        r["versions"] = err(lambda: fresh(url).get_versions(s))
        r["compat_bad"] = err(lambda: fresh(url).test_compatibility(s, Schema(bad, typ), verbose=True))
        r["reject"] = err(lambda: fresh(url).register_schema(s, Schema(bad, typ)))
        r["latest_type"] = err(lambda: fresh(url).get_latest_version(s).schema.schema_type)
        out[kind] = r
    return out


SCENARIOS = {
    "evolve_types": scenario_evolve_types,
    "evolve": scenario_evolve,
    "delete": scenario_delete,
    "config": scenario_config,
    "mode": scenario_mode,
    "references": scenario_references,
    "normalize": scenario_normalize,
}


def main():
    url, scenario, prefix = sys.argv[1:4]
    out = SCENARIOS[scenario](url, prefix)
    print(json.dumps(out, default=str))


if __name__ == "__main__":
    main()
