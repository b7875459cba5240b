"""Print Apache Avro's own reader/writer compatibility cases as JSON.

This script imports avro.test.test_compatibility from the installed avro
package (pip install avro==1.12.2) and runs its TestCompatibility methods
with the compatibility checker and the assertions instrumented: every
(reader, writer) pair a test checks is recorded together with the verdict
the test asserts (not the verdict the Python checker computes) and, where
the test asserts them, the expected locations. Nothing of the module is
copied; it is imported from site-packages.

Output: a JSON list of objects {"test", "reader", "writer", "compatible",
"locations"} on stdout, deduplicated by (reader, writer).
"""

import json
import sys

import avro.test.test_compatibility as tc
from avro.compatibility import SchemaCompatibilityType


class _Recorder:
    """Stands in for ReaderWriterCompatibilityChecker inside the test module."""

    real = tc.ReaderWriterCompatibilityChecker
    log = []  # dicts, one per get_compatibility call

    def get_compatibility(self, reader, writer):
        result = self.real().get_compatibility(reader, writer)
        _Recorder.log.append(
            {"reader": reader, "writer": writer, "result": result,
             "compatible": None, "locations": set()})
        return result


def _last():
    return _Recorder.log[-1] if _Recorder.log else None


def _instrument(case):
    def assert_true(x, msg=None):
        if _last() is not None and isinstance(x, bool):
            _last()["compatible"] = True  # the test asserts are_compatible()

    def assert_false(x, msg=None):
        if _last() is not None and isinstance(x, bool):
            _last()["compatible"] = False  # the test asserts not are_compatible()

    def assert_is(a, b, msg=None):
        last = _last()
        if last is not None and a is last["result"].compatibility:
            last["compatible"] = b is SchemaCompatibilityType.compatible

    def assert_in(member, container, msg=None):
        last = _last()
        if last is not None and container is last["result"].locations:
            last["locations"].add(member)

    def assert_equal(a, b, msg=None):
        last = _last()
        if last is None:
            return
        locs = last["result"].locations
        if a is locs and isinstance(b, (set, list)):
            last["locations"].update(b)
        elif b is locs and isinstance(a, (set, list)):
            last["locations"].update(a)
        elif isinstance(a, str) and a.startswith("/") and b == "".join(locs):
            last["locations"].add(a)

    case.assertTrue = assert_true
    case.assertFalse = assert_false
    case.assertIs = assert_is
    case.assertIn = assert_in
    case.assertEqual = assert_equal


def _schema_json(schema):
    return json.dumps(schema.to_json(), sort_keys=False)


def main():
    tc.ReaderWriterCompatibilityChecker = _Recorder
    names = sorted(n for n in dir(tc.TestCompatibility) if n.startswith("test_"))
    out, seen = [], set()
    for name in names:
        start = len(_Recorder.log)
        case = tc.TestCompatibility(name)
        _instrument(case)
        getattr(case, name)()
        for rec in _Recorder.log[start:]:
            if rec["compatible"] is None:
                continue
            reader, writer = _schema_json(rec["reader"]), _schema_json(rec["writer"])
            if (reader, writer) in seen:
                continue
            seen.add((reader, writer))
            out.append({"test": name, "reader": reader, "writer": writer,
                        "compatible": rec["compatible"],
                        "locations": sorted(rec["locations"])})
    json.dump(out, sys.stdout, indent=1)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
