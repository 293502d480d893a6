#!/usr/bin/env node
// viem against an Ethereum JSON-RPC endpoint: signed transfers and error mapping.
//
//   node tests/interop/viem_transfer.mjs RPC_URL
//
// Uses dev account 0 of the standard test mnemonic. Reads the chain id at run
// time (defineChain), signs locally and sends with eth_sendRawTransaction an
// EIP-1559, an EIP-2930 and a legacy (type 0, EIP-155) transfer to fresh
// random addresses, then one more through walletClient.sendTransaction with
// only {to, value} (viem fills the rest, signs locally, sends raw), waits for each receipt and checks: status success,
// gasUsed == 21000, recipient balance == value, sender balance dropped by
// exactly value + gasUsed * effectiveGasPrice, the mined tx echoes what was
// signed. Then checks that the node's rejections of a nonce-too-low, an
// insufficient-funds, a fee-cap-below-base-fee and a gas-above-block-limit
// transaction surface as viem's usual error classes. Never calls
// eth_sendTransaction (asserted). Prints a JSON summary; exits 1 on failure.

import {
  createWalletClient,
  http,
  parseEther,
  BaseError,
  NonceTooLowError,
  InsufficientFundsError,
  FeeCapTooLowError,
  IntrinsicGasTooHighError,
  TransactionExecutionError,
} from 'viem';
import { privateKeyToAccount, generatePrivateKey } from 'viem/accounts';
import { getTransactionError } from 'viem/utils';
import { DEV_ADDR, TIMEOUT_MS, connect } from './viem_common.mjs';

const url = process.argv[2];
if (!url) {
  console.error('usage: node viem_transfer.mjs RPC_URL');
  process.exit(2);
}

function fail(msg) {
  console.error(`FAIL (viem): ${msg}`);
  process.exit(1);
}
function check(cond, msg) {
  if (!cond) fail(msg);
}

// Record every JSON-RPC method the transport sends (to prove no eth_sendTransaction).
const methodsSeen = new Set();
const transport = http(url, {
  retryCount: 0,
  timeout: 20_000,
  onFetchRequest: async (request) => {
    try {
      const body = JSON.parse(await request.clone().text());
      for (const r of Array.isArray(body) ? body : [body]) methodsSeen.add(r.method);
    } catch {
      /* ignore */
    }
  },
});

async function main() {
  const { chainId, chain, client, account, wallet } = await connect(url, transport);
  check(account.address === DEV_ADDR, `derived ${account.address}, expected ${DEV_ADDR}`);

  const startBalance = await client.getBalance({ address: account.address });
  check(startBalance > parseEther('1'), `dev account 0 balance too small: ${startBalance}`);

  const summary = { library: 'viem', url, chainId, sender: account.address, startBalance: startBalance.toString(), transfers: [], errors: {} };

  async function fees() {
    const block = await client.getBlock({ blockTag: 'latest' });
    const baseFee = block.baseFeePerGas ?? 0n;
    const tip = 1_000_000_000n; // 1 gwei
    return { baseFee, tip, maxFeePerGas: baseFee * 2n + tip, gasPrice: baseFee * 2n + tip, blockGasLimit: block.gasLimit };
  }

  const kinds = [
    { label: 'eip1559', value: parseEther('0.0123') + 7n },
    { label: 'eip2930', value: parseEther('0.0045') + 11n },
    { label: 'legacy', value: parseEther('0.0067') + 13n },
    // Let viem fill nonce, gas, fees and type itself (eth_fillTransaction when the
    // node has it, else eth_estimateGas / eth_getBlockByNumber /
    // eth_maxPriorityFeePerGas / eth_getTransactionCount), sign locally and send
    // with eth_sendRawTransaction: what a dapp does.
    { label: 'auto', value: parseEther('0.0089') + 17n },
  ];

  for (const { label, value } of kinds) {
    const to = privateKeyToAccount(generatePrivateKey()).address;
    const nonce = await client.getTransactionCount({ address: account.address, blockTag: 'pending' });
    const f = await fees();
    const common = { chainId, nonce, to, value, gas: 21000n };
    const req =
      label === 'eip1559'
        ? { ...common, type: 'eip1559', maxFeePerGas: f.maxFeePerGas, maxPriorityFeePerGas: f.tip }
        : label === 'eip2930'
          ? { ...common, type: 'eip2930', gasPrice: f.gasPrice, accessList: [] }
          : { ...common, type: 'legacy', gasPrice: f.gasPrice };

    const before = await client.getBalance({ address: account.address });
    const toBefore = await client.getBalance({ address: to });
    check(toBefore === 0n, `${label}: fresh recipient ${to} already has balance ${toBefore}`);

    const hash =
      label === 'auto'
        ? await wallet.sendTransaction({ to, value })
        : await client.sendRawTransaction({ serializedTransaction: await account.signTransaction(req) });
    check(/^0x[0-9a-f]{64}$/.test(hash), `${label}: eth_sendRawTransaction returned ${hash}`);
    const receipt = await client.waitForTransactionReceipt({ hash, timeout: TIMEOUT_MS, pollingInterval: 250 });

    check(receipt.transactionHash === hash, `${label}: receipt hash ${receipt.transactionHash} != ${hash}`);
    check(receipt.status === 'success', `${label}: receipt status ${receipt.status}`);
    const wantType = label === 'auto' ? (f.baseFee > 0n ? 'eip1559' : 'legacy') : label;
    check(receipt.type === wantType, `${label}: receipt type ${receipt.type}, expected ${wantType}`);
    check(receipt.gasUsed === 21000n, `${label}: gasUsed ${receipt.gasUsed} != 21000`);
    check(receipt.from.toLowerCase() === account.address.toLowerCase(), `${label}: receipt.from ${receipt.from}`);
    check(receipt.to?.toLowerCase() === to.toLowerCase(), `${label}: receipt.to ${receipt.to} != ${to}`);
    check(typeof receipt.effectiveGasPrice === 'bigint' && receipt.effectiveGasPrice > 0n,
      `${label}: effectiveGasPrice ${receipt.effectiveGasPrice}`);
    const tx = await client.getTransaction({ hash });
    check(tx.type === wantType, `${label}: tx type ${tx.type}`);
    check(tx.nonce === nonce, `${label}: tx nonce ${tx.nonce} != ${nonce}`);
    check(tx.value === value, `${label}: tx value ${tx.value} != ${value}`);
    check(tx.from.toLowerCase() === account.address.toLowerCase(), `${label}: tx from ${tx.from}`);
    check(tx.to?.toLowerCase() === to.toLowerCase(), `${label}: tx to ${tx.to}`);
    check(tx.chainId === chainId, `${label}: tx chainId ${tx.chainId} != ${chainId}`);
    // effectiveGasPrice = min(maxFeePerGas, baseFee + maxPriorityFeePerGas) for
    // EIP-1559, gasPrice otherwise.
    const minedIn = await client.getBlock({ blockNumber: receipt.blockNumber });
    const wantPrice =
      wantType === 'eip1559'
        ? (() => {
            const p = (minedIn.baseFeePerGas ?? 0n) + tx.maxPriorityFeePerGas;
            return p < tx.maxFeePerGas ? p : tx.maxFeePerGas;
          })()
        : tx.gasPrice;
    check(receipt.effectiveGasPrice === wantPrice,
      `${label}: effectiveGasPrice ${receipt.effectiveGasPrice}, expected ${wantPrice} (block baseFee ${minedIn.baseFeePerGas})`);
    if (label !== 'auto') {
      const signed = wantType === 'eip1559' ? [tx.maxFeePerGas, f.maxFeePerGas, tx.maxPriorityFeePerGas, f.tip] : [tx.gasPrice, f.gasPrice];
      check(signed[0] === signed[1] && (signed.length === 2 || signed[2] === signed[3]), `${label}: tx fee fields differ from what was signed`);
    }
    check(tx.blockNumber === receipt.blockNumber, `${label}: tx blockNumber ${tx.blockNumber} != receipt ${receipt.blockNumber}`);

    const toAfter = await client.getBalance({ address: to });
    check(toAfter === value, `${label}: recipient balance ${toAfter} != value ${value}`);
    const after = await client.getBalance({ address: account.address });
    const fee = receipt.gasUsed * receipt.effectiveGasPrice;
    check(before - after === value + fee,
      `${label}: sender balance dropped by ${before - after}, expected value + gasUsed*effectiveGasPrice = ${value + fee}`);

    summary.transfers.push({
      type: label === 'auto' ? `auto(${wantType})` : label, hash, to, value: value.toString(), block: receipt.blockNumber.toString(),
      gasUsed: receipt.gasUsed.toString(), effectiveGasPrice: receipt.effectiveGasPrice.toString(),
    });
  }

  // ---- error mapping --------------------------------------------------------
  // Each case is tried twice: (a) low level: sign + eth_sendRawTransaction, the
  // RPC error mapped with viem's getTransactionError (what sendTransaction does);
  // (b) high level: walletClient.sendTransaction with the local account (viem
  // signs and uses eth_sendRawTransaction itself) with every field given, so the
  // node's eth_sendRawTransaction answer is what gets mapped.
  async function expectError(name, ErrorClass, req, signer = account) {
    const result = {};
    // (a)
    let raw;
    try {
      await client.sendRawTransaction({ serializedTransaction: await signer.signTransaction(req) });
    } catch (e) {
      raw = e;
    }
    check(raw, `${name}: eth_sendRawTransaction was accepted, expected an error`);
    const rpcErr = raw.walk?.((e) => typeof e?.code === 'number') ?? raw;
    result.rpc = { code: rpcErr.code, message: rpcErr.details ?? rpcErr.shortMessage };
    const mapped = getTransactionError(raw, { account: signer, chain, ...req });
    check(mapped instanceof TransactionExecutionError, `${name}: not a TransactionExecutionError`);
    check(mapped.walk((e) => e instanceof ErrorClass),
      `${name}: node error ${JSON.stringify(result.rpc)} does not map to ${ErrorClass.name} (got ${mapped.cause?.constructor?.name})`);
    // (b)
    let high;
    try {
      await createWalletClient({ account: signer, chain, transport }).sendTransaction(req);
    } catch (e) {
      high = e;
    }
    check(high, `${name}: walletClient.sendTransaction was accepted, expected an error`);
    check(high instanceof BaseError && high.walk((e) => e instanceof ErrorClass),
      `${name}: walletClient.sendTransaction raised ${high?.constructor?.name}: ${high?.shortMessage ?? high}, expected ${ErrorClass.name}`);
    result.viemError = ErrorClass.name;
    summary.errors[name] = result;
  }

  const f = await fees();
  const nonceNow = await client.getTransactionCount({ address: account.address, blockTag: 'pending' });
  check(nonceNow >= 1, `nonce is ${nonceNow} after three transfers`);
  const base1559 = {
    chainId, type: 'eip1559', to: privateKeyToAccount(generatePrivateKey()).address, value: 1n, gas: 21000n,
    maxFeePerGas: f.maxFeePerGas, maxPriorityFeePerGas: f.tip,
  };

  await expectError('nonce_too_low', NonceTooLowError, { ...base1559, nonce: nonceNow - 1 });

  const poor = privateKeyToAccount(generatePrivateKey());
  await expectError('insufficient_funds', InsufficientFundsError, { ...base1559, nonce: 0, value: parseEther('1') }, poor);

  if (f.baseFee > 1n) {
    await expectError('fee_cap_below_base_fee', FeeCapTooLowError,
      { ...base1559, nonce: nonceNow, maxFeePerGas: f.baseFee / 2n, maxPriorityFeePerGas: 0n });
  } else {
    summary.errors.fee_cap_below_base_fee = { skipped: `base fee is ${f.baseFee}` };
  }

  await expectError('gas_above_block_limit', IntrinsicGasTooHighError,
    { ...base1559, nonce: nonceNow, gas: f.blockGasLimit + 1n });

  // Nothing above may have been queued: the pending nonce is unchanged.
  const nonceAfter = await client.getTransactionCount({ address: account.address, blockTag: 'pending' });
  check(nonceAfter === nonceNow, `pending nonce moved from ${nonceNow} to ${nonceAfter} after rejected transactions`);

  check(!methodsSeen.has('eth_sendTransaction'), 'eth_sendTransaction was called');
  check(methodsSeen.has('eth_sendRawTransaction'), 'eth_sendRawTransaction was never called');
  summary.methods = [...methodsSeen].sort();
  summary.ok = true;
  console.log(JSON.stringify(summary, null, 2));
}

main().catch((e) => {
  fail(e instanceof BaseError ? `${e.name}: ${e.shortMessage}\n${e.message}` : e?.stack ?? String(e));
});
