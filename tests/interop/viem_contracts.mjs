#!/usr/bin/env node
// viem against an Ethereum JSON-RPC endpoint: a Solidity contract's whole life.
//
//   node tests/interop/viem_contracts.mjs RPC_URL ARTIFACT_DIR
//
// ARTIFACT_DIR holds InteropToken.json ({abi, bytecode, deployedBytecode}),
// written by `node tests/interop/solc_compile.mjs ARTIFACT_DIR
// tests/interop/contracts/InteropToken.sol`. With dev account 0 (signing
// locally, sending with eth_sendRawTransaction) it:
// - deploys InteropToken (walletClient.deployContract) and checks the receipt's
//   contractAddress and that eth_getCode returns the deployedBytecode;
// - reads views (readContract): name, symbol, decimals, totalSupply,
//   balanceOf, scaled(who, a, b), guarded(amount);
// - installs log filters first (createContractEventFilter on Transfer with
//   from = dev, createEventFilter on Deposited with tag = 7), then sends an
//   ERC-20 transfer and a payable deposit (writeContract), waits for each
//   receipt and checks the decoded logs and the new balances;
// - reads the logs back with eth_getLogs (getContractEvents / getLogs with
//   address + event topic + indexed-argument topic + block range, and cases
//   that must match nothing: another address, another indexed value, a block
//   range before the transaction) and with eth_getFilterChanges (each filter
//   returns its log once, then nothing) and eth_getFilterLogs;
// - estimates gas (estimateContractGas), sends a transfer with exactly the
//   estimate and checks it succeeded with gasUsed <= estimate;
// - decodes reverts: Error(string) from eth_call and from eth_estimateGas, the
//   custom error LimitExceeded(caller, amount, limit) from eth_call, OZ's
//   ERC20InsufficientBalance(sender, balance, needed) from eth_estimateGas,
//   and a mined revert (status reverted, nonce used).
// Prints a JSON summary; exits 1 with `FAIL (viem contracts): ...` otherwise.

import { readFileSync } from 'node:fs';
import path from 'node:path';
import {
  http,
  parseEther,
  getContractAddress,
  BaseError,
  ContractFunctionRevertedError,
  decodeEventLog,
} from 'viem';
import { privateKeyToAccount, generatePrivateKey } from 'viem/accounts';
import { DEV_ADDR, TIMEOUT_MS, connect } from './viem_common.mjs';

const SUPPLY = 1_000_000n * 10n ** 18n;
const LIMIT = 1000n;
const DEPOSIT_TAG = 7n;

const [url, artifactDir] = process.argv.slice(2);
if (!url || !artifactDir) {
  console.error('usage: node viem_contracts.mjs RPC_URL ARTIFACT_DIR');
  process.exit(2);
}

class Fail extends Error {}
function check(cond, msg) {
  if (!cond) throw new Fail(msg);
}
const same = (a, b) => typeof a === 'string' && typeof b === 'string' && a.toLowerCase() === b.toLowerCase();
const json = (v) => JSON.stringify(v, (_, x) => (typeof x === 'bigint' ? x.toString() : x));

/** Runs `action`, which must throw; returns viem's ContractFunctionRevertedError from the chain of causes. */
async function expectRevert(name, action) {
  let thrown;
  try {
    await action();
  } catch (e) {
    thrown = e;
  }
  check(thrown, `${name}: did not revert`);
  check(thrown instanceof BaseError, `${name}: threw ${thrown?.constructor?.name}: ${thrown?.message}`);
  const reverted = thrown.walk((e) => e instanceof ContractFunctionRevertedError);
  check(reverted, `${name}: no ContractFunctionRevertedError in ${thrown.constructor.name}: ${thrown.shortMessage}\n${thrown.message}`);
  return reverted;
}

async function main() {
  const artifact = JSON.parse(readFileSync(path.join(artifactDir, 'InteropToken.json'), 'utf8'));
  const { abi, bytecode, deployedBytecode } = artifact;
  const transport = http(url, { retryCount: 0, timeout: 20_000 });
  const { chainId, client, account, wallet } = await connect(url, transport);
  check(account.address === DEV_ADDR, `derived ${account.address}, expected ${DEV_ADDR}`);
  const summary = { library: 'viem', url, chainId };
  const mined = async (hash) => {
    const receipt = await client.waitForTransactionReceipt({ hash, timeout: TIMEOUT_MS, pollingInterval: 250 });
    check(receipt.transactionHash === hash, `receipt for ${hash} has hash ${receipt.transactionHash}`);
    return receipt;
  };

  // ---- deploy ---------------------------------------------------------------
  const deployHash = await wallet.deployContract({ abi, bytecode, args: [SUPPLY] });
  const deployReceipt = await mined(deployHash);
  check(deployReceipt.status === 'success', `deploy: receipt status ${deployReceipt.status}`);
  check(deployReceipt.to === null, `deploy: receipt.to is ${deployReceipt.to}, expected null`);
  const address = deployReceipt.contractAddress;
  check(address && /^0x[0-9a-fA-F]{40}$/.test(address), `deploy: contractAddress ${address}`);
  const deployTx = await client.getTransaction({ hash: deployHash });
  const expected = getContractAddress({ from: DEV_ADDR, nonce: BigInt(deployTx.nonce) });
  check(same(address, expected), `deploy: contractAddress ${address}, expected CREATE address ${expected}`);
  const code = await client.getCode({ address });
  check(same(code, deployedBytecode), `deploy: eth_getCode differs from the deployedBytecode (${code?.length} vs ${deployedBytecode.length} chars)`);
  // The constructor's Transfer(0, dev, SUPPLY) is in the deploy receipt.
  check(deployReceipt.logs.length === 1, `deploy: ${deployReceipt.logs.length} logs, expected 1 (the mint)`);
  const mint = decodeEventLog({ abi, ...deployReceipt.logs[0] });
  check(mint.eventName === 'Transfer' && mint.args.to === DEV_ADDR && mint.args.value === SUPPLY,
    `deploy: mint log decodes to ${json(mint)}`);
  summary.deploy = { hash: deployHash, address, block: deployReceipt.blockNumber, gasUsed: deployReceipt.gasUsed };

  // ---- views ----------------------------------------------------------------
  const read = (functionName, args = [], extra = {}) => client.readContract({ address, abi, functionName, args, ...extra });
  check((await read('name')) === 'Interop Token', 'name()');
  check((await read('symbol')) === 'IOP', 'symbol()');
  check((await read('decimals')) === 18, 'decimals()');
  check((await read('totalSupply')) === SUPPLY, 'totalSupply()');
  check((await read('balanceOf', [DEV_ADDR])) === SUPPLY, 'balanceOf(dev) after deploy');
  check((await read('scaled', [DEV_ADDR, 6n, 7n])) === 42n, 'scaled(dev, 6, 7) before any deposit');
  check((await read('guarded', [LIMIT], { account: DEV_ADDR })) === LIMIT, 'guarded(LIMIT)');
  check((await read('LIMIT')) === LIMIT, 'LIMIT()');

  // ---- filters installed before the transactions ------------------------------
  const transferFilter = await client.createContractEventFilter({
    address, abi, eventName: 'Transfer', args: { from: DEV_ADDR }, strict: true,
  });
  const depositedEvent = abi.find((x) => x.type === 'event' && x.name === 'Deposited');
  const depositFilter = await client.createEventFilter({ address, event: depositedEvent, args: { tag: DEPOSIT_TAG } });

  // ---- state-changing transactions ---------------------------------------------
  const recipient = privateKeyToAccount(generatePrivateKey()).address;
  const amount = 12_345n * 10n ** 15n + 7n;
  const transferHash = await wallet.writeContract({ address, abi, functionName: 'transfer', args: [recipient, amount] });
  const transferReceipt = await mined(transferHash);
  check(transferReceipt.status === 'success', `transfer: status ${transferReceipt.status}`);
  check(same(transferReceipt.to, address), `transfer: receipt.to ${transferReceipt.to}`);
  check(transferReceipt.logs.length === 1, `transfer: ${transferReceipt.logs.length} logs, expected 1`);
  const transferLog = transferReceipt.logs[0];
  const decoded = decodeEventLog({ abi, ...transferLog });
  check(decoded.eventName === 'Transfer' && decoded.args.from === DEV_ADDR && decoded.args.to === recipient && decoded.args.value === amount,
    `transfer: log decodes to ${json(decoded)}`);
  check(same(transferLog.address, address), `transfer: log address ${transferLog.address}`);
  check(transferLog.transactionHash === transferHash && transferLog.blockNumber === transferReceipt.blockNumber,
    `transfer: log tx/block ${transferLog.transactionHash}/${transferLog.blockNumber}`);
  check((await read('balanceOf', [recipient])) === amount, 'balanceOf(recipient) after transfer');
  check((await read('balanceOf', [DEV_ADDR])) === SUPPLY - amount, 'balanceOf(dev) after transfer');
  // eth_call at a past block reads that block's state.
  const atDeploy = await read('balanceOf', [DEV_ADDR], { blockNumber: deployReceipt.blockNumber });
  check(atDeploy === SUPPLY, `balanceOf(dev) at the deploy block ${deployReceipt.blockNumber}: ${atDeploy}`);
  const atTransfer = await read('balanceOf', [recipient], { blockNumber: transferReceipt.blockNumber });
  check(atTransfer === amount, `balanceOf(recipient) at the transfer's block: ${atTransfer}`);

  const depositValue = parseEther('0.25') + 3n;
  const depositHash = await wallet.writeContract({ address, abi, functionName: 'deposit', args: [DEPOSIT_TAG], value: depositValue });
  const depositReceipt = await mined(depositHash);
  check(depositReceipt.status === 'success', `deposit: status ${depositReceipt.status}`);
  const dep = decodeEventLog({ abi, ...depositReceipt.logs[0] });
  check(dep.eventName === 'Deposited' && dep.args.from === DEV_ADDR && dep.args.tag === DEPOSIT_TAG
    && dep.args.amount === depositValue && dep.args.total === depositValue, `deposit: log decodes to ${json(dep)}`);
  check((await client.getBalance({ address })) === depositValue, 'contract balance after deposit');
  check((await read('deposits', [DEV_ADDR])) === depositValue, 'deposits(dev) after deposit');
  check((await read('scaled', [DEV_ADDR, 6n, 7n])) === 42n + depositValue, 'scaled(dev, 6, 7) after deposit');
  summary.transfer = { hash: transferHash, block: transferReceipt.blockNumber, gasUsed: transferReceipt.gasUsed };
  summary.deposit = { hash: depositHash, block: depositReceipt.blockNumber, gasUsed: depositReceipt.gasUsed };

  // ---- logs: eth_getLogs with filters ---------------------------------------------
  const first = deployReceipt.blockNumber;
  const last = depositReceipt.blockNumber;
  const events = await client.getContractEvents({ address, abi, eventName: 'Transfer', args: { from: DEV_ADDR }, fromBlock: first, toBlock: last, strict: true });
  check(events.length === 1 && events[0].transactionHash === transferHash && events[0].args.value === amount,
    `getLogs(Transfer from dev, ${first}..${last}): ${json(events.map((e) => [e.transactionHash, e.args]))}`);
  const all = await client.getContractEvents({ address, abi, fromBlock: first, toBlock: last });
  check(json(all.map((e) => e.eventName)) === json(['Transfer', 'Transfer', 'Deposited']),
    `getLogs(address only, ${first}..${last}): events ${json(all.map((e) => e.eventName))}, expected mint, transfer, deposit`);
  const byTag = await client.getLogs({ address, event: depositedEvent, args: { tag: DEPOSIT_TAG }, fromBlock: first, toBlock: 'latest' });
  check(byTag.length === 1 && byTag[0].transactionHash === depositHash, `getLogs(Deposited tag 7): ${byTag.length} logs`);
  const wrongTag = await client.getLogs({ address, event: depositedEvent, args: { tag: DEPOSIT_TAG + 1n }, fromBlock: first, toBlock: 'latest' });
  check(wrongTag.length === 0, `getLogs(Deposited tag 8): ${wrongTag.length} logs, expected none`);
  const otherAddress = await client.getContractEvents({ address: recipient, abi, fromBlock: first, toBlock: last });
  check(otherAddress.length === 0, `getLogs(another address): ${otherAddress.length} logs, expected none`);
  if (transferReceipt.blockNumber > first) {
    const before = await client.getContractEvents({ address, abi, eventName: 'Transfer', args: { from: DEV_ADDR }, fromBlock: first, toBlock: transferReceipt.blockNumber - 1n });
    check(before.length === 0, `getLogs(Transfer from dev, ${first}..${transferReceipt.blockNumber - 1n}): ${before.length} logs, expected none`);
  }
  const toOnly = await client.getContractEvents({ address, abi, eventName: 'Transfer', args: { to: recipient }, fromBlock: first, toBlock: last });
  check(toOnly.length === 1 && toOnly[0].transactionHash === transferHash, `getLogs(Transfer to recipient, null first topic): ${toOnly.length} logs`);
  const atHash = await client.getContractEvents({ address, abi, blockHash: transferReceipt.blockHash });
  check(atHash.some((e) => e.transactionHash === transferHash), `getLogs(blockHash): the transfer log is missing`);

  // ---- logs: eth_newFilter + eth_getFilterChanges -----------------------------------
  const changes = await client.getFilterChanges({ filter: transferFilter });
  check(changes.length === 1 && changes[0].transactionHash === transferHash && changes[0].args.to === recipient && changes[0].args.value === amount,
    `getFilterChanges(Transfer from dev): ${json(changes.map((e) => [e.transactionHash, e.args]))}`);
  const again = await client.getFilterChanges({ filter: transferFilter });
  check(again.length === 0, `getFilterChanges a second time: ${again.length} logs, expected none`);
  const depositChanges = await client.getFilterChanges({ filter: depositFilter });
  check(depositChanges.length === 1 && depositChanges[0].transactionHash === depositHash && depositChanges[0].args.amount === depositValue,
    `getFilterChanges(Deposited tag 7): ${json(depositChanges.map((e) => [e.transactionHash, e.args]))}`);
  // eth_getFilterLogs answers with everything the filter's range matches: a filter
  // over the blocks already mined, installed after the transactions.
  const rangeFilter = await client.createContractEventFilter({
    address, abi, eventName: 'Transfer', args: { to: recipient }, fromBlock: first, toBlock: last, strict: true,
  });
  const filterLogs = await client.getFilterLogs({ filter: rangeFilter });
  check(filterLogs.length === 1 && filterLogs[0].transactionHash === transferHash && filterLogs[0].args.value === amount,
    `getFilterLogs(Transfer to recipient, ${first}..${last}): ${json(filterLogs.map((e) => [e.transactionHash, e.args]))}`);
  check((await client.uninstallFilter({ filter: rangeFilter })) === true, 'uninstallFilter(range filter) returned false');
  check((await client.uninstallFilter({ filter: transferFilter })) === true, 'uninstallFilter(transfer filter) returned false');
  check((await client.uninstallFilter({ filter: depositFilter })) === true, 'uninstallFilter(deposit filter) returned false');

  // ---- estimate gas -------------------------------------------------------------
  const second = privateKeyToAccount(generatePrivateKey()).address;
  const estimate = await client.estimateContractGas({ address, abi, functionName: 'transfer', args: [second, 5n], account });
  check(estimate > 21_000n && estimate < 200_000n, `estimateContractGas(transfer): ${estimate}`);
  const estimatedHash = await wallet.writeContract({ address, abi, functionName: 'transfer', args: [second, 5n], gas: estimate });
  const estimatedReceipt = await mined(estimatedHash);
  check(estimatedReceipt.status === 'success', `transfer with gas = estimate ${estimate}: status ${estimatedReceipt.status}`);
  check(estimatedReceipt.gasUsed <= estimate, `transfer: gasUsed ${estimatedReceipt.gasUsed} > estimate ${estimate}`);
  const depositEstimate = await client.estimateContractGas({ address, abi, functionName: 'deposit', args: [1n], value: 1n, account });
  check(depositEstimate > 21_000n, `estimateContractGas(deposit): ${depositEstimate}`);
  summary.estimates = { transfer: estimate, transferGasUsed: estimatedReceipt.gasUsed, deposit: depositEstimate };

  // ---- reverts ----------------------------------------------------------------
  const reasonCall = await expectRevert('eth_call failWithReason()', () =>
    client.simulateContract({ address, abi, functionName: 'failWithReason', account }));
  check(reasonCall.reason === 'InteropToken: reason string', `eth_call failWithReason(): reason ${json(reasonCall.reason)}`);
  const reasonEstimate = await expectRevert('eth_estimateGas deposit(1) with no value', () =>
    client.estimateContractGas({ address, abi, functionName: 'deposit', args: [1n], account }));
  check(reasonEstimate.reason === 'InteropToken: nothing deposited', `eth_estimateGas deposit(): reason ${json(reasonEstimate.reason)}`);
  const custom = await expectRevert('eth_call guarded(5000)', () => read('guarded', [5000n], { account: DEV_ADDR }));
  check(custom.data?.errorName === 'LimitExceeded' && json(custom.data.args) === json([DEV_ADDR, 5000n, LIMIT]),
    `eth_call guarded(5000): decoded ${json(custom.data)}`);
  const balance = await read('balanceOf', [DEV_ADDR]);
  const tooMuch = balance + 1n;
  const insufficient = await expectRevert('eth_estimateGas transfer(balance + 1)', () =>
    client.estimateContractGas({ address, abi, functionName: 'transfer', args: [recipient, tooMuch], account }));
  check(insufficient.data?.errorName === 'ERC20InsufficientBalance'
    && json(insufficient.data.args) === json([DEV_ADDR, balance, tooMuch]), `eth_estimateGas transfer(balance + 1): decoded ${json(insufficient.data)}`);

  // A reverting transaction sent with a fixed gas limit is mined with status 0.
  const nonceBefore = await client.getTransactionCount({ address: DEV_ADDR, blockTag: 'pending' });
  const revertHash = await wallet.writeContract({ address, abi, functionName: 'failWithReason', gas: 100_000n });
  const revertReceipt = await mined(revertHash);
  check(revertReceipt.status === 'reverted', `mined failWithReason(): status ${revertReceipt.status}`);
  check(revertReceipt.logs.length === 0, `mined failWithReason(): ${revertReceipt.logs.length} logs`);
  check(revertReceipt.gasUsed > 21_000n && revertReceipt.gasUsed < 100_000n, `mined failWithReason(): gasUsed ${revertReceipt.gasUsed}`);
  const nonceAfter = await client.getTransactionCount({ address: DEV_ADDR, blockTag: 'pending' });
  check(nonceAfter === nonceBefore + 1, `mined revert: pending nonce ${nonceBefore} -> ${nonceAfter}`);
  summary.reverts = {
    callReason: reasonCall.reason, estimateReason: reasonEstimate.reason,
    custom: { name: custom.data.errorName, args: custom.data.args },
    insufficient: { name: insufficient.data.errorName, args: insufficient.data.args },
    mined: { hash: revertHash, status: revertReceipt.status, gasUsed: revertReceipt.gasUsed },
  };
  summary.ok = true;
  console.log(json(summary));
}

main().catch((e) => {
  const msg = e instanceof Fail ? e.message : `${e?.constructor?.name}: ${e?.shortMessage ?? e?.message}\n${e?.stack}`;
  console.error(`FAIL (viem contracts): ${msg}`);
  process.exit(1);
});
