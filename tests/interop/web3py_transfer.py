#!/usr/bin/env python3
"""web3.py against an Ethereum JSON-RPC endpoint: signed transfers and errors.

    tests/interop/.venv/bin/python tests/interop/web3py_transfer.py RPC_URL

Uses dev account 0 of the standard test mnemonic. Reads the chain id, signs
locally (Account.sign_transaction) and sends with send_raw_transaction an
EIP-1559, an EIP-2930 and a legacy (EIP-155, explicit chainId) transfer to
fresh random addresses, plus one w3.eth.send_transaction({from, to, value})
through SignAndSendRawMiddleware (web3.py fills the rest, sends raw), waits for each receipt and checks: status 1,
gasUsed == 21000, recipient balance == value, sender balance dropped by
exactly value + gasUsed * effectiveGasPrice, effectiveGasPrice consistent with
the block's base fee, the mined tx echoes what was signed. Then checks that
nonce-too-low, insufficient-funds, fee-cap-below-base-fee and
gas-above-block-limit transactions are rejected with the error web3.py users
match on (web3 7: Web3RPCError, with rpc_response["error"]["message"] saying
"nonce too low", "insufficient funds", ...; web3 6 raised ValueError). Prints a JSON summary; exits 1 on failure.
"""

import json

from eth_account import Account
from web3 import Web3
from web3.exceptions import TimeExhausted
from web3.middleware import SignAndSendRawMiddlewareBuilder

try:  # web3 >= 7
    from web3.exceptions import Web3RPCError
except ImportError:  # pragma: no cover  (web3 6 raised ValueError)
    Web3RPCError = ValueError

from interop_common import DEV0_ADDR, DEV0_KEY, TIMEOUT_S, Fail, check, run_main


def main(url):
    w3 = Web3(Web3.HTTPProvider(url, request_kwargs={"timeout": 20}))
    check(w3.is_connected(), f"cannot reach {url}")
    chain_id = w3.eth.chain_id
    acct = Account.from_key(DEV0_KEY)
    check(acct.address == DEV0_ADDR, f"derived {acct.address}, expected {DEV0_ADDR}")
    start = w3.eth.get_balance(acct.address)
    check(start > Web3.to_wei(1, "ether"), f"dev account 0 balance too small: {start}")
    summary = {
        "library": "web3.py",
        "version": __import__("web3").__version__,
        "url": url,
        "chainId": chain_id,
        "sender": acct.address,
        "startBalance": str(start),
        "transfers": [],
        "errors": {},
    }

    def fees():
        block = w3.eth.get_block("latest")
        base = block.get("baseFeePerGas", 0)
        tip = 10**9
        return {"base": base, "tip": tip, "maxFee": base * 2 + tip, "gasPrice": base * 2 + tip, "gasLimit": block["gasLimit"]}

    auto_w3 = Web3(Web3.HTTPProvider(url, request_kwargs={"timeout": 20}))
    auto_w3.middleware_onion.inject(SignAndSendRawMiddlewareBuilder.build(acct), layer=0)

    def sign(tx, key=DEV0_KEY):
        return Account.sign_transaction(tx, key).raw_transaction

    kinds = [
        ("eip1559", 2, Web3.to_wei("0.0123", "ether") + 7),
        ("eip2930", 1, Web3.to_wei("0.0045", "ether") + 11),
        ("legacy", 0, Web3.to_wei("0.0067", "ether") + 13),
        # w3.eth.send_transaction({from,to,value}) through SignAndSendRawMiddleware:
        # web3.py fills nonce, gas (eth_estimateGas) and fees (eth_maxPriorityFeePerGas
        # + base fee), signs locally and sends raw: what a dapp does.
        ("auto", 2, Web3.to_wei("0.0089", "ether") + 17),
    ]
    for label, typ, value in kinds:
        to = Account.create().address
        nonce = w3.eth.get_transaction_count(acct.address, "pending")
        f = fees()
        tx = {"chainId": chain_id, "nonce": nonce, "to": to, "value": value, "gas": 21000}
        if typ == 2:
            tx.update(type=2, maxFeePerGas=f["maxFee"], maxPriorityFeePerGas=f["tip"])
        elif typ == 1:
            tx.update(type=1, gasPrice=f["gasPrice"], accessList=[])
        else:
            tx.update(gasPrice=f["gasPrice"])  # legacy, EIP-155 via chainId
        before = w3.eth.get_balance(acct.address)
        check(w3.eth.get_balance(to) == 0, f"{label}: fresh recipient {to} has a balance")

        if label == "auto":
            h = auto_w3.eth.send_transaction({"from": acct.address, "to": to, "value": value})
            tx = dict(auto_w3.eth.get_transaction(h))
        else:
            h = w3.eth.send_raw_transaction(sign(tx))
        try:
            rc = w3.eth.wait_for_transaction_receipt(h, timeout=TIMEOUT_S, poll_latency=0.25)
        except TimeExhausted:
            raise Fail(f"{label}: no receipt for {h.to_0x_hex()} after {TIMEOUT_S}s")
        hx = h.to_0x_hex()
        check(rc["transactionHash"] == h, f"{label}: receipt hash {rc['transactionHash'].to_0x_hex()} != {hx}")
        check(rc["status"] == 1, f"{label}: receipt status {rc['status']}")
        check(rc["type"] == typ, f"{label}: receipt type {rc['type']} != {typ}")
        check(rc["gasUsed"] == 21000, f"{label}: gasUsed {rc['gasUsed']} != 21000")
        check(rc["from"] == acct.address, f"{label}: receipt from {rc['from']}")
        check(rc["to"] == to, f"{label}: receipt to {rc['to']} != {to}")

        mined = w3.eth.get_transaction(h)
        check(mined["type"] == typ, f"{label}: tx type {mined['type']}")
        check(mined["nonce"] == nonce, f"{label}: tx nonce {mined['nonce']} != {nonce}")
        check(mined["value"] == value, f"{label}: tx value {mined['value']} != {value}")
        check(mined["from"] == acct.address, f"{label}: tx from {mined['from']}")
        check(mined["to"] == to, f"{label}: tx to {mined['to']}")
        check(mined["blockNumber"] == rc["blockNumber"], f"{label}: tx block {mined['blockNumber']} != receipt {rc['blockNumber']}")
        check(mined.get("chainId") == chain_id, f"{label}: tx chainId {mined.get('chainId')} != {chain_id}")

        block = w3.eth.get_block(rc["blockNumber"])
        if typ == 2:
            want_price = min(tx["maxFeePerGas"], block.get("baseFeePerGas", 0) + tx["maxPriorityFeePerGas"])
        else:
            want_price = tx["gasPrice"]
        check(rc["effectiveGasPrice"] == want_price,
              f"{label}: effectiveGasPrice {rc['effectiveGasPrice']} != {want_price} (block baseFee {block.get('baseFeePerGas')})")
        check(h in block["transactions"], f"{label}: tx not listed in block {rc['blockNumber']}")

        check(w3.eth.get_balance(to) == value, f"{label}: recipient balance {w3.eth.get_balance(to)} != {value}")
        after = w3.eth.get_balance(acct.address)
        fee = rc["gasUsed"] * rc["effectiveGasPrice"]
        check(before - after == value + fee,
              f"{label}: sender balance dropped by {before - after}, expected value + gasUsed*effectiveGasPrice = {value + fee}")
        summary["transfers"].append({
            "type": label, "hash": hx, "to": to, "value": str(value), "block": rc["blockNumber"],
            "gasUsed": rc["gasUsed"], "effectiveGasPrice": str(rc["effectiveGasPrice"]),
        })

    # ---- errors -------------------------------------------------------------
    def expect_error(name, needle, tx, key=DEV0_KEY):
        try:
            h = w3.eth.send_raw_transaction(sign(tx, key))
        except (Web3RPCError, ValueError) as e:  # web3 7: Web3RPCError; web3 6: ValueError
            check(isinstance(e, Web3RPCError), f"{name}: raised {type(e).__name__}: {e}, expected Web3RPCError")
            err = getattr(e, "rpc_response", None) or {}
            err = err.get("error", {}) if isinstance(err, dict) else {}
            msg = err.get("message") or str(e)
            check(needle in msg.lower(), f"{name}: node error {err or e!r} does not contain {needle!r}")
            summary["errors"][name] = {"code": err.get("code"), "message": msg, "raised": type(e).__name__}
            return
        raise Fail(f"{name}: send_raw_transaction was accepted ({h.to_0x_hex()}), expected an error containing {needle!r}")

    f = fees()
    nonce_now = w3.eth.get_transaction_count(acct.address, "pending")
    check(nonce_now >= 1, f"nonce is {nonce_now} after three transfers")
    base = {"chainId": chain_id, "type": 2, "to": Account.create().address, "value": 1, "gas": 21000,
            "maxFeePerGas": f["maxFee"], "maxPriorityFeePerGas": f["tip"]}

    expect_error("nonce_too_low", "nonce too low", dict(base, nonce=nonce_now - 1))
    expect_error("insufficient_funds", "insufficient funds",
                 dict(base, nonce=0, value=Web3.to_wei(1, "ether")), Account.create().key)
    if f["base"] > 1:
        expect_error("fee_cap_below_base_fee", "less than block base fee",
                     dict(base, nonce=nonce_now, maxFeePerGas=f["base"] // 2, maxPriorityFeePerGas=0))
    else:
        summary["errors"]["fee_cap_below_base_fee"] = {"skipped": f"base fee is {f['base']}"}
    expect_error("gas_above_block_limit", "intrinsic gas too high",
                 dict(base, nonce=nonce_now, gas=f["gasLimit"] + 1))

    nonce_after = w3.eth.get_transaction_count(acct.address, "pending")
    check(nonce_after == nonce_now, f"pending nonce moved from {nonce_now} to {nonce_after} after rejected transactions")
    summary["ok"] = True
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    run_main(main, "web3py_transfer.py RPC_URL", "web3.py")
