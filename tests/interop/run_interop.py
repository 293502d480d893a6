#!/usr/bin/env python3
"""Run every interop check, starting (and stopping) the anvil instances it needs.

    scripts/install-interop-deps
    tests/interop/.venv/bin/python tests/interop/run_interop.py [--node URL]

First compiles contracts/InteropToken.sol with solc_compile.mjs (the npm
solc, offline) into a temporary directory, removed at the end.

Without --node (self-check of the scripts): starts anvil twice on free
loopback ports, one with --block-time 1 and one mining per transaction, runs
viem_transfer.mjs, web3py_transfer.py and the contract scripts
(viem_contracts.mjs, web3py_contracts.py, cast_contracts.py) against each, and
rpc_diff.py with one anvil on each side (must report no difference).

With --node URL (the node under test, chain id 1337, standard dev accounts):
runs the same scripts and viem_datanets.mjs against URL and rpc_diff.py URL
against a fresh anvil (--chain-id 1337, mining per transaction).

Prints one line per check and "N passed, M failed"; exits 1 if any failed.
"""

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_ANVIL = os.path.join(HERE, "node_modules", "@foundry-rs", "anvil-linux-amd64", "bin", "anvil")
CAST = os.environ.get("CAST", os.path.join(HERE, "node_modules", "@foundry-rs", "cast-linux-amd64", "bin", "cast"))
SOLC = os.path.join(HERE, "hardhat", "node_modules", "solc", "soljson.js")
PY = os.path.join(HERE, ".venv", "bin", "python")
CONTRACTS = [os.path.join(HERE, "contracts", "InteropToken.sol")]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_ready(url, proc, timeout=30):
    deadline = time.time() + timeout
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []}).encode()
    while time.time() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"anvil exited with {proc.returncode}")
        try:
            req = urllib.request.Request(url, body, {"content-type": "application/json"})
            with urllib.request.urlopen(req, timeout=2) as r:
                if "result" in json.load(r):
                    return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} not ready after {timeout}s")


def start_anvil(anvil, block_time=None):
    port = free_port()
    cmd = [anvil, "--host", "127.0.0.1", "--port", str(port), "--chain-id", "1337", "--silent"]
    if block_time:
        cmd += ["--block-time", str(block_time)]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    wait_ready(url, proc)
    return proc, url


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--node", help="JSON-RPC URL of the node under test")
    ap.add_argument("--anvil", default=os.environ.get("ANVIL", DEFAULT_ANVIL))
    ap.add_argument("--json-out-dir", help="keep rpc_diff's full JSON report(s) here")
    args = ap.parse_args()

    for path in (args.anvil, PY, CAST, SOLC):
        if not os.path.exists(path):
            sys.exit(f"{path} missing: run scripts/install-interop-deps")

    procs, results = [], []
    artifacts = tempfile.TemporaryDirectory(prefix="interop-artifacts-")

    def check(name, cmd):
        t0 = time.time()
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
        ok = p.returncode == 0
        results.append(ok)
        print(f"{'PASS' if ok else 'FAIL'} {name} ({time.time() - t0:.1f}s)", flush=True)
        if not ok:
            print(p.stdout[-6000:], p.stderr[-4000:], sep="\n", flush=True)
        return ok

    try:
        compiled = check("solc_compile.mjs InteropToken.sol",
                         ["node", os.path.join(HERE, "solc_compile.mjs"), artifacts.name, *CONTRACTS])
        if args.node:
            wait_ready(args.node, None)
            anvil_proc, anvil_url = start_anvil(args.anvil)
            procs.append(anvil_proc)
            targets = [("node", args.node)]
            diff_pairs = [("node vs anvil", args.node, anvil_url)]
        else:
            a, url_a = start_anvil(args.anvil, block_time=1)
            procs.append(a)
            b, url_b = start_anvil(args.anvil)
            procs.append(b)
            targets = [("anvil --block-time 1", url_a), ("anvil per-tx mining", url_b)]
            diff_pairs = [("anvil vs anvil", url_a, url_b)]

        for label, url in targets:
            check(f"viem_transfer.mjs [{label}]", ["node", os.path.join(HERE, "viem_transfer.mjs"), url])
            check(f"web3py_transfer.py [{label}]", [PY, os.path.join(HERE, "web3py_transfer.py"), url])
            if compiled:
                check(f"viem_contracts.mjs [{label}]", ["node", os.path.join(HERE, "viem_contracts.mjs"), url, artifacts.name])
                check(f"web3py_contracts.py [{label}]", [PY, os.path.join(HERE, "web3py_contracts.py"), url, artifacts.name])
                check(f"cast_contracts.py [{label}]", [PY, os.path.join(HERE, "cast_contracts.py"), url, artifacts.name])
        if args.node:
            # anvil has no datanets system contract: only the node under test.
            check("viem_datanets.mjs [node]", ["node", os.path.join(HERE, "viem_datanets.mjs"), args.node])
        for i, (label, u1, u2) in enumerate(diff_pairs):
            cmd = [PY, os.path.join(HERE, "rpc_diff.py"), u1, u2]
            if args.json_out_dir:
                os.makedirs(args.json_out_dir, exist_ok=True)
                cmd += ["--json-out", os.path.join(args.json_out_dir, f"rpc_diff_{i}.json")]
            check(f"rpc_diff.py [{label}]", cmd)
        check("test_rpc_diff_shapes.py", [PY, "-m", "unittest", "-q", os.path.join(HERE, "test_rpc_diff_shapes.py")])
    finally:
        artifacts.cleanup()
        for p in procs:
            p.terminate()
        for p in procs:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()

    passed = sum(results)
    print(f"{passed} passed, {len(results) - passed} failed")
    return 0 if passed == len(results) else 1


if __name__ == "__main__":
    sys.exit(main())
