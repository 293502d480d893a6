#!/usr/bin/env python3
"""Differential JSON-RPC test: the same requests to two endpoints, shapes compared.

    tests/interop/.venv/bin/python tests/interop/rpc_diff.py NODE_URL ANVIL_URL \
        [--allowlist FILE] [--json-out FILE] [--verbose]

Both endpoints must serve the standard test mnemonic's dev accounts (0 and 1
funded) and the same chain id (start anvil with `--chain-id 1337`). Values are
never compared, only shapes:

  * a result's JSON type (null, bool, number, string, array, object);
  * for "0x" strings, the hex kind: a quantity ("0x1a", no leading zeros, "0x0"
    for zero) or data of N bytes ("0x" + 2N digits). 40, 64 and 512 digits are
    always data (address, hash / 32-byte word, bloom); a string that could be
    either (e.g. "0x5208") matches a quantity and data of its length;
  * for objects, the key sets (keys only on NODE: "extra key"; keys only on
    ANVIL: "missing key"), then the common keys recursively;
  * for arrays, the elements pairwise (lengths may differ: heights and timing
    differ between the two chains; one side empty and the other not is a note);
  * for errors, the error code (both messages are printed); a result on one
    side and an error on the other; the HTTP status.

It needs eth_account (from the venv, see scripts/install-interop-deps) only to
sign the transactions it sends; HTTP is plain urllib.

Exit status: 0 when every difference is in the allowlist (default
tests/interop/rpc_diff_allowlist.json), 1 otherwise, 2 on usage or connection
errors. Allowlist entries: {"request": GLOB, "path": GLOB, "what": KIND,
"reason": TEXT}; GLOB as in fnmatch ("*" matches anything), KIND one of the
"what" values printed in the table.
"""

import argparse
import fnmatch
import json
import os
import re
import sys

try:
    from eth_account import Account
except ImportError:  # pragma: no cover
    sys.exit("rpc_diff.py needs eth_account: run it with tests/interop/.venv/bin/python "
             "(scripts/install-interop-deps creates it)")

from interop_common import DEV0_KEY, DEV1_KEY, TIMEOUT_S, Unreachable, load_allowlist, post_json, wait_for_receipt

DEV0 = Account.from_key(DEV0_KEY).address  # 0xf39F...2266
DEV1 = Account.from_key(DEV1_KEY).address  # 0x7099...79C8
RECIPIENT = "0x000000000000000000000000000000000000dEaD"
UNKNOWN_HASH = "0x" + "ab" * 32
FAR_BLOCK = "0x7fffffff"
HERE = os.path.dirname(os.path.abspath(__file__))

MISSING = object()  # "params" key omitted from the request


# ---------------------------------------------------------------- transport ---

class Side:
    def __init__(self, label, url):
        self.label, self.url, self.ctx, self._id = label, url, {}, 0

    def post(self, body: bytes):
        """POST a body; returns (http_status, parsed JSON or {"__nonjson__": text})."""
        status, text = post_json(self.label, self.url, body, timeout=30)
        try:
            return status, json.loads(text)
        except ValueError:
            return status, {"__nonjson__": text.decode("utf-8", "replace")[:200]}

    def body(self, method, params):
        self._id += 1
        req = {"jsonrpc": "2.0", "id": self._id, "method": method}
        if params is not MISSING:
            req["params"] = params
        return req

    def call(self, method, params=()):
        """Plain call for setup; raises on an error response."""
        _, resp = self.post(json.dumps(self.body(method, list(params))).encode())
        if not isinstance(resp, dict) or "error" in resp or "result" not in resp:
            raise RuntimeError(f"{self.label}: {method}{list(params)} -> {resp}")
        return resp["result"]


# ------------------------------------------------------------------- shapes ---

HEX_RE = re.compile(r"^0x[0-9a-fA-F]*$")
# 20-byte addresses, 32-byte hashes/words, 256-byte blooms. A quantity that long
# (>= 2^156) does not occur in practice; shorter lengths stay ambiguous (e.g. a
# 16-digit balance is a quantity, a block nonce "0x0000000000000000" is data8).
FIXED_DATA_DIGITS = (40, 64, 512)
# ...except these 256-bit quantities: signature r and s (a quantity, so 63 digits
# or fewer when the top nibble is 0).
QUANTITY_KEYS = ("r", "s")


def hex_kinds(s, key=None):
    """Possible readings of a "0x" string: {"quantity", "dataN"}; None if not hex."""
    if not isinstance(s, str) or not HEX_RE.match(s):
        return None
    digits = s[2:]
    if len(digits) in FIXED_DATA_DIGITS and key not in QUANTITY_KEYS:  # address, hash, bloom
        return {f"data{len(digits) // 2}"}
    kinds = set()
    if digits and (digits == "0" or digits[0] != "0"):
        kinds.add("quantity")
    if len(digits) % 2 == 0:
        kinds.add(f"data{len(digits) // 2}")
    return kinds


def jtype(v):
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, (int, float)):
        return "number"
    if isinstance(v, str):
        return "string"
    if isinstance(v, list):
        return "array"
    return "object"


def describe(v, key=None):
    t = jtype(v)
    if t == "string":
        k = hex_kinds(v, key)
        if k is None:
            return "string"
        if not k:
            return f"bad-hex({v[:12]})"
        if "quantity" in k:
            return "quantity"
        data = [x for x in k if x.startswith("data")]
        return data[0] if data else "quantity"
    if t == "array":
        return f"array[{len(v)}]"
    if t == "object":
        return "object{" + ",".join(sorted(v)) + "}"
    return t


def compare(a, b, path, out):
    """Append (path, what, node_desc, anvil_desc) for each shape difference."""
    key = path.rsplit(".", 1)[-1]
    ta, tb = jtype(a), jtype(b)
    if ta != tb:
        out.append((path, "type", describe(a, key), describe(b, key)))
        return
    if ta == "string":
        ka, kb = hex_kinds(a, key), hex_kinds(b, key)
        if ka is None and kb is None:
            return
        if ka is None or kb is None or not (ka & kb):
            out.append((path, "hex kind", describe(a, key), describe(b, key)))
    elif ta == "array":
        if bool(a) != bool(b):
            out.append((path, "note: one array empty", describe(a), describe(b)))
        for i in range(min(len(a), len(b))):
            compare(a[i], b[i], f"{path}.{i}", out)
    elif ta == "object":
        for k in sorted(set(a) - set(b)):
            out.append((f"{path}.{k}", "extra key", describe(a[k]), "-"))
        for k in sorted(set(b) - set(a)):
            out.append((f"{path}.{k}", "missing key", "-", describe(b[k])))
        for k in sorted(set(a) & set(b)):
            compare(a[k], b[k], f"{path}.{k}", out)


def err_summary(resp):
    e = resp.get("error") if isinstance(resp, dict) else None
    if isinstance(e, dict):
        return f"{e.get('code')} {e.get('message')!r}"
    return None


def compare_envelope(ra, rb, out):
    """Compare one JSON-RPC response object (or non-JSON body) from each side."""
    if not isinstance(ra, dict) or not isinstance(rb, dict):
        compare(ra, rb, "response", out)
        return
    if "__nonjson__" in ra or "__nonjson__" in rb:
        if ("__nonjson__" in ra) != ("__nonjson__" in rb):
            out.append(("response", "non-JSON body", ra.get("__nonjson__", "json")[:60], rb.get("__nonjson__", "json")[:60]))
        return
    ea, eb = "error" in ra, "error" in rb
    if ea and eb:
        ca = ra["error"].get("code") if isinstance(ra["error"], dict) else None
        cb = rb["error"].get("code") if isinstance(rb["error"], dict) else None
        if ca != cb:
            out.append(("error.code", "error code", str(ca), str(cb)))
    elif ea != eb:
        out.append(("response", "result vs error",
                    err_summary(ra) or ("result " + describe(ra.get("result"))),
                    err_summary(rb) or ("result " + describe(rb.get("result")))))
    else:
        compare(ra.get("result", MISSING_RESULT), rb.get("result", MISSING_RESULT), "result", out)
    for k in ("jsonrpc", "id"):
        if k in ra or k in rb:
            if (k in ra) != (k in rb):
                out.append((k, "extra key" if k in ra else "missing key", describe(ra.get(k)), describe(rb.get(k))))
            else:
                compare(ra[k], rb[k], k, out)
    for k in sorted((set(ra) | set(rb)) - {"jsonrpc", "id", "result", "error"}):
        if (k in ra) != (k in rb):
            out.append((k, "extra key" if k in ra else "missing key", describe(ra.get(k)), describe(rb.get(k))))


MISSING_RESULT = "<no result key>"


# -------------------------------------------------------------------- cases ---

class Case:
    """name; for each side a request built from side.ctx: ("call", method, params),
    ("raw", bytes) or ("batch", [(method, params), ...])."""

    def __init__(self, name, build, show_errors=False):
        self.name, self.build, self.show_errors = name, build, show_errors


def call(name, method, params=(), show_errors=False):
    def build(ctx):
        p = params(ctx) if callable(params) else params
        return ("call", method, list(p) if isinstance(p, (list, tuple)) else p)
    return Case(name, build, show_errors)


def run_case(case, sides):
    resps, statuses = [], []
    for s in sides:
        kind, *rest = case.build(s.ctx)
        if kind == "call":
            body = json.dumps(s.body(rest[0], rest[1])).encode()
        elif kind == "raw":
            body = rest[0]
        else:
            body = json.dumps([s.body(m, list(p)) for m, p in rest[0]]).encode()
        status, resp = s.post(body)
        if isinstance(resp, list):  # batch: pair up by id order
            resp = sorted(resp, key=lambda r: str(r.get("id")) if isinstance(r, dict) else "")
        statuses.append(status)
        resps.append(resp)
    out = []
    if statuses[0] != statuses[1]:
        out.append(("http", "http status", str(statuses[0]), str(statuses[1])))
    ra, rb = resps
    if isinstance(ra, list) and isinstance(rb, list):
        if len(ra) != len(rb):
            out.append(("batch", "batch length", str(len(ra)), str(len(rb))))
        for i, (x, y) in enumerate(zip(ra, rb)):
            sub = []
            compare_envelope(x, y, sub)
            out += [(f"batch.{i}.{p}", w, da, db) for p, w, da, db in sub]
    else:
        compare_envelope(ra, rb, out)
    return resps, statuses, out


def sign(tx, key):
    return Account.sign_transaction(tx, key).raw_transaction.to_0x_hex()


def raw_tx_case(name, make_tx):
    """eth_sendRawTransaction of a tx built per side: make_tx(ctx) -> (tx dict, key) or a hex string."""
    def build(ctx):
        made = make_tx(ctx)
        raw = made if isinstance(made, str) else sign(*made)
        return ("call", "eth_sendRawTransaction", [raw])
    return Case(f"eth_sendRawTransaction({name})", build, show_errors=True)


def tx1559(ctx, **kw):
    tx = {"type": 2, "chainId": ctx["chain_id"], "nonce": ctx["nonce0"], "to": RECIPIENT, "value": 1,
          "gas": 21000, "maxFeePerGas": ctx["base_fee"] * 2 + 10**9, "maxPriorityFeePerGas": 10**9}
    tx.update(kw)
    return tx


def read_only_cases():
    tx_call = {"from": DEV0, "to": RECIPIENT, "value": "0x1"}
    fresh = Account.create().address
    return [
        call("web3_clientVersion", "web3_clientVersion"),
        call("net_version", "net_version"),
        call("net_listening", "net_listening"),
        call("eth_chainId", "eth_chainId"),
        call("eth_blockNumber", "eth_blockNumber"),
        call("eth_getBalance(latest)", "eth_getBalance", [DEV0, "latest"]),
        call("eth_getBalance(pending)", "eth_getBalance", [DEV0, "pending"]),
        call("eth_getBalance(earliest)", "eth_getBalance", [DEV0, "earliest"]),
        call("eth_getBalance(0x0)", "eth_getBalance", [DEV0, "0x0"]),
        call("eth_getBalance(fresh address)", "eth_getBalance", [fresh, "latest"]),
        call("eth_getTransactionCount(latest)", "eth_getTransactionCount", [DEV0, "latest"]),
        call("eth_getTransactionCount(pending)", "eth_getTransactionCount", [DEV0, "pending"]),
        call("eth_gasPrice", "eth_gasPrice"),
        call("eth_maxPriorityFeePerGas", "eth_maxPriorityFeePerGas"),
        call("eth_feeHistory(4,latest,[25,75])", "eth_feeHistory", [4, "latest", [25, 75]]),
        call("eth_feeHistory(4,latest,[])", "eth_feeHistory", [4, "latest", []]),
        call("eth_getBlockByNumber(latest,false)", "eth_getBlockByNumber", ["latest", False]),
        call("eth_getBlockByNumber(latest,true)", "eth_getBlockByNumber", ["latest", True]),
        call("eth_getBlockByNumber(0x0,false)", "eth_getBlockByNumber", ["0x0", False]),
        call("eth_getBlockByNumber(earliest,false)", "eth_getBlockByNumber", ["earliest", False]),
        call("eth_getBlockByNumber(safe,false)", "eth_getBlockByNumber", ["safe", False]),
        call("eth_getBlockByNumber(finalized,false)", "eth_getBlockByNumber", ["finalized", False]),
        call("eth_getBlockByNumber(non-existent)", "eth_getBlockByNumber", [FAR_BLOCK, False]),
        call("eth_getBlockByHash(genesis,false)", "eth_getBlockByHash", lambda c: [c["genesis_hash"], False]),
        call("eth_getBlockByHash(unknown)", "eth_getBlockByHash", [UNKNOWN_HASH, False]),
        call("eth_getTransactionByHash(unknown)", "eth_getTransactionByHash", [UNKNOWN_HASH]),
        call("eth_getTransactionReceipt(unknown)", "eth_getTransactionReceipt", [UNKNOWN_HASH]),
        call("eth_syncing", "eth_syncing"),
        call("eth_getCode(EOA)", "eth_getCode", [DEV0, "latest"]),
        call("eth_getStorageAt(EOA,0)", "eth_getStorageAt", [DEV0, "0x0", "latest"]),
        call("eth_getProof(EOA,[])", "eth_getProof", [DEV0, [], "latest"]),
        call("eth_estimateGas(transfer)", "eth_estimateGas", [tx_call]),
        call("eth_call(transfer)", "eth_call", [tx_call, "latest"]),
        call("eth_getLogs(0x0..0x0)", "eth_getLogs", [{"fromBlock": "0x0", "toBlock": "0x0"}]),
        call("eth_getLogs(latest..latest)", "eth_getLogs", [{"fromBlock": "latest", "toBlock": "latest"}]),
        call("eth_getBlockTransactionCountByNumber(latest)", "eth_getBlockTransactionCountByNumber", ["latest"]),
    ]


def after_tx_cases():
    return [
        call("eth_getTransactionByHash(sent)", "eth_getTransactionByHash", lambda c: [c["tx_hash"]]),
        call("eth_getTransactionReceipt(sent)", "eth_getTransactionReceipt", lambda c: [c["tx_hash"]]),
        call("eth_getBlockByNumber(tx block,true)", "eth_getBlockByNumber", lambda c: [c["tx_block"], True]),
        call("eth_getBlockByHash(tx block,false)", "eth_getBlockByHash", lambda c: [c["tx_block_hash"], False]),
        call("eth_getBlockByNumber(latest,true) after tx", "eth_getBlockByNumber", ["latest", True]),
        call("eth_getTransactionByBlockNumberAndIndex(tx block,0)", "eth_getTransactionByBlockNumberAndIndex",
             lambda c: [c["tx_block"], hex(c["tx_index"])]),
        call("eth_getBlockReceipts(tx block)", "eth_getBlockReceipts", lambda c: [c["tx_block"]]),
        call("eth_getLogs(blockHash of tx block)", "eth_getLogs", lambda c: [{"blockHash": c["tx_block_hash"]}]),
        call("eth_getTransactionCount(latest) after tx", "eth_getTransactionCount", [DEV0, "latest"]),
    ]


def bad_cases():
    e = True
    return [
        call("unknown method", "foo_doesNotExist", [], e),
        call("eth_getBalance(number as address)", "eth_getBalance", [5, "latest"], e),
        call("eth_getBalance(bad address hex)", "eth_getBalance", ["0x1234", "latest"], e),
        call("eth_getBalance(no params key)", "eth_getBalance", MISSING, e),
        call("eth_getBalance(params [])", "eth_getBalance", [], e),
        call("eth_getBalance(address only)", "eth_getBalance", [DEV0], e),
        call("eth_getBalance(future block)", "eth_getBalance", [DEV0, FAR_BLOCK], e),
        call("eth_getBlockByNumber(bad tag)", "eth_getBlockByNumber", ["lastest", False], e),
        call("eth_getBlockByNumber(params object)", "eth_getBlockByNumber", {"block": "latest"}, e),
        Case("malformed JSON body", lambda c: ("raw", b'{"jsonrpc":"2.0","id":1,"method":'), e),
        Case("JSON that is not a request", lambda c: ("raw", b'{"foo":1}'), e),
        Case("empty batch", lambda c: ("raw", b"[]"), e),
        Case("batch(good + unknown method)",
             lambda c: ("batch", [("eth_chainId", []), ("foo_doesNotExist", [])]), e),
        raw_tx_case("0x", lambda c: "0x"),
        raw_tx_case("garbage bytes", lambda c: "0xdeadbeef"),
        raw_tx_case("not hex", lambda c: "hello"),
        raw_tx_case("wrong chain id, eip1559", lambda c: (tx1559(c, chainId=1), DEV0_KEY)),
        raw_tx_case("nonce too low", lambda c: (tx1559(c, nonce=c["nonce0"] - 1), DEV0_KEY)),
        raw_tx_case("insufficient funds", lambda c: (tx1559(c, nonce=0, value=10**18), c["poor_key"])),
        raw_tx_case("fee cap below base fee",
                    lambda c: (tx1559(c, maxFeePerGas=max(c["base_fee"] // 2, 0), maxPriorityFeePerGas=0), DEV0_KEY)),
        raw_tx_case("gas limit above block limit", lambda c: (tx1559(c, gas=c["gas_limit"] + 1), DEV0_KEY)),
        raw_tx_case("intrinsic gas too low", lambda c: (tx1559(c, gas=20000), DEV0_KEY)),
        raw_tx_case("tip above fee cap",
                    lambda c: (tx1559(c, maxFeePerGas=c["base_fee"] * 2 + 10, maxPriorityFeePerGas=c["base_fee"] * 2 + 11), DEV0_KEY)),
        # Last, and from dev account 1, since anvil accepts these: a legacy tx
        # without EIP-155 replay protection (mined), and a legacy EIP-155 tx
        # for another chain id (accepted into the pool, then dropped unmined).
        raw_tx_case("legacy without chain id (pre-EIP-155)",
                    lambda c: ({"nonce": c["nonce1"], "to": RECIPIENT, "value": 1, "gas": 21000,
                                "gasPrice": c["base_fee"] * 2 + 10**9}, DEV1_KEY)),
        raw_tx_case("wrong chain id, legacy EIP-155",
                    lambda c: ({"chainId": 1, "nonce": c["nonce1"] + 1, "to": RECIPIENT, "value": 1, "gas": 21000,
                                "gasPrice": c["base_fee"] * 2 + 10**9}, DEV1_KEY)),
    ]


# -------------------------------------------------------------------- setup ---

def refresh_ctx(s):
    c = s.ctx
    c["chain_id"] = int(s.call("eth_chainId"), 16)
    latest = s.call("eth_getBlockByNumber", ["latest", False])
    c["base_fee"] = int(latest.get("baseFeePerGas") or "0x0", 16)
    c["gas_limit"] = int(latest["gasLimit"], 16)
    c["nonce0"] = int(s.call("eth_getTransactionCount", [DEV0, "pending"]), 16)
    c["nonce1"] = int(s.call("eth_getTransactionCount", [DEV1, "pending"]), 16)
    c.setdefault("poor_key", Account.create().key)


def send_transfer(s):
    """One signed EIP-1559 transfer; waits for its receipt and fills ctx."""
    refresh_ctx(s)
    raw = sign(tx1559(s.ctx, value=12345), DEV0_KEY)
    status, resp = s.post(json.dumps(s.body("eth_sendRawTransaction", [raw])).encode())
    if not isinstance(resp, dict) or "result" not in resp:
        raise RuntimeError(f"{s.label}: eth_sendRawTransaction of a valid transfer failed: {resp}")
    h = resp["result"]
    rc = wait_for_receipt(s.call, h, TIMEOUT_S, 0.25)
    if rc is None:
        raise RuntimeError(f"{s.label}: no receipt for {h} after {TIMEOUT_S}s")
    if rc.get("status") != "0x1":
        raise RuntimeError(f"{s.label}: transfer {h} failed: {rc}")
    s.ctx.update(tx_hash=h, tx_block=rc["blockNumber"], tx_block_hash=rc["blockHash"],
                 tx_index=int(rc["transactionIndex"], 16))
    return status, resp


# --------------------------------------------------------------------- main ---

def allowed(entries, request, path, what):
    for e in entries:
        if fnmatch.fnmatchcase(request, e["request"]) and fnmatch.fnmatchcase(path, e["path"]) and e["what"] == what:
            e["_used"] = True
            return e
    return None


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("node_url")
    ap.add_argument("anvil_url")
    ap.add_argument("--allowlist", default=os.path.join(HERE, "rpc_diff_allowlist.json"))
    ap.add_argument("--json-out", help="write the full report (both responses for every request) here")
    ap.add_argument("--verbose", "-v", action="store_true", help="print both raw responses for every difference")
    args = ap.parse_args()

    sides = [Side("node", args.node_url), Side("anvil", args.anvil_url)]
    entries = load_allowlist(args.allowlist, ("request", "path", "what", "reason"))
    rows, report = [], []

    def record(name, resps, statuses, diffs, show_errors):
        unallowed = []
        for path, what, da, db in diffs:
            if what.startswith("note"):
                continue
            if not allowed(entries, name, path, what):
                unallowed.append((path, what, da, db))
        def summ(r):
            if isinstance(r, list):  # batch: one entry per response
                return "[" + ", ".join(err_summary(x) or "result" for x in r) + "]"
            return err_summary(r)
        errs = [summ(r) for r in resps]
        rows.append((name, diffs, unallowed, errs if (show_errors or any(errs)) else None))
        report.append({"request": name, "http": statuses, "responses": resps,
                       "differences": [dict(path=p, what=w, node=a, anvil=b) for p, w, a, b in diffs]})
        if args.verbose and diffs:
            for s, r in zip(sides, resps):
                print(f"  [{name}] {s.label}: {json.dumps(r)[:2000]}")

    try:
        for s in sides:
            refresh_ctx(s)
            s.ctx["genesis_hash"] = s.call("eth_getBlockByNumber", ["0x0", False])["hash"]
        if sides[0].ctx["chain_id"] != sides[1].ctx["chain_id"]:
            print(f"warning: chain ids differ: node {sides[0].ctx['chain_id']}, anvil {sides[1].ctx['chain_id']}")

        for case in read_only_cases():
            record(case.name, *run_case(case, sides), case.show_errors)

        sent = []
        for s in sides:
            sent.append(send_transfer(s))
        diffs = []
        if sent[0][0] != sent[1][0]:
            diffs.append(("http", "http status", str(sent[0][0]), str(sent[1][0])))
        compare_envelope(sent[0][1], sent[1][1], diffs)
        record("eth_sendRawTransaction(valid eip1559 transfer)", [x[1] for x in sent], [x[0] for x in sent], diffs, False)

        for case in after_tx_cases():
            record(case.name, *run_case(case, sides), case.show_errors)

        for s in sides:
            refresh_ctx(s)
        for case in bad_cases():
            record(case.name, *run_case(case, sides), case.show_errors)
    except Unreachable as e:
        print(f"rpc_diff: cannot reach {e}", file=sys.stderr)
        return 2
    except RuntimeError as e:
        print(f"rpc_diff: setup failed: {e}", file=sys.stderr)
        return 2

    # ---- table ----
    width = max(len(r[0]) for r in rows) + 2
    n_diff = n_allowed = 0
    print(f"{'REQUEST':<{width}}RESULT")
    for name, diffs, unallowed, errs in rows:
        real = [d for d in diffs if not d[1].startswith("note")]
        if not real:
            verdict = "match"
        elif unallowed:
            verdict = "DIFF"
            n_diff += 1
        else:
            verdict = "allowed"
            n_allowed += 1
        print(f"{name:<{width}}{verdict}")
        if errs:
            print(f"{'':<{width}}  node:  {errs[0] or 'result'}")
            print(f"{'':<{width}}  anvil: {errs[1] or 'result'}")
        for d in diffs:
            path, what, da, db = d
            tag = "" if what.startswith("note") or d in unallowed else "(allowed) "
            print(f"{'':<{width}}  {tag}{path}: {what}: node {da} | anvil {db}")
    unused = [e for e in entries if not e.get("_used")]
    for e in unused:
        print(f"note: allowlist entry not used: {e['request']} / {e['path']} / {e['what']}")
    print(f"\n{len(rows)} requests: {len(rows) - n_diff - n_allowed} match, "
          f"{n_allowed} allowed differences, {n_diff} with differences not in the allowlist")

    if args.json_out:
        with open(args.json_out, "w") as f:
            json.dump(report, f, indent=1)
    return 1 if n_diff else 0


if __name__ == "__main__":
    sys.exit(main())
