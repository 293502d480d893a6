#!/usr/bin/env python3
"""web3.py against an Ethereum JSON-RPC endpoint: a Solidity contract's whole life.

    tests/interop/.venv/bin/python tests/interop/web3py_contracts.py RPC_URL ARTIFACT_DIR

ARTIFACT_DIR holds InteropToken.json ({abi, bytecode, deployedBytecode}), from
`node tests/interop/solc_compile.mjs ARTIFACT_DIR tests/interop/contracts/InteropToken.sol`.
With dev account 0, signing locally through SignAndSendRawMiddleware (every
transaction goes out with eth_sendRawTransaction), it:

- deploys InteropToken (contract.constructor(...).transact()) and checks the
  receipt's contractAddress and that eth_getCode returns the deployedBytecode;
- calls views (name, symbol, decimals, totalSupply, balanceOf, scaled, guarded);
- installs filters first (events.Transfer.create_filter with argument_filters
  from = dev; w3.eth.filter with the Deposited topic and tag = 7), then sends an
  ERC-20 transfer and a payable deposit, waits for each receipt
  (wait_for_transaction_receipt) and checks the processed events and balances;
- reads logs back: events.X.get_logs and w3.eth.get_logs with address + topics
  (with a null wildcard) + block range, cases that must match nothing, and the
  filters' get_new_entries (once, then empty) and get_all_entries;
- estimates gas (functions.transfer(...).estimate_gas) and sends a transfer with
  exactly that gas;
- decodes reverts: ContractLogicError with the reason string from eth_call and
  eth_estimateGas, ContractCustomError for LimitExceeded(caller, amount, limit)
  and ERC20InsufficientBalance(sender, balance, needed) decoded against the
  ABI, and a mined revert (status 0).

Prints a JSON summary; exits 1 with `FAIL (web3.py contracts): ...` otherwise.
"""

import json

import rlp
from eth_account import Account
from eth_utils import keccak
from web3 import Web3
from web3.exceptions import ContractCustomError, ContractLogicError
from web3.middleware import SignAndSendRawMiddlewareBuilder

from interop_common import DEV0_ADDR, DEV0_KEY, TIMEOUT_S, Fail, check, load_artifact, run_main, word

SUPPLY = 1_000_000 * 10**18
LIMIT = 1000
DEPOSIT_TAG = 7


def topic(v):
    """An indexed uint256 or address argument as a log topic."""
    return "0x" + word(v)


def hexstr(b):
    return b if isinstance(b, str) else "0x" + bytes(b).hex()


def decode_custom_error(w3, abi, data):
    """Decodes revert data against the ABI's errors: (name, args)."""
    raw = bytes.fromhex(data[2:] if data.startswith("0x") else data)
    for item in abi:
        if item["type"] != "error":
            continue
        types = [i["type"] for i in item["inputs"]]
        selector = keccak(text=f"{item['name']}({','.join(types)})")[:4]
        if raw[:4] == selector:
            values = w3.codec.decode(types, raw[4:])
            return item["name"], [Web3.to_checksum_address(v) if t == "address" else v for t, v in zip(types, values)]
    raise Fail(f"revert data {data} matches no error in the ABI")


def expect_revert(name, kind, action):
    try:
        action()
    except kind as e:
        return e
    except Exception as e:  # noqa: BLE001 - the wrong exception is the failure reported
        raise Fail(f"{name}: raised {type(e).__name__}: {e}, expected {kind.__name__}") from e
    raise Fail(f"{name}: did not revert")


def main(url, artifact_dir):
    artifact = load_artifact(artifact_dir, "InteropToken")
    abi = artifact["abi"]
    w3 = Web3(Web3.HTTPProvider(url, request_kwargs={"timeout": 20}))
    check(w3.is_connected(), f"cannot reach {url}")
    acct = Account.from_key(DEV0_KEY)
    check(acct.address == DEV0_ADDR, f"derived {acct.address}, expected {DEV0_ADDR}")
    w3.middleware_onion.inject(SignAndSendRawMiddlewareBuilder.build(acct), layer=0)
    w3.eth.default_account = acct.address
    summary = {"library": "web3.py", "version": __import__("web3").__version__, "url": url, "chainId": w3.eth.chain_id}

    def mined(tx_hash):
        receipt = w3.eth.wait_for_transaction_receipt(tx_hash, timeout=TIMEOUT_S, poll_latency=0.25)
        check(receipt["transactionHash"] == tx_hash, f"receipt for {tx_hash.to_0x_hex()} has another hash")
        return receipt

    # ---- deploy ---------------------------------------------------------------
    factory = w3.eth.contract(abi=abi, bytecode=artifact["bytecode"])
    nonce = w3.eth.get_transaction_count(DEV0_ADDR, "pending")
    deploy_hash = factory.constructor(SUPPLY).transact()
    deploy = mined(deploy_hash)
    check(deploy["status"] == 1, f"deploy: status {deploy['status']}")
    check(deploy["to"] is None, f"deploy: receipt.to is {deploy['to']}")
    address = deploy["contractAddress"]
    expected = Web3.to_checksum_address(keccak(rlp.encode([bytes.fromhex(DEV0_ADDR[2:]), nonce]))[12:])
    check(address == expected, f"deploy: contractAddress {address}, expected CREATE address {expected}")
    code = w3.eth.get_code(address)
    check(hexstr(code).lower() == artifact["deployedBytecode"].lower(), "deploy: eth_getCode differs from the deployedBytecode")
    token = w3.eth.contract(address=address, abi=abi)
    (mint,) = token.events.Transfer().process_receipt(deploy)
    check(mint["args"]["to"] == DEV0_ADDR and mint["args"]["value"] == SUPPLY, f"deploy: mint event {dict(mint['args'])}")
    summary["deploy"] = {"hash": deploy_hash.to_0x_hex(), "address": address, "block": deploy["blockNumber"], "gasUsed": deploy["gasUsed"]}

    # ---- views ----------------------------------------------------------------
    f = token.functions
    check(f.name().call() == "Interop Token", "name()")
    check(f.symbol().call() == "IOP", "symbol()")
    check(f.decimals().call() == 18, "decimals()")
    check(f.totalSupply().call() == SUPPLY, "totalSupply()")
    check(f.balanceOf(DEV0_ADDR).call() == SUPPLY, "balanceOf(dev) after deploy")
    check(f.scaled(DEV0_ADDR, 6, 7).call() == 42, "scaled(dev, 6, 7) before any deposit")
    check(f.guarded(LIMIT).call({"from": DEV0_ADDR}) == LIMIT, "guarded(LIMIT)")

    # ---- filters installed before the transactions ------------------------------
    transfer_filter = token.events.Transfer.create_filter(from_block="latest", argument_filters={"from": DEV0_ADDR})
    deposited_topic = "0x" + keccak(text="Deposited(address,uint256,uint256,uint256)").hex()
    deposit_filter = w3.eth.filter({"address": address, "topics": [deposited_topic, None, topic(DEPOSIT_TAG)]})

    # ---- state-changing transactions ---------------------------------------------
    recipient = Account.create().address
    amount = 12_345 * 10**15 + 7
    transfer_hash = f.transfer(recipient, amount).transact()
    transfer = mined(transfer_hash)
    check(transfer["status"] == 1, f"transfer: status {transfer['status']}")
    (event,) = token.events.Transfer().process_receipt(transfer)
    check(dict(event["args"]) == {"from": DEV0_ADDR, "to": recipient, "value": amount}, f"transfer: event {dict(event['args'])}")
    check(event["address"] == address and event["blockNumber"] == transfer["blockNumber"], "transfer: event address/block")
    check(f.balanceOf(recipient).call() == amount, "balanceOf(recipient) after transfer")
    check(f.balanceOf(DEV0_ADDR).call() == SUPPLY - amount, "balanceOf(dev) after transfer")
    # eth_call at a past block reads that block's state.
    at_deploy = f.balanceOf(DEV0_ADDR).call(block_identifier=deploy["blockNumber"])
    check(at_deploy == SUPPLY, f"balanceOf(dev) at the deploy block {deploy['blockNumber']}: {at_deploy}")
    check(f.balanceOf(recipient).call(block_identifier=transfer["blockNumber"]) == amount, "balanceOf(recipient) at the transfer's block")

    deposit_value = Web3.to_wei("0.25", "ether") + 3
    deposit_hash = f.deposit(DEPOSIT_TAG).transact({"value": deposit_value})
    deposit = mined(deposit_hash)
    check(deposit["status"] == 1, f"deposit: status {deposit['status']}")
    (dep,) = token.events.Deposited().process_receipt(deposit)
    check(dict(dep["args"]) == {"from": DEV0_ADDR, "tag": DEPOSIT_TAG, "amount": deposit_value, "total": deposit_value},
          f"deposit: event {dict(dep['args'])}")
    check(w3.eth.get_balance(address) == deposit_value, "contract balance after deposit")
    check(f.deposits(DEV0_ADDR).call() == deposit_value, "deposits(dev) after deposit")
    check(f.scaled(DEV0_ADDR, 6, 7).call() == 42 + deposit_value, "scaled(dev, 6, 7) after deposit")
    summary["transfer"] = {"hash": transfer_hash.to_0x_hex(), "block": transfer["blockNumber"], "gasUsed": transfer["gasUsed"]}
    summary["deposit"] = {"hash": deposit_hash.to_0x_hex(), "block": deposit["blockNumber"], "gasUsed": deposit["gasUsed"]}

    # ---- logs: eth_getLogs with filters ---------------------------------------------
    first, last = deploy["blockNumber"], deposit["blockNumber"]
    logs = token.events.Transfer.get_logs(argument_filters={"from": DEV0_ADDR}, from_block=first, to_block=last)
    check([(l["transactionHash"], l["args"]["value"]) for l in logs] == [(transfer_hash, amount)],
          f"get_logs(Transfer from dev, {first}..{last}): {[dict(l['args']) for l in logs]}")
    transfer_topic = "0x" + keccak(text="Transfer(address,address,uint256)").hex()
    raw = w3.eth.get_logs({"address": address, "fromBlock": first, "toBlock": last,
                           "topics": [transfer_topic, None, topic(recipient)]})
    check(len(raw) == 1 and raw[0]["transactionHash"] == transfer_hash, f"eth_getLogs(Transfer, *, recipient): {len(raw)} logs")
    check(hexstr(raw[0]["data"]) == topic(amount), f"eth_getLogs: data {hexstr(raw[0]['data'])}")
    every = w3.eth.get_logs({"address": address, "fromBlock": first, "toBlock": last})
    check([hexstr(l["topics"][0]) for l in every] == [transfer_topic, transfer_topic, deposited_topic],
          f"eth_getLogs(address, {first}..{last}): {len(every)} logs, expected mint, transfer, deposit")
    either = w3.eth.get_logs({"address": address, "fromBlock": first, "toBlock": "latest",
                              "topics": [[transfer_topic, deposited_topic], topic(DEV0_ADDR)]})
    check([l["transactionHash"] for l in either] == [transfer_hash, deposit_hash],
          f"eth_getLogs(Transfer or Deposited, from dev): {[l['transactionHash'].to_0x_hex() for l in either]}")
    none = w3.eth.get_logs({"address": address, "fromBlock": first, "toBlock": "latest",
                            "topics": [deposited_topic, None, topic(DEPOSIT_TAG + 1)]})
    check(none == [], f"eth_getLogs(Deposited tag 8): {len(none)} logs, expected none")
    elsewhere = w3.eth.get_logs({"address": recipient, "fromBlock": first, "toBlock": last})
    check(elsewhere == [], f"eth_getLogs(another address): {len(elsewhere)} logs, expected none")
    if transfer["blockNumber"] > first:
        early = token.events.Transfer.get_logs(argument_filters={"from": DEV0_ADDR}, from_block=first, to_block=transfer["blockNumber"] - 1)
        check(list(early) == [], f"get_logs(Transfer from dev) before the transfer's block: {len(early)} logs")
    at_hash = w3.eth.get_logs({"blockHash": transfer["blockHash"], "address": address})
    check(any(l["transactionHash"] == transfer_hash for l in at_hash), "eth_getLogs(blockHash): the transfer log is missing")

    # ---- logs: eth_newFilter + eth_getFilterChanges -----------------------------------
    entries = transfer_filter.get_new_entries()
    check([(e["transactionHash"], dict(e["args"])) for e in entries] == [(transfer_hash, {"from": DEV0_ADDR, "to": recipient, "value": amount})],
          f"Transfer filter get_new_entries: {[dict(e['args']) for e in entries]}")
    check(transfer_filter.get_new_entries() == [], "Transfer filter get_new_entries a second time is not empty")
    dep_entries = deposit_filter.get_new_entries()
    check([e["transactionHash"] for e in dep_entries] == [deposit_hash], f"Deposited filter get_new_entries: {len(dep_entries)} logs")
    range_filter = w3.eth.filter({"address": address, "fromBlock": first, "toBlock": last, "topics": [transfer_topic, topic(DEV0_ADDR)]})
    all_entries = range_filter.get_all_entries()
    check([e["transactionHash"] for e in all_entries] == [transfer_hash], f"range filter get_all_entries: {len(all_entries)} logs")
    for flt in (transfer_filter, deposit_filter, range_filter):
        check(w3.eth.uninstall_filter(flt.filter_id) is True, f"uninstall_filter({flt.filter_id}) returned false")

    # ---- estimate gas -------------------------------------------------------------
    second = Account.create().address
    estimate = f.transfer(second, 5).estimate_gas({"from": DEV0_ADDR})
    check(21_000 < estimate < 200_000, f"estimate_gas(transfer): {estimate}")
    estimated = mined(f.transfer(second, 5).transact({"gas": estimate}))
    check(estimated["status"] == 1, f"transfer with gas = estimate {estimate}: status {estimated['status']}")
    check(estimated["gasUsed"] <= estimate, f"transfer: gasUsed {estimated['gasUsed']} > estimate {estimate}")
    deposit_estimate = f.deposit(1).estimate_gas({"from": DEV0_ADDR, "value": 1})
    check(deposit_estimate > 21_000, f"estimate_gas(deposit): {deposit_estimate}")
    summary["estimates"] = {"transfer": estimate, "transferGasUsed": estimated["gasUsed"], "deposit": deposit_estimate}

    # ---- reverts ----------------------------------------------------------------
    e = expect_revert("eth_call failWithReason()", ContractLogicError, lambda: f.failWithReason().call({"from": DEV0_ADDR}))
    check(e.message == "execution reverted: InteropToken: reason string", f"eth_call failWithReason(): message {e.message!r}")
    e2 = expect_revert("eth_estimateGas deposit(1) with no value", ContractLogicError,
                       lambda: f.deposit(1).estimate_gas({"from": DEV0_ADDR}))
    check(e2.message == "execution reverted: InteropToken: nothing deposited", f"estimate_gas deposit(1): message {e2.message!r}")
    custom = expect_revert("eth_call guarded(5000)", ContractCustomError, lambda: f.guarded(5000).call({"from": DEV0_ADDR}))
    name, args = decode_custom_error(w3, abi, custom.data)
    check((name, args) == ("LimitExceeded", [DEV0_ADDR, 5000, LIMIT]), f"eth_call guarded(5000): decoded {name}{args}")
    balance = f.balanceOf(DEV0_ADDR).call()
    insufficient = expect_revert("eth_estimateGas transfer(balance + 1)", ContractCustomError,
                                 lambda: f.transfer(recipient, balance + 1).estimate_gas({"from": DEV0_ADDR}))
    name2, args2 = decode_custom_error(w3, abi, insufficient.data)
    check((name2, args2) == ("ERC20InsufficientBalance", [DEV0_ADDR, balance, balance + 1]),
          f"estimate_gas transfer(balance + 1): decoded {name2}{args2}")

    nonce_before = w3.eth.get_transaction_count(DEV0_ADDR, "pending")
    revert_hash = f.failWithReason().transact({"gas": 100_000})
    reverted = mined(revert_hash)
    check(reverted["status"] == 0, f"mined failWithReason(): status {reverted['status']}")
    check(reverted["logs"] == [], f"mined failWithReason(): {len(reverted['logs'])} logs")
    check(21_000 < reverted["gasUsed"] < 100_000, f"mined failWithReason(): gasUsed {reverted['gasUsed']}")
    nonce_after = w3.eth.get_transaction_count(DEV0_ADDR, "pending")
    check(nonce_after == nonce_before + 1, f"mined revert: pending nonce {nonce_before} -> {nonce_after}")
    summary["reverts"] = {
        "callReason": e.message, "estimateReason": e2.message,
        "custom": [name, [str(a) for a in args]], "insufficient": [name2, [str(a) for a in args2]],
        "mined": {"hash": revert_hash.to_0x_hex(), "status": reverted["status"], "gasUsed": reverted["gasUsed"]},
    }
    summary["ok"] = True
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    run_main(main, "web3py_contracts.py RPC_URL ARTIFACT_DIR", "web3.py contracts")
