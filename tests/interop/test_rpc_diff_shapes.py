"""Unit tests of rpc_diff.py's shape comparison (no endpoint needed).

    tests/interop/.venv/bin/python -m unittest tests/interop/test_rpc_diff_shapes.py
"""

import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rpc_diff  # noqa: E402


def diffs(a, b):
    out = []
    rpc_diff.compare_envelope(a, b, out)
    return [(p, w) for p, w, _, _ in out]


def res(v, id_=1):
    return {"jsonrpc": "2.0", "id": id_, "result": v}


def err(code, msg="x"):
    return {"jsonrpc": "2.0", "id": 1, "error": {"code": code, "message": msg}}


H32 = "0x" + "ab" * 32
ADDR = "0x" + "12" * 20


class Shapes(unittest.TestCase):
    def test_quantities(self):
        self.assertEqual(diffs(res("0x1a"), res("0x5208")), [])
        self.assertEqual(diffs(res("0x0"), res("0x1bc16d674ec80000")), [])
        self.assertEqual(diffs(res("0x01"), res("0x1")), [("result", "hex kind")])  # leading zero
        self.assertEqual(diffs(res("0x"), res("0x0")), [("result", "hex kind")])  # empty is not zero
        self.assertEqual(diffs(res(26), res("0x1a")), [("result", "type")])

    def test_fixed_data(self):
        self.assertEqual(diffs(res(H32), res("0x" + "00" * 32)), [])
        self.assertEqual(diffs(res(H32[:-2]), res(H32)), [("result", "hex kind")])  # 31 bytes
        self.assertEqual(diffs(res(ADDR), res(H32)), [("result", "hex kind")])
        self.assertEqual(diffs(res("0x"), res("0x")), [])

    def test_signature_r_s_are_quantities(self):
        a = {"r": "0x" + "f" * 64, "s": "0x" + "1" * 63}
        b = {"r": "0x" + "1" * 63, "s": "0x" + "f" * 64}
        self.assertEqual(diffs(res(a), res(b)), [])

    def test_objects(self):
        self.assertEqual(
            diffs(res({"a": "0x1", "x": 1}), res({"a": "0x1", "blockTimestamp": 5})),
            [("result.x", "extra key"), ("result.blockTimestamp", "missing key")])
        self.assertEqual(diffs(res(None), res({"a": 1})), [("result", "type")])

    def test_arrays(self):
        self.assertEqual(diffs(res([]), res([])), [])
        self.assertEqual(diffs(res([{"a": 1}]), res([{"a": 1}, {"a": 2}])), [])
        self.assertEqual(diffs(res([{"a": 1}]), res([{"b": 1}])),
                         [("result.0.a", "extra key"), ("result.0.b", "missing key")])
        self.assertEqual(diffs(res([]), res([1])), [("result", "note: one array empty")])

    def test_errors(self):
        self.assertEqual(diffs(err(-32601, "a"), err(-32601, "b")), [])
        self.assertEqual(diffs(err(-32700), err(-32600)), [("error.code", "error code")])
        self.assertEqual(diffs(res("0x1"), err(-32000)), [("response", "result vs error")])

    def test_envelope(self):
        self.assertEqual(diffs(res("0x1", id_="1"), res("0x1")), [("id", "type")])
        self.assertEqual(diffs({"__nonjson__": "oops"}, res("0x1")), [("response", "non-JSON body")])


if __name__ == "__main__":
    unittest.main()
