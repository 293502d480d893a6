#!/usr/bin/env python3
"""Differential EVM conformance: the same transactions and calls to two chains.

    tests/interop/.venv/bin/python tests/interop/evm_diff.py NODE_URL ANVIL_URL ARTIFACT_DIR \
        [--allowlist FILE] [--verbose]

NODE_URL is `openledger node --dev --block-time 0`; ANVIL_URL is
`anvil --chain-id 1337 --hardfork cancun --gas-limit 1000000000 --base-fee
1000000000` (the node's dev genesis: chain id 1337, a 10^9 gas limit, an
initial base fee of 1 gwei). ARTIFACT_DIR holds the tests/interop/contracts/
Diff*.sol contracts compiled by solc_compile.mjs.

Both chains start fresh and mine one block per transaction. Every
transaction is signed once by dev account 0 and the same raw bytes go to both,
so nonces, hashes and contract addresses line up (when one chain refuses a
transaction the other mines, a self-transfer fills the nonce gap there). Per
check it compares:

  tx        the receipt: status, gasUsed, cumulativeGasUsed, contractAddress,
            blockNumber, type, effectiveGasPrice and the logs (address, topics,
            data), each a field of its own;
  estimate  eth_estimateGas of that transaction before it is sent: the value,
            or the error code and revert data;
  call      eth_call: the return data, or the error code, the revert data and
            the class of the message (revert, out of gas, nonce too low, ...);
  refused   eth_sendRawTransaction of an invalid transaction: the error code
            and the class of the message;
  state     eth_getCode, eth_getStorageAt and eth_getBalance of contracts and
            fresh addresses after the transactions (never the EOAs that pay
            fees: their balances depend on each chain's fee policy);
  env       the block environment a contract saw (CHAINID, NUMBER, GASLIMIT,
            ...) across chains where comparable, and TIMESTAMP, BASEFEE,
            COINBASE and GASPRICE against each chain's own block and receipt.

Differences listed in the allowlist (default evm_diff_allowlist.json next to
this file; entries {"check": GLOB, "field": GLOB, "reason": TEXT}, fnmatch
globs on the check name and field printed) are accepted; an entry no
difference used is reported as stale. One line per check, then a summary.

Exit status: 0 when every difference is allowlisted, 1 otherwise, 2 on usage
or connection errors.
"""

import argparse
import fnmatch
import json
import os
import sys

try:
    from eth_abi import decode as abi_decode
    from eth_account import Account
    from eth_keys import keys
    from eth_utils import keccak
    from web3 import Web3
except ImportError:  # pragma: no cover
    sys.exit("evm_diff.py needs web3.py: run it with tests/interop/.venv/bin/python "
             "(scripts/install-interop-deps creates it)")

from interop_common import (DEV0_KEY, DEV1_KEY, Unreachable, load_allowlist, load_artifact, post_json,
                            wait_for_receipt, word)

HERE = os.path.dirname(os.path.abspath(__file__))
DEV0 = Account.from_key(DEV0_KEY).address
CHAIN_ID = 1337
GAS = 3_000_000
MAX_FEE = 50 * 10**9
TIP = 10**9
RECEIPT_TIMEOUT_S = 30
# Fresh addresses nothing else touches: beneficiaries of value and SELFDESTRUCT.
BENEFICIARY = Web3.to_checksum_address("0x00000000000000000000000000000000000beef1")
BENEFICIARY2 = Web3.to_checksum_address("0x00000000000000000000000000000000000beef2")
PAYEE = Web3.to_checksum_address("0x00000000000000000000000000000000000beef3")
# The node's system contracts (precompiles at 0x...1001 to 0x...1007); anvil has none.
SYSTEM_PRECOMPILES = [Web3.to_checksum_address(f"0x{0x1000 + i:040x}") for i in range(1, 8)]
INIT_CODE_LIMIT = 49152
CODE_LIMIT = 24576


class Desync(Exception):
    """A transaction one chain accepted was never mined: the nonces can no
    longer line up, so the rest of the run would only repeat this failure."""


# ---------------------------------------------------------------- transport ---

class Side:
    """One chain's JSON-RPC endpoint."""

    def __init__(self, label, url):
        self.label, self.url, self._id = label, url, 0

    def rpc(self, method, params):
        """(result, None) or (None, error object)."""
        self._id += 1
        body = json.dumps({"jsonrpc": "2.0", "id": self._id, "method": method, "params": params}).encode()
        _, text = post_json(self.label, self.url, body, timeout=60)
        try:
            resp = json.loads(text)
        except ValueError:
            raise Unreachable(f"{self.label}: {method} answered non-JSON: {text[:200]!r}") from None
        if "error" in resp:
            err = resp["error"] if isinstance(resp["error"], dict) else {"code": None, "message": str(resp["error"])}
            return None, err
        return resp.get("result"), None

    def call(self, method, params):
        result, err = self.rpc(method, params)
        if err is not None:
            raise RuntimeError(f"{self.label}: {method}{params} -> {err}")
        return result

    def receipt(self, tx_hash):
        return wait_for_receipt(self.call, tx_hash, RECEIPT_TIMEOUT_S, 0.05)


# ---------------------------------------------------------- classification ---

# The class of an error message, so "execution reverted: x" and "execution
# reverted" compare equal while "out of gas" does not.
MESSAGE_CLASSES = [
    ("nonce too low", ("nonce too low", "nonce is too low", "nonce to low")),
    ("insufficient funds", ("insufficient funds", "insufficient balance", "lack of funds")),
    ("intrinsic gas too low", ("intrinsic gas", "gas too low", "call gas cost", "lower than intrinsic")),
    ("init code too big", ("initcode", "init code", "max initcode size", "createinitcodesizelimit")),
    ("gas limit above block", ("exceeds block gas limit", "block gas limit", "gas limit reached",
                               "caller gas limit", "gas limit too high", "exceeds the block")),
    ("fee cap below base fee", ("less than block base fee", "below base fee", "max fee per gas less",
                                "fee cap less than", "feecap", "gas price is less than basefee",
                                "lower than base fee")),
    ("tip above fee cap", ("priority fee", "tip above fee cap", "tip higher", "maxpriorityfeepergas")),
    ("code too large", ("createcontractsizelimit", "max code size", "code size limit")),
    ("code starts with 0xEF", ("createcontractstartingwithef", "starting with 0xef", "ef prefix")),
    ("precompile failure", ("precompileerror", "precompile")),
    ("out of gas", ("out of gas", "outofgas", "gas required exceeds", "gas too low")),
    ("revert", ("revert",)),
    ("invalid opcode", ("invalid opcode", "invalidfeopcode", "opcode", "invalid")),
]


def message_class(message):
    m = (message or "").lower()
    for name, needles in MESSAGE_CLASSES:
        if any(n in m for n in needles):
            return name
    return "other: " + (message or "")[:60]


def error_view(err):
    """The comparable parts of a JSON-RPC error: code, data, message class."""
    data = err.get("data")
    if isinstance(data, dict):  # some servers wrap revert data as {"data": "0x.."}
        data = data.get("data")
    return {"code": err.get("code"), "data": data, "class": message_class(err.get("message"))}


def norm_hex(v):
    return v.lower() if isinstance(v, str) else v


def log_view(log):
    return {"address": norm_hex(log.get("address")),
            "topics": [norm_hex(t) for t in log.get("topics", [])],
            "data": norm_hex(log.get("data"))}


def short(v, limit=140):
    text = v if isinstance(v, str) else json.dumps(v)
    return text if len(text) <= limit else text[:limit] + f"...({len(text)} chars)"


# ------------------------------------------------------------------- report ---

class Report:
    """Collects per-check results against the allowlist and prints them."""

    def __init__(self, entries, verbose):
        self.entries, self.verbose = entries, verbose
        self.checks = self.allowed = 0
        self.failures = []

    def allowed_by(self, check, field):
        for e in self.entries:
            if fnmatch.fnmatchcase(check, e["check"]) and fnmatch.fnmatchcase(field, e["field"]):
                e["_used"] = True
                return e
        return None

    def compare(self, check, fields):
        """fields: [(field, node value, anvil value)]. Prints one line, then the differences."""
        self.checks += 1
        diffs = [(f, a, b) for f, a, b in fields if a != b]
        lines = []
        state = "same"
        for field, a, b in diffs:
            entry = self.allowed_by(check, field)
            if entry:
                self.allowed += 1
                lines.append(f"      allowed {field}: node {short(a)} | anvil {short(b)}  ({entry['reason'][:90]})")
                state = "allowed" if state == "same" else state
            else:
                self.failures.append((check, field, a, b))
                lines.append(f"      DIFF    {field}: node {short(a, 400)} | anvil {short(b, 400)}")
                state = "DIFF"
        names = ",".join(f for f, _, _ in fields)
        print(f"{state:8} {check}  [{names}]")
        for line in lines:
            print(line)
        if self.verbose and not diffs:
            for f, a, _ in fields:
                print(f"      {f} = {short(a)}")

    def fail(self, check, why):
        self.checks += 1
        self.failures.append((check, "-", why, ""))
        print(f"{'DIFF':8} {check}  {why}")

    def summary(self):
        stale = [e for e in self.entries if not e.get("_used")]
        print()
        print(f"{self.checks} checks: {self.checks - len({c for c, *_ in self.failures})} without "
              f"unlisted differences, {self.allowed} allowlisted differences, "
              f"{len(self.failures)} unlisted differences")
        for e in stale:
            print(f"note: allowlist entry not used: {e['check']} / {e['field']}")
        for check, field, a, b in self.failures:
            print(f"UNLISTED {check} {field}: node {short(a, 400)} | anvil {short(b, 400)}")
        return not self.failures


# ---------------------------------------------------------------- contracts ---

class Artifacts:
    def __init__(self, directory):
        self.dir = directory
        self.w3 = Web3()
        self._cache = {}

    def load(self, name):
        if name not in self._cache:
            self._cache[name] = load_artifact(self.dir, name)
        return self._cache[name]

    def contract(self, name):
        art = self.load(name)
        return self.w3.eth.contract(abi=art["abi"], bytecode=art["bytecode"])

    def deploy_data(self, name, *args):
        art = self.load(name)
        if args:
            return self.contract(name).constructor(*args).data_in_transaction
        return art["bytecode"]

    def calldata(self, name, fn, *args):
        return self.contract(name).encode_abi(fn, args=list(args))


def sized_init_code(size):
    """Init code returning `size` zero bytes: PUSH3 size PUSH1 0 RETURN."""
    return "0x62" + size.to_bytes(3, "big").hex() + "6000f3"


# ------------------------------------------------------------------- runner ---

class Runner:
    def __init__(self, sides, artifacts, report):
        self.sides, self.art, self.report = sides, artifacts, report
        self.nonce = 0
        self.addresses = {}  # name -> address (the same on both chains)
        self.receipts = {}   # check name -> (node receipt, anvil receipt)

    # -- transactions --

    def sign(self, to, data="0x", value=0, gas=GAS, nonce=None, key=DEV0_KEY, tx_type=2, access_list=None,
             **fees):
        """Signs an EIP-1559 transaction (tx_type 2), an EIP-2930 one (1, with
        `access_list`) or a legacy EIP-155 one (0)."""
        tx = {"chainId": CHAIN_ID, "nonce": self.nonce if nonce is None else nonce, "gas": gas, "value": value,
              "data": data}
        if tx_type == 2:
            tx.update(type=2, maxFeePerGas=fees.get("max_fee", MAX_FEE), maxPriorityFeePerGas=fees.get("tip", TIP))
        else:
            tx["gasPrice"] = fees.get("max_fee", MAX_FEE)
        if tx_type == 1:
            tx.update(type=1, accessList=access_list or [])
        if to is not None:
            tx["to"] = Web3.to_checksum_address(to)
        return Account.sign_transaction(tx, key).raw_transaction.to_0x_hex()

    def call_object(self, to, data="0x", value=0, gas=None, sender=DEV0):
        obj = {"from": sender, "data": data, "value": hex(value)}
        if to is not None:
            obj["to"] = to
        if gas is not None:
            obj["gas"] = hex(gas)
        return obj

    def send_both(self, raw):
        """eth_sendRawTransaction on both; [(hash, None) | (None, error)]."""
        return [s.rpc("eth_sendRawTransaction", [raw]) for s in self.sides]

    def fill_nonce(self, side, nonce):
        """A self-transfer at `nonce` on one side, so the nonces line up again."""
        raw = self.sign(DEV0, gas=21000, nonce=nonce)
        h, err = side.rpc("eth_sendRawTransaction", [raw])
        if err is None:
            side.receipt(h)

    def tx(self, check, to, data="0x", value=0, gas=GAS, estimate=True, logs=True, name=None, **kind):
        """Sends one transaction to both chains and compares the receipts;
        `kind`: tx_type and access_list, as for `sign`."""
        if estimate:
            self.estimate(f"estimate {check}", to, data, value)
        raw = self.sign(to, data, value, gas, **kind)
        sent = self.send_both(raw)
        accepted = [err is None for _, err in sent]
        if not all(accepted):
            views = [error_view(err) if err else {"accepted": h} for h, err in sent]
            self.report.compare(f"tx {check}", [("send", views[0], views[1])])
            for side, ok in zip(self.sides, accepted):
                if ok and side.receipt(sent[accepted.index(True)][0]) is None:
                    raise Desync(f"{side.label} accepted tx {check!r} but never mined it")
            if any(accepted):
                for side, ok in zip(self.sides, accepted):
                    if not ok:
                        self.fill_nonce(side, self.nonce)
                self.nonce += 1
            return None
        self.nonce += 1
        receipts = [s.receipt(h) for s, (h, _) in zip(self.sides, sent)]
        if None in receipts:
            self.report.fail(f"tx {check}", f"no receipt within {RECEIPT_TIMEOUT_S}s: "
                             f"node {receipts[0] is not None}, anvil {receipts[1] is not None}")
            raise Desync(f"tx {check!r} was not mined on both chains")
        a, b = receipts
        fields = [(k, norm_hex(a.get(k)), norm_hex(b.get(k)))
                  for k in ("status", "gasUsed", "cumulativeGasUsed", "contractAddress", "blockNumber",
                            "type", "effectiveGasPrice")]
        if logs:
            la, lb = [log_view(x) for x in a.get("logs", [])], [log_view(x) for x in b.get("logs", [])]
            fields.append(("logs.count", len(la), len(lb)))
            for i in range(max(len(la), len(lb))):
                x = la[i] if i < len(la) else None
                y = lb[i] if i < len(lb) else None
                fields.append((f"logs.{i}", x, y))
        self.report.compare(f"tx {check}", fields)
        self.receipts[check] = (a, b)
        if name and a.get("contractAddress"):
            self.addresses[name] = Web3.to_checksum_address(a["contractAddress"])
        return a, b

    def deploy(self, name, *args, value=0):
        return self.tx(f"deploy {name}", None, self.art.deploy_data(name, *args), value, name=name)

    def refused(self, check, raw, shared_nonce=True):
        """A transaction both chains should refuse: error code and message class.
        `shared_nonce`: signed by dev account 0 at the shared nonce (so an
        acceptance must be mined, and filled on the other side)."""
        sent = self.send_both(raw)
        views = []
        for (h, err) in sent:
            views.append({"code": err.get("code"), "class": message_class(err.get("message"))}
                         if err else {"accepted": h})
        msgs = " | ".join(f"{s.label}: {err.get('message') if err else 'accepted ' + h}"
                          for s, (h, err) in zip(self.sides, sent))
        self.report.compare(f"refused {check}", [("error.code", views[0].get("code"), views[1].get("code")),
                                                 ("error.class", views[0].get("class"), views[1].get("class"))])
        print(f"      messages: {msgs}")
        accepted = [err is None for _, err in sent]
        if shared_nonce and any(accepted):  # keep the nonces aligned: wait for it, fill the other side
            for side, (h, err) in zip(self.sides, sent):
                if err is None and side.receipt(h) is None:
                    raise Desync(f"{side.label} accepted refused-tx {check!r} but never mined it")
            if not all(accepted):
                for side, ok in zip(self.sides, accepted):
                    if not ok:
                        self.fill_nonce(side, self.nonce)
            self.nonce += 1

    # -- calls --

    def _result_view(self, result, err):
        if err is not None:
            return error_view(err)
        return {"result": norm_hex(result)}

    def call(self, check, to, data="0x", value=0, gas=None, sender=DEV0, block="latest"):
        obj = self.call_object(to, data, value, gas, sender)
        outs = [s.rpc("eth_call", [obj, block]) for s in self.sides]
        views = [self._result_view(r, e) for r, e in outs]
        fields = []
        for key in ("result", "code", "data", "class"):
            if key in views[0] or key in views[1]:
                fields.append((key, views[0].get(key), views[1].get(key)))
        self.report.compare(f"call {check}", fields)
        return outs

    def estimate(self, check, to, data="0x", value=0, sender=DEV0):
        obj = self.call_object(to, data, value, None, sender)
        outs = [s.rpc("eth_estimateGas", [obj]) for s in self.sides]
        views = [self._result_view(r, e) for r, e in outs]
        fields = []
        for key in ("result", "code", "data", "class"):
            if key in views[0] or key in views[1]:
                fields.append((key, views[0].get(key), views[1].get(key)))
        self.report.compare(check, fields)

    # -- state --

    def state(self, check, method, params):
        outs = [s.rpc(method, params) for s in self.sides]
        views = [self._result_view(r, e) for r, e in outs]
        self.report.compare(f"state {check}", [("value", views[0], views[1])])

    def code(self, label, address):
        self.state(f"code {label}", "eth_getCode", [address, "latest"])

    def balance(self, label, address):
        self.state(f"balance {label}", "eth_getBalance", [address, "latest"])

    def slot(self, label, address, slot):
        self.state(f"storage {label}", "eth_getStorageAt", [address, hex(slot), "latest"])


def mapping_slot(key, base=0):
    return int.from_bytes(keccak(bytes.fromhex(word(key) + word(base))), "big")


# -------------------------------------------------------------------- cases ---

def storage_cases(r):
    r.deploy("DiffStorage")
    s = r.addresses["DiffStorage"]
    cd = lambda fn, *a: r.art.calldata("DiffStorage", fn, *a)
    r.tx("storage set 0->5", s, cd("set", 1, 5))
    r.tx("storage reset 5->6", s, cd("set", 1, 6))
    r.tx("storage no-op 6->6", s, cd("set", 1, 6))
    r.tx("storage clear 6->0 (refund)", s, cd("set", 1, 0))
    r.tx("storage clear of an empty slot", s, cd("set", 1, 0))
    r.tx("storage set 20 slots", s, cd("setRange", 10, 20, 1))
    r.tx("storage clear 20 slots (refund cap)", s, cd("setRange", 10, 20, 0))
    r.tx("storage 0->7->0 in one tx", s, cd("setThenClear", 2))
    r.tx("storage set 3", s, cd("set", 3, 9))
    r.tx("storage x->x+1->x in one tx", s, cd("bumpThenRestore", 3))
    for key in (1, 2, 3, 10):
        r.slot(f"DiffStorage slots[{key}]", s, mapping_slot(key))
    # Other transaction types: an EIP-2930 access list makes the first
    # SSTORE warm (intrinsic 2400 + 1900 per key instead of cold access).
    warm = [{"address": s, "storageKeys": ["0x" + word(mapping_slot(4))]}]
    r.tx("storage set, EIP-2930 with an access list", s, cd("set", 4, 1), tx_type=1, access_list=warm)
    r.tx("storage reset, EIP-2930 with an empty access list", s, cd("set", 4, 2), tx_type=1)
    r.tx("storage reset, legacy EIP-155", s, cd("set", 4, 3), tx_type=0)
    r.slot("DiffStorage slots[4]", s, mapping_slot(4))
    r.tx("transient store and load", s, cd("transientRoundTrip", 77))
    r.call("transient slot is zero in a new call", s, cd("readTransient"))
    r.call("transient round trip", s, cd("transientRoundTrip", 5))
    r.call("mcopy overlapping", s, cd("mcopyShift", bytes(range(100)), 7))
    r.call("mcopy empty", s, cd("mcopyShift", b"", 0))


def event_cases(r):
    r.deploy("DiffEvents")
    e = r.addresses["DiffEvents"]
    cd = lambda fn, *a: r.art.calldata("DiffEvents", fn, *a)
    for size in (0, 33, 64):
        r.tx(f"LOG0..LOG4 with {size} bytes", e, cd("allLogs", size))
    r.tx("solidity events", e, cd("events", "hello", [1, 2, 3]))
    r.tx("logs around a reverted sub-call", e, cd("logsAroundRevert"))


def error_cases(r):
    r.deploy("DiffErrors")
    e = r.addresses["DiffErrors"]
    cd = lambda fn, *a: r.art.calldata("DiffErrors", fn, *a)
    calls = [
        ("revert with reason", cd("revertReason")),
        ("require failing", cd("requireAbove", 5)),
        ("require passing", cd("requireAbove", 11)),
        ("custom error", cd("customError")),
        ("empty revert", cd("emptyRevert")),
        ("revert 1 byte", cd("revertBytes", 1)),
        ("revert 31 bytes", cd("revertBytes", 31)),
        ("revert 1000 bytes", cd("revertBytes", 1000)),
        ("panic division by zero", cd("divide", 1, 0)),
        ("panic assert", cd("assertFalse")),
        ("panic overflow", cd("overflow", 1)),
        ("panic array index", cd("index", 5)),
        ("INVALID opcode", cd("invalidOpcode")),
        ("unknown selector", "0xdeadbeef"),
    ]
    for name, data in calls:
        r.call(name, e, data)
        r.estimate(f"estimate {name}", e, data)
    r.call("out of gas (gas 50000)", e, cd("burn", 10_000), gas=50_000)
    r.call("burn within gas", e, cd("burn", 50))
    for name, data in calls[:1] + calls[3:5] + calls[8:11] + calls[12:13]:
        r.tx(name, e, data, estimate=False)
    r.tx("write then revert", e, cd("writeThenRevert", 5), estimate=False)
    r.slot("DiffErrors sink after revert", e, 0)
    r.tx("burn 200 rounds", e, cd("burn", 200))
    r.tx("out of gas (gas 60000)", e, cd("burn", 10_000), gas=60_000, estimate=False)
    r.tx("INVALID with gas 100000", e, cd("invalidOpcode"), gas=100_000, estimate=False)


def call_cases(r):
    r.deploy("DiffCalls")
    r.deploy("DiffChild", 5, value=1000)
    r.deploy("DiffNonPayable")
    c, child, nonpay = r.addresses["DiffCalls"], r.addresses["DiffChild"], r.addresses["DiffNonPayable"]
    cd = lambda fn, *a: r.art.calldata("DiffCalls", fn, *a)
    salt = b"\x11" * 32

    got = r.tx("CREATE with value", c, cd("create", 11), value=500)
    created = created_address(got)
    r.tx("CREATE2", c, cd("create2", salt, 12))
    r.tx("CREATE2 collision (Solidity new reverts)", c, cd("create2", salt, 12), estimate=False)
    r.tx("CREATE2 collision (raw: address zero)", c,
         cd("create2Raw", salt, bytes.fromhex(r.art.deploy_data("DiffChild", 12)[2:])))
    r.tx(f"CREATE of {CODE_LIMIT} bytes of code", c, cd("createSized", CODE_LIMIT))
    r.tx(f"CREATE of {CODE_LIMIT + 1} bytes of code (EIP-170)", c, cd("createSized", CODE_LIMIT + 1))
    r.tx(f"CREATE with {INIT_CODE_LIMIT} bytes of init code", c, cd("createWithInitSize", INIT_CODE_LIMIT))
    r.tx(f"CREATE with {INIT_CODE_LIMIT + 1} bytes of init code (EIP-3860)", c,
         cd("createWithInitSize", INIT_CODE_LIMIT + 1), estimate=False)
    r.tx("CREATE of code starting with 0xEF (EIP-3541)", c, cd("createEfCode"))
    if created:
        r.code("child created with value", created)
        r.balance("child created with value", created)
    r.tx("CALL setValue", c, cd("callSet", child, 99))
    r.call("STATICCALL read", c, cd("staticRead", child))
    r.tx("CALL of a reverting function, caught", c, cd("callFailing", child))
    r.tx("STATICCALL that writes", c, cd("staticWrite", child))
    r.tx("DELEGATECALL setValue", c, cd("delegateSet", child, 1234))
    r.slot("DiffCalls slot 0 after DELEGATECALL", c, 0)
    r.slot("DiffChild slot 0", child, 0)
    r.tx("recursion 20 deep", c, cd("recurse", 20))
    got = r.tx("CREATE and SELFDESTRUCT in one tx (EIP-6780)", c, cd("createAndDestroy", BENEFICIARY), value=777)
    destroyed = created_address(got)
    if destroyed:
        r.code("created and destroyed child", destroyed)
        r.balance("created and destroyed child", destroyed)
    r.balance("SELFDESTRUCT beneficiary", BENEFICIARY)
    r.tx("SELFDESTRUCT of an old contract (Cancun: code stays)", child,
         r.art.calldata("DiffChild", "destroy", BENEFICIARY2))
    r.code("old contract after SELFDESTRUCT", child)
    r.balance("old contract after SELFDESTRUCT", child)
    r.balance("SELFDESTRUCT beneficiary 2", BENEFICIARY2)
    r.slot("old contract storage after SELFDESTRUCT", child, 0)

    # Value transfers.
    r.tx("value to a contract with receive", child, value=10)
    r.tx("value to a contract without receive", nonpay, value=10)
    r.tx("value to a non-payable function", nonpay, r.art.calldata("DiffNonPayable", "poke"), value=10)
    r.tx("non-payable function without value", nonpay, r.art.calldata("DiffNonPayable", "poke"))
    r.tx("CALL with value to a non-payable contract", c, cd("sendValue", nonpay, 1), value=1)
    r.tx("CALL with value to a fresh address", c, cd("sendValue", PAYEE, 3), value=3)
    r.tx("CALL with more value than the balance", c, cd("sendValue", PAYEE, 10**30))
    r.tx("value to a fresh address", BENEFICIARY, value=1)
    r.tx("data to an address without code", PAYEE, "0x1234")
    for label, addr in (("DiffCalls", c), ("DiffChild", child), ("DiffNonPayable", nonpay), ("payee", PAYEE)):
        r.balance(label, addr)

    # Return data.
    errors = r.addresses.get("DiffErrors")
    probes = [("RETURNDATASIZE of a 32-byte return", child, r.art.calldata("DiffChild", "value"))]
    if errors:
        probes.append(("RETURNDATASIZE of a 100-byte revert", errors,
                       bytes.fromhex(r.art.calldata("DiffErrors", "revertBytes", 100)[2:])))
    probes.append(("RETURNDATASIZE of identity (1000 bytes)", Web3.to_checksum_address(f"0x{4:040x}"),
                   bytes(range(250)) * 4))
    probes.append(("RETURNDATASIZE of a call to no code", PAYEE, b"\x01\x02"))
    for name, target, data in probes:
        data = bytes.fromhex(data[2:]) if isinstance(data, str) else data
        r.call(name, c, cd("probe", target, data))
        r.tx(name, c, cd("probe", target, data), estimate=False)
    r.tx("RETURNDATACOPY past the end", c, cd("returnDataOverrun", child, bytes.fromhex(
        r.art.calldata("DiffChild", "value")[2:])), estimate=False)


def created_address(receipts):
    """The child address of the first Created(address) log, if any."""
    if not receipts:
        return None
    topic = "0x" + keccak(text="Created(address)").hex()
    for log in receipts[0].get("logs", []):
        if log["topics"] and log["topics"][0].lower() == topic:
            return Web3.to_checksum_address("0x" + log["data"][-40:])
    return None


def creation_cases(r):
    r.call("creation without to (returns the code)", None, r.art.deploy_data("DiffNonPayable"))
    r.estimate("estimate creation without to", None, r.art.deploy_data("DiffNonPayable"))
    r.tx(f"creation tx of {CODE_LIMIT} bytes of code", None, sized_init_code(CODE_LIMIT), gas=10_000_000)
    r.tx(f"creation tx of {CODE_LIMIT + 1} bytes of code (EIP-170)", None, sized_init_code(CODE_LIMIT + 1),
         gas=10_000_000, estimate=False)
    r.call(f"creation of {CODE_LIMIT + 1} bytes of code (EIP-170)", None, sized_init_code(CODE_LIMIT + 1))
    r.estimate(f"estimate creation of {CODE_LIMIT + 1} bytes of code (EIP-170)", None,
               sized_init_code(CODE_LIMIT + 1))
    r.tx("creation tx of code starting with 0xEF (EIP-3541)", None, "0x60ef60005360016000f3", estimate=False)
    r.tx(f"creation tx with {INIT_CODE_LIMIT} bytes of init code", None, "0x" + "00" * INIT_CODE_LIMIT)
    r.call(f"creation with {INIT_CODE_LIMIT + 1} bytes of init code (EIP-3860)", None,
           "0x" + "00" * (INIT_CODE_LIMIT + 1))
    r.refused(f"creation tx with {INIT_CODE_LIMIT + 1} bytes of init code (EIP-3860)",
              r.sign(None, "0x" + "00" * (INIT_CODE_LIMIT + 1)))
    r.tx("creation tx that reverts", None, "0x60006000fd")
    # Enough for the intrinsic gas, not for depositing 1000 bytes of code.
    r.tx("creation tx out of gas (code deposit)", None, sized_init_code(1000), gas=100_000, estimate=False)


def ecrecover_input():
    digest = keccak(b"evm diff")
    sig = keys.PrivateKey(bytes.fromhex(DEV0_KEY[2:])).sign_msg_hash(digest)
    return "0x" + digest.hex() + word(sig.v + 27) + word(sig.r) + word(sig.s)


# EIP-152's test vector 5: 12 rounds of BLAKE2b over "abc", final block.
BLAKE2F_VECTOR_5 = (
    "0000000c"
    "48c9bdf267e6096a3ba7ca8485ae67bb2bf894fe72f36e3cf1361d5f3af54fa5"
    "d182e6ad7f520e511f6c3e2b8c68059b6bbd41fbabd9831f79217e1319cde05b"
    + "616263".ljust(256, "0")
    + "03".ljust(32, "0")
    + "01")


def precompile_cases(r):
    g1 = word(1) + word(2)
    p = lambda n: Web3.to_checksum_address(f"0x{n:040x}")
    modexp_small = word(1) + word(1) + word(2) + "02" + "0a" + "03e8"  # 2^10 mod 1000
    # EIP-198's example: 3^(p-2) mod p with p = 2^256 - 2^32 - 977.
    modexp_big = word(1) + word(32) + word(32) + "03" + \
        "fffffffffffffffffffffffffffffffffffffffffffffffffffffffefffffc2e" + \
        "fffffffffffffffffffffffffffffffffffffffffffffffffffffffefffffc2f"
    cases = [
        ("ecrecover valid", p(1), ecrecover_input()),
        ("ecrecover invalid", p(1), "0x" + "00" * 128),
        ("sha256", p(2), "0x616263"),
        ("ripemd160", p(3), "0x616263"),
        ("identity", p(4), "0x" + bytes(range(200)).hex()),
        ("modexp small", p(5), "0x" + modexp_small),
        ("modexp EIP-198", p(5), "0x" + modexp_big),
        ("bn254 add", p(6), "0x" + g1 + g1),
        ("bn254 mul", p(7), "0x" + g1 + word(2)),
        ("bn254 pairing (empty)", p(8), "0x"),
        ("bn254 add invalid point", p(6), "0x" + word(1) + word(3) + g1),
        ("blake2f EIP-152 vector 5", p(9), "0x" + BLAKE2F_VECTOR_5),
        ("point evaluation invalid", p(10), "0x" + "00" * 192),
    ]
    for name, addr, data in cases:
        r.call(f"precompile {name}", addr, data)
    for name, addr, data in cases:
        r.tx(f"precompile {name}", addr, data, gas=200_000, estimate=name != "point evaluation invalid")
    for addr in SYSTEM_PRECOMPILES:
        r.call(f"system precompile {addr}", addr, "0x")


def env_cases(r):
    r.deploy("DiffEnv")
    e = r.addresses["DiffEnv"]
    names = ["chainId", "number", "timestamp", "baseFee", "gasLimit", "coinbase", "gasPrice", "origin",
             "selfBalance", "codeSize"]
    types = ["uint256", "uint256", "uint256", "uint256", "uint256", "address", "uint256", "address",
             "uint256", "uint256"]
    got = r.tx("environment recorded", e, r.art.calldata("DiffEnv", "record"), value=3, logs=False)
    if got:
        seen = [dict(zip(names, abi_decode(types, bytes.fromhex(rc["logs"][0]["data"][2:])))) for rc in got]
        blocks = [s.call("eth_getBlockByNumber", [rc["blockNumber"], False]) for s, rc in zip(r.sides, got)]
        comparable = ["chainId", "number", "gasLimit", "origin", "selfBalance", "codeSize"]
        r.report.compare("env tx", [(n, seen[0][n], seen[1][n]) for n in comparable])
        # Each chain's view against its own block and receipt: equal values on both
        # sides mean "consistent"; a mismatch shows which one is off.
        own = []
        for v, block, rc in zip(seen, blocks, got):
            own.append({
                "timestamp = block.timestamp": v["timestamp"] == int(block["timestamp"], 16),
                "baseFee = block.baseFeePerGas": v["baseFee"] == int(block["baseFeePerGas"], 16),
                "coinbase = block.miner": v["coinbase"].lower() == block["miner"].lower(),
                "gasPrice = receipt.effectiveGasPrice": v["gasPrice"] == int(rc["effectiveGasPrice"], 16),
                "number = block.number": v["number"] == int(block["number"], 16),
            })
        r.report.compare("env tx against its own block", [(k, own[0][k], own[1][k]) for k in own[0]])
    outs = [s.rpc("eth_call", [{"from": DEV0, "to": e, "data": r.art.calldata("DiffEnv", "environment")},
                               "latest"]) for s in r.sides]
    if all(err is None for _, err in outs):
        seen = [dict(zip(names, abi_decode(types, bytes.fromhex(res[2:])))) for res, _ in outs]
        heads = [s.call("eth_getBlockByNumber", ["latest", False]) for s in r.sides]
        r.report.compare("env call", [(n, seen[0][n], seen[1][n]) for n in ("chainId", "gasLimit", "origin",
                                                                           "selfBalance", "codeSize")])
        r.report.compare("env call against the latest block", [
            ("number - latest", seen[0]["number"] - int(heads[0]["number"], 16),
             seen[1]["number"] - int(heads[1]["number"], 16)),
            ("gasPrice (no price given)", seen[0]["gasPrice"], seen[1]["gasPrice"]),
        ])
    else:
        r.report.compare("env call", [("error", outs[0][1], outs[1][1])])


def refusal_cases(r):
    poor = Account.create()
    r.refused("nonce too low", r.sign(PAYEE, value=1, gas=21000, nonce=r.nonce - 1))
    r.refused("insufficient funds", r.sign(PAYEE, value=1, gas=21000, nonce=0, key=poor.key))
    r.refused("intrinsic gas too low", r.sign(PAYEE, value=1, gas=20_999))
    # From dev account 1 (nonce 0), used nowhere else: anvil takes this one
    # into its pool and never mines it, which would stall dev account 0.
    r.refused("intrinsic gas too low for calldata", r.sign(PAYEE, "0x" + "ff" * 100, gas=21_000, nonce=0,
                                                           key=DEV1_KEY), shared_nonce=False)
    r.refused("gas limit above the block gas limit", r.sign(PAYEE, value=1, gas=1_000_000_001))
    r.refused("fee cap below base fee", r.sign(PAYEE, value=1, gas=21000, max_fee=1, tip=1))
    r.refused("tip above fee cap", r.sign(PAYEE, value=1, gas=21000, max_fee=2 * 10**9, tip=3 * 10**9))
    r.call("insufficient funds for value", PAYEE, value=10**18, sender=poor.address)
    r.estimate("estimate insufficient funds for value", PAYEE, value=10**18, sender=poor.address)
    r.estimate("estimate plain transfer", PAYEE, value=1)


# --------------------------------------------------------------------- main ---

def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("node_url")
    ap.add_argument("anvil_url")
    ap.add_argument("artifact_dir")
    ap.add_argument("--allowlist", default=os.path.join(HERE, "evm_diff_allowlist.json"))
    ap.add_argument("--verbose", "-v", action="store_true", help="print the compared values of equal checks too")
    args = ap.parse_args()

    sides = [Side("node", args.node_url), Side("anvil", args.anvil_url)]
    report = Report(load_allowlist(args.allowlist, ("check", "field", "reason")), args.verbose)
    runner = Runner(sides, Artifacts(args.artifact_dir), report)
    try:
        for s in sides:
            chain = int(s.call("eth_chainId", []), 16)
            nonce = int(s.call("eth_getTransactionCount", [DEV0, "latest"]), 16)
            if chain != CHAIN_ID:
                print(f"error: {s.label} has chain id {chain}, not {CHAIN_ID}")
                return 2
            if nonce != 0:
                print(f"error: {s.label} is not fresh: dev account 0 has nonce {nonce}")
                return 2
        for cases in (storage_cases, event_cases, error_cases, call_cases, creation_cases, precompile_cases,
                      env_cases, refusal_cases):
            cases(runner)
    except Unreachable as e:
        print(f"error: {e}")
        return 2
    except Desync as e:
        report.fail("nonce alignment", f"{e}; the remaining checks were not run")
    return 0 if report.summary() else 1


if __name__ == "__main__":
    sys.exit(main())
