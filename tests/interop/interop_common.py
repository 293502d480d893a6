"""What the Python interop scripts share.

The dev accounts they sign with, how long they wait, how a check fails and
how a script ends (`FAIL (label): ...`, exit 1), plain JSON-RPC over HTTP,
waiting for a receipt, 32-byte ABI words, solc_compile.mjs's artifacts and
the allowlists of the differential scripts. Standard library only, so any
script can import it, web3.py or not; the scripts run as
`python tests/interop/X.py`, which puts this folder first on sys.path.
"""

import json
import os
import sys
import time
import urllib.error
import urllib.request

# Dev accounts 0 and 1 of the standard test mnemonic, funded on the dev chain
# and on anvil.
DEV0_KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"
DEV0_ADDR = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
DEV1_KEY = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d"
# How long a script waits for a receipt (run_interop.py and CI may set it).
TIMEOUT_S = float(os.environ.get("INTEROP_TIMEOUT_MS", "60000")) / 1000


class Fail(Exception):
    """A check failed; the message says which and with what."""


def check(cond, msg):
    if not cond:
        raise Fail(msg)


def run_main(main, usage, label):
    """Runs `main` with the command-line arguments and exits as every script does.

    `usage` is "script.py ARG ...": without exactly that many arguments it is
    printed and the exit status is 2. A failed check or any other exception
    prints `FAIL (label): ...` on stderr and exits 1.
    """
    if len(sys.argv) != len(usage.split()):
        print(f"usage: {usage}", file=sys.stderr)
        sys.exit(2)
    try:
        main(*sys.argv[1:])
    except Fail as e:
        print(f"FAIL ({label}): {e}", file=sys.stderr)
        sys.exit(1)
    except Exception as e:  # noqa: BLE001 - a crash (connection error, unexpected RPC error) is a failure with its reason
        print(f"FAIL ({label}): {type(e).__name__}: {e}", file=sys.stderr)
        sys.exit(1)


def word(n):
    """A 32-byte ABI word (a uint256, or an address in hex) as lower-case hex without 0x."""
    return (int(n, 16) if isinstance(n, str) else n).to_bytes(32, "big").hex()


def load_artifact(artifact_dir, name):
    """Contract `name` as solc_compile.mjs wrote it: {abi, bytecode, deployedBytecode}."""
    with open(os.path.join(artifact_dir, f"{name}.json")) as f:
        return json.load(f)


class Unreachable(Exception):
    """An endpoint gave no HTTP answer (refused, reset, timed out)."""


def post_json(label, url, body, timeout):
    """POSTs a JSON body (bytes) to `url`: (HTTP status, the answer's bytes).

    An HTTP error status is an answer; no answer raises Unreachable, naming
    the endpoint by `label`.
    """
    req = urllib.request.Request(url, data=body, headers={"content-type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()
    except (urllib.error.URLError, OSError) as e:
        raise Unreachable(f"{label} ({url}): {e}") from None


def wait_for_receipt(call, tx_hash, timeout_s, interval_s):
    """The receipt of `tx_hash`, asked for with `call(method, params)` every
    `interval_s` until it comes; None once `timeout_s` has passed."""
    deadline = time.time() + timeout_s
    while True:
        receipt = call("eth_getTransactionReceipt", [tx_hash])
        if receipt:
            return receipt
        if time.time() > deadline:
            return None
        time.sleep(interval_s)


def load_allowlist(path, keys):
    """The entries of an allowlist file ({"entries": [...]} or a bare list),
    each checked to have every key in `keys`; none when the file is absent."""
    if not os.path.exists(path):
        return []
    with open(path) as f:
        data = json.load(f)
    entries = data.get("entries", []) if isinstance(data, dict) else data
    for e in entries:
        for k in keys:
            if k not in e:
                raise SystemExit(f"allowlist {path}: entry {e} lacks {k!r}")
    return entries
