#!/usr/bin/env python3
"""Foundry's `cast` against an Ethereum JSON-RPC endpoint: a Solidity contract's whole life.

    tests/interop/.venv/bin/python tests/interop/cast_contracts.py RPC_URL ARTIFACT_DIR

ARTIFACT_DIR holds InteropToken.json ({abi, bytecode, deployedBytecode}), from
`node tests/interop/solc_compile.mjs ARTIFACT_DIR tests/interop/contracts/InteropToken.sol`.
Drives the cast binary (npm `@foundry-rs/cast-linux-amd64`, installed by
scripts/install-interop-deps; `CAST=path` overrides) with `--rpc-url RPC_URL`
and dev account 0's key; cast signs locally and sends with
eth_sendRawTransaction. Only the standard library here: every Ethereum step
is a cast command.

- `cast send --create BYTECODE "constructor(uint256)" SUPPLY --json`: receipt
  status 1, contractAddress == `cast compute-address`, `cast code` == the
  deployedBytecode;
- `cast call ADDR "sig(args)(returns)" --json` on the views;
- `cast send ADDR "transfer(address,uint256)" ...` (waits for the receipt) and
  `cast send --async ... "deposit(uint256)" --value` + `cast receipt HASH`:
  status, logs (topics and data), balances (`cast call`, `cast balance`);
- `cast logs --address --from-block --to-block "Event(...)" TOPIC...`:
  by indexed argument, with an empty (wildcard) position, and cases that must
  match nothing (another indexed value, another address, a range before the
  transaction);
- `cast estimate` and a `cast send --gas-limit ESTIMATE` that succeeds;
- reverts: `cast call` / `cast estimate` / `cast send` fail with the node's
  `execution reverted` error whose `data: "0x..."` is decoded with
  `cast decode-error --sig`: Error(string), LimitExceeded(address,uint256,uint256)
  and ERC20InsufficientBalance(address,uint256,uint256); a
  `cast send --gas-limit` of a reverting call is mined with status 0.

Prints a JSON summary; exits 1 with `FAIL (cast contracts): ...` otherwise.
"""

import json
import os
import re
import secrets
import subprocess

from interop_common import DEV0_ADDR, DEV0_KEY, TIMEOUT_S, Fail, check, load_artifact, run_main, word

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_CAST = os.path.join(HERE, "node_modules", "@foundry-rs", "cast-linux-amd64", "bin", "cast")
SUPPLY = 1_000_000 * 10**18
LIMIT = 1000
DEPOSIT_TAG = 7
TRANSFER = "Transfer(address indexed from,address indexed to,uint256 value)"
DEPOSITED = "Deposited(address indexed from,uint256 indexed tag,uint256 amount,uint256 total)"


class Cast:
    """The cast binary pointed at one endpoint."""

    def __init__(self, binary, url):
        self.binary, self.url = binary, url

    def _run(self, args):
        cmd = [self.binary, *args]
        try:
            return subprocess.run(cmd, capture_output=True, text=True, timeout=TIMEOUT_S + 30, stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired as e:
            raise Fail(f"`cast {' '.join(args)}` did not finish in {TIMEOUT_S + 30:.0f}s") from e

    def _args(self, command, args, rpc, key, as_json):
        # Options go right after the subcommand: `send --create CODE SIG ARGS...`
        # takes everything after CODE as constructor arguments.
        return [command, *(["--rpc-url", self.url] if rpc else []), *(["--private-key", DEV0_KEY] if key else []),
                *(["--json"] if as_json else []), *args]

    def ok(self, command, *args, rpc=True, key=False, as_json=False):
        """Runs `cast COMMAND ARGS...`, which must succeed; returns its stdout, stripped."""
        full = self._args(command, args, rpc, key, as_json)
        p = self._run(full)
        shown = " ".join(a if a != DEV0_KEY else "KEY" for a in full)
        check(p.returncode == 0, f"`cast {shown[:300]}` exited {p.returncode}:\n{p.stderr.strip()}")
        return p.stdout.strip()

    def json(self, command, *args, **kw):
        out = self.ok(command, *args, as_json=True, **kw)
        try:
            return json.loads(out)
        except ValueError as e:
            raise Fail(f"`cast {command}` printed no JSON: {out[:300]!r}") from e

    def fails(self, command, *args, key=False):
        """Runs `cast COMMAND ARGS...`, which must fail; returns its stderr."""
        args = self._args(command, args, True, key, False)
        p = self._run(args)
        check(p.returncode != 0, f"`cast {command} ...` succeeded, expected a failure: {p.stdout.strip()[:300]}")
        return p.stderr.strip()

    def decode_error(self, sig, data):
        return self.json("decode-error", "--sig", sig, data, rpc=False)


def revert_data(what, stderr):
    """The revert data cast prints from the JSON-RPC error (`..., data: "0x..."`)."""
    check("execution reverted" in stderr, f"{what}: cast's error does not say 'execution reverted':\n{stderr}")
    m = re.search(r'data: "(0x[0-9a-fA-F]*)"', stderr)
    check(m, f"{what}: no revert data in cast's error (the JSON-RPC error has no `data`?):\n{stderr}")
    return m.group(1)


def as_int(v):
    return int(v, 0) if isinstance(v, str) else int(v)


def main(url, artifact_dir):
    artifact = load_artifact(artifact_dir, "InteropToken")
    cast = Cast(os.environ.get("CAST", DEFAULT_CAST), url)
    summary = {"tool": "cast", "version": cast.ok("--version", rpc=False).splitlines()[0], "url": url,
               "chainId": int(cast.ok("chain-id"))}

    # ---- deploy ---------------------------------------------------------------
    nonce = int(cast.ok("nonce", DEV0_ADDR))
    deploy = cast.json("send", "--create", artifact["bytecode"], "constructor(uint256)", str(SUPPLY), key=True)
    check(deploy["status"] == "0x1", f"deploy: status {deploy['status']}")
    address = deploy["contractAddress"]
    computed = cast.ok("compute-address", DEV0_ADDR, "--nonce", str(nonce), rpc=False).split()[-1]
    check(address and address.lower() == computed.lower(), f"deploy: contractAddress {address}, `cast compute-address` says {computed}")
    check(cast.ok("code", address).lower() == artifact["deployedBytecode"].lower(), "deploy: `cast code` differs from the deployedBytecode")
    (mint,) = deploy["logs"]
    check(mint["topics"][2] == "0x" + word(DEV0_ADDR) and mint["data"] == "0x" + word(SUPPLY), f"deploy: mint log {mint}")
    first = as_int(deploy["blockNumber"])
    summary["deploy"] = {"hash": deploy["transactionHash"], "address": address, "block": first}

    # ---- views ----------------------------------------------------------------
    def call(sig, *args):
        (value,) = cast.json("call", address, sig, *map(str, args))
        return value

    check(call("name()(string)") == "Interop Token", "name()")
    check(call("symbol()(string)") == "IOP", "symbol()")
    check(as_int(call("decimals()(uint8)")) == 18, "decimals()")
    check(as_int(call("totalSupply()(uint256)")) == SUPPLY, "totalSupply()")
    check(as_int(call("balanceOf(address)(uint256)", DEV0_ADDR)) == SUPPLY, "balanceOf(dev) after deploy")
    check(as_int(call("scaled(address,uint256,uint256)(uint256)", DEV0_ADDR, 6, 7)) == 42, "scaled(dev, 6, 7)")

    # ---- state-changing transactions ---------------------------------------------
    recipient = "0x" + secrets.token_bytes(20).hex()
    amount = 12_345 * 10**15 + 7
    transfer = cast.json("send", address, "transfer(address,uint256)", recipient, str(amount), key=True)
    check(transfer["status"] == "0x1", f"transfer: status {transfer['status']}")
    (log,) = transfer["logs"]
    check(log["address"].lower() == address.lower() and log["topics"][1:] == ["0x" + word(DEV0_ADDR), "0x" + word(recipient)]
          and log["data"] == "0x" + word(amount), f"transfer: log {log}")
    check(as_int(call("balanceOf(address)(uint256)", recipient)) == amount, "balanceOf(recipient) after transfer")
    (at_deploy,) = cast.json("call", "--block", str(first), address, "balanceOf(address)(uint256)", DEV0_ADDR)
    check(as_int(at_deploy) == SUPPLY, f"`cast call --block {first}` balanceOf(dev) at the deploy block: {at_deploy}")

    deposit_value = 25 * 10**16 + 3
    deposit_hash = cast.ok("send", "--async", address, "deposit(uint256)", str(DEPOSIT_TAG), "--value", str(deposit_value), key=True)
    check(re.fullmatch(r"0x[0-9a-f]{64}", deposit_hash), f"`cast send --async` printed {deposit_hash!r}, expected a hash")
    deposit = cast.json("receipt", deposit_hash)
    check(deposit["status"] == "0x1" and deposit["transactionHash"] == deposit_hash, f"deposit: receipt {deposit}")
    (dep,) = deposit["logs"]
    check(dep["topics"][1:] == ["0x" + word(DEV0_ADDR), "0x" + word(DEPOSIT_TAG)]
          and dep["data"] == "0x" + word(deposit_value) + word(deposit_value), f"deposit: log {dep}")
    check(int(cast.ok("balance", address)) == deposit_value, "`cast balance` of the contract after deposit")
    check(as_int(call("deposits(address)(uint256)", DEV0_ADDR)) == deposit_value, "deposits(dev) after deposit")
    last = as_int(deposit["blockNumber"])
    summary["transfer"] = {"hash": transfer["transactionHash"], "block": as_int(transfer["blockNumber"])}
    summary["deposit"] = {"hash": deposit_hash, "block": last}

    # ---- logs: eth_getLogs with filters ---------------------------------------------
    def logs(*args, addr=address, frm=first, to=last):
        return cast.json("logs", "--address", addr, "--from-block", str(frm), "--to-block", str(to), *map(str, args))

    by_from = logs(TRANSFER, DEV0_ADDR)
    check([l["transactionHash"] for l in by_from] == [transfer["transactionHash"]], f"cast logs Transfer from dev: {by_from}")
    by_to = logs(TRANSFER, "", recipient)
    check([l["transactionHash"] for l in by_to] == [transfer["transactionHash"]], f"cast logs Transfer (any, recipient): {by_to}")
    everything = logs()
    check(len(everything) == 3 and [l["transactionHash"] for l in everything][1:] == [transfer["transactionHash"], deposit_hash],
          f"cast logs (address only, {first}..{last}): {len(everything)} logs, expected mint, transfer, deposit")
    by_tag = logs(DEPOSITED, "", DEPOSIT_TAG, to="latest")
    check([l["transactionHash"] for l in by_tag] == [deposit_hash], f"cast logs Deposited tag 7: {by_tag}")
    check(logs(DEPOSITED, "", DEPOSIT_TAG + 1, to="latest") == [], "cast logs Deposited tag 8 is not empty")
    check(logs(addr=recipient) == [], "cast logs at another address is not empty")
    transfer_block = as_int(transfer["blockNumber"])
    if transfer_block > first:
        check(logs(TRANSFER, DEV0_ADDR, to=transfer_block - 1) == [], "cast logs Transfer from dev before its block is not empty")

    # ---- estimate gas -------------------------------------------------------------
    second = "0x" + secrets.token_bytes(20).hex()
    estimate = int(cast.ok("estimate", "--from", DEV0_ADDR, address, "transfer(address,uint256)", second, "5"))
    check(21_000 < estimate < 200_000, f"cast estimate transfer: {estimate}")
    sent = cast.json("send", "--gas-limit", str(estimate), address, "transfer(address,uint256)", second, "5", key=True)
    check(sent["status"] == "0x1" and as_int(sent["gasUsed"]) <= estimate,
          f"transfer with --gas-limit {estimate}: status {sent['status']}, gasUsed {as_int(sent['gasUsed'])}")
    deposit_estimate = int(cast.ok("estimate", "--from", DEV0_ADDR, "--value", "1", address, "deposit(uint256)", "1"))
    check(deposit_estimate > 21_000, f"cast estimate deposit: {deposit_estimate}")
    summary["estimates"] = {"transfer": estimate, "transferGasUsed": as_int(sent["gasUsed"]), "deposit": deposit_estimate}

    # ---- reverts ----------------------------------------------------------------
    err = cast.fails("call", "--from", DEV0_ADDR, address, "failWithReason()")
    check("InteropToken: reason string" in err, f"cast call failWithReason(): the reason is not in cast's error:\n{err}")
    reason = cast.decode_error("Error(string)", revert_data("cast call failWithReason()", err))
    check(reason == ["InteropToken: reason string"], f"cast decode-error Error(string): {reason}")
    err = cast.fails("estimate", "--from", DEV0_ADDR, address, "deposit(uint256)", "1")
    nothing = cast.decode_error("Error(string)", revert_data("cast estimate deposit(1) with no value", err))
    check(nothing == ["InteropToken: nothing deposited"], f"cast estimate deposit(1): decoded {nothing}")
    err = cast.fails("send", address, "failWithReason()", key=True)
    check("InteropToken: reason string" in err, f"cast send failWithReason() (gas estimated): the reason is not in cast's error:\n{err}")

    err = cast.fails("call", "--from", DEV0_ADDR, address, "guarded(uint256)", "5000")
    data = revert_data("cast call guarded(5000)", err)
    check(data.startswith("0x4db9e254"), f"cast call guarded(5000): revert data {data} is not LimitExceeded")
    limit = cast.decode_error("LimitExceeded(address,uint256,uint256)", data)
    check([limit[0].lower(), as_int(limit[1]), as_int(limit[2])] == [DEV0_ADDR.lower(), 5000, LIMIT],
          f"cast decode-error LimitExceeded: {limit}")
    balance = as_int(call("balanceOf(address)(uint256)", DEV0_ADDR))
    err = cast.fails("estimate", "--from", DEV0_ADDR, address, "transfer(address,uint256)", recipient, str(balance + 1))
    short = cast.decode_error("ERC20InsufficientBalance(address,uint256,uint256)",
                              revert_data("cast estimate transfer(balance + 1)", err))
    check([short[0].lower(), as_int(short[1]), as_int(short[2])] == [DEV0_ADDR.lower(), balance, balance + 1],
          f"cast decode-error ERC20InsufficientBalance: {short}")

    nonce_before = int(cast.ok("nonce", DEV0_ADDR, "--block", "pending"))
    mined = cast.json("send", "--gas-limit", "100000", address, "failWithReason()", key=True)
    check(mined["status"] == "0x0" and mined["logs"] == [], f"mined failWithReason(): status {mined['status']}, logs {mined['logs']}")
    check(cast.ok("receipt", mined["transactionHash"], "status") in ("0", "0x0", "false"),
          f"`cast receipt HASH status` of the mined revert: {cast.ok('receipt', mined['transactionHash'], 'status')}")
    nonce_after = int(cast.ok("nonce", DEV0_ADDR, "--block", "pending"))
    check(nonce_after == nonce_before + 1, f"mined revert: pending nonce {nonce_before} -> {nonce_after}")
    summary["reverts"] = {"callReason": reason[0], "estimateReason": nothing[0], "custom": ["LimitExceeded", limit],
                          "insufficient": ["ERC20InsufficientBalance", short],
                          "mined": {"hash": mined["transactionHash"], "gasUsed": as_int(mined["gasUsed"])}}
    summary["ok"] = True
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    run_main(main, "cast_contracts.py RPC_URL ARTIFACT_DIR", "cast contracts")
