#!/usr/bin/env node
// viem against the datanets system contract, as any dApp would call it.
//
//   node tests/interop/viem_datanets.mjs RPC_URL
//
// Uses dev account 7 of the standard test mnemonic and the human-readable
// ABI of contracts/IDatanets.sol (the functions and events used here; a
// change to the interface that breaks them fails this check). Uploads a
// contribution with a plain HTTP PUT /blobs/<sha256>?format=txt, then with
// viem's writeContract: createDatanet (owner-approval), contribute;
// readContract: getDatanet, getContribution, depositFor; parseEventLogs on the
// receipts; getContractEvents filtered by an indexed argument; and
// simulateContract of a call the contract refuses, which must surface as
// viem's ContractFunctionRevertedError with the contract's reason. Prints a
// JSON summary; exits 1 on failure.

import { createHash } from 'node:crypto';
import {
  createPublicClient,
  createWalletClient,
  defineChain,
  http,
  parseAbi,
  parseEventLogs,
  BaseError,
  ContractFunctionRevertedError,
} from 'viem';
import { mnemonicToAccount } from 'viem/accounts';

const DATANETS = '0x0000000000000000000000000000000000001002';
const MNEMONIC = 'test test test test test test test test test test test junk';

const abi = parseAbi([
  'struct DatanetConfig { string name; string summary; string description; string[] tags; string licence; bytes32 customTermsHash; uint8 policy; uint64 maxSubmissionBytes; uint8[] formats; string jsonlField; string csvColumn; }',
  'struct Datanet { uint64 id; address owner; DatanetConfig config; uint64 contributionCount; uint64 acceptedCount; uint32 versionCount; uint64 createdAtBlock; }',
  'struct Contribution { uint64 id; uint64 datanetId; address contributor; bytes32 contentHash; bytes32 normalisedHash; uint64 size; uint8 format; string licence; uint8 status; uint256 deposit; uint64 nearDuplicateOf; uint64 acceptedSeq; uint64 submittedAtBlock; }',
  'function createDatanet(DatanetConfig config) returns (uint64)',
  'function contribute(uint64 datanetId, bytes32 contentHash, uint64 size, uint8 format, string licence) returns (uint64)',
  'function approve(uint64 contributionId)',
  'function getDatanet(uint64 datanetId) view returns (Datanet)',
  'function getContribution(uint64 contributionId) view returns (Contribution)',
  'function depositFor(uint64 size) view returns (uint256)',
  'event DatanetCreated(uint64 indexed datanetId, address indexed owner, string name)',
  'event ContributionSubmitted(uint64 indexed datanetId, uint64 indexed contributionId, address indexed contributor, bytes32 contentHash, uint64 size, uint256 deposit, uint64 nearDuplicateOf)',
]);

const url = process.argv[2];
if (!url) {
  console.error('usage: node viem_datanets.mjs RPC_URL');
  process.exit(2);
}
function fail(msg) {
  console.error(`FAIL (viem datanets): ${msg}`);
  process.exit(1);
}
function check(cond, msg) {
  if (!cond) fail(msg);
}

const transport = http(url, { retryCount: 0, timeout: 20_000 });
const probe = createPublicClient({ transport });
const chain = defineChain({
  id: await probe.getChainId(),
  name: 'openledger-dev',
  nativeCurrency: { name: 'OPEN', symbol: 'OPEN', decimals: 18 },
  rpcUrls: { default: { http: [url] } },
});
const publicClient = createPublicClient({ chain, transport });
const owner = mnemonicToAccount(MNEMONIC, { addressIndex: 7 });
const stranger = mnemonicToAccount(MNEMONIC, { addressIndex: 8 });
const wallet = createWalletClient({ account: owner, chain, transport });

async function send(functionName, args) {
  const hash = await wallet.writeContract({ address: DATANETS, abi, functionName, args });
  const receipt = await publicClient.waitForTransactionReceipt({ hash, timeout: 60_000 });
  check(receipt.status === 'success', `${functionName} receipt status ${receipt.status}`);
  return receipt;
}

// Upload the bytes over plain HTTP, addressed by their sha256.
const text = `Notes taken by viem at ${Date.now()}: the tide turned at noon and the pilots went out.\n`;
const bytes = Buffer.from(text, 'utf8');
const sha = createHash('sha256').update(bytes).digest('hex');
const put = await fetch(`${url.replace(/\/$/, '')}/blobs/${sha}?format=txt`, { method: 'PUT', body: bytes });
check(put.status === 201, `PUT /blobs returned ${put.status}: ${await put.text()}`);

const created = await send('createDatanet', [
  {
    name: 'viem notes',
    summary: 'made by the interop test',
    description: '# viem',
    tags: ['interop'],
    licence: 'MIT',
    customTermsHash: `0x${'00'.repeat(32)}`,
    policy: 1,
    maxSubmissionBytes: 0n,
    formats: [0],
    jsonlField: '',
    csvColumn: '',
  },
]);
const [createdEvent] = parseEventLogs({ abi, logs: created.logs, eventName: 'DatanetCreated' });
check(createdEvent, 'no DatanetCreated event in the receipt');
const datanetId = createdEvent.args.datanetId;
check(createdEvent.args.owner === owner.address, 'event owner is not the sender');

const datanet = await publicClient.readContract({ address: DATANETS, abi, functionName: 'getDatanet', args: [datanetId] });
check(datanet.owner === owner.address && datanet.config.name === 'viem notes', `getDatanet: ${JSON.stringify(datanet, (_, v) => (typeof v === 'bigint' ? v.toString() : v))}`);
check(datanet.config.tags[0] === 'interop', 'tags did not round-trip');

const deposit = await publicClient.readContract({ address: DATANETS, abi, functionName: 'depositFor', args: [BigInt(bytes.length)] });
const contributed = await send('contribute', [datanetId, `0x${sha}`, BigInt(bytes.length), 0, '']);
const [submitted] = parseEventLogs({ abi, logs: contributed.logs, eventName: 'ContributionSubmitted' });
check(submitted && submitted.args.deposit === deposit, 'ContributionSubmitted deposit differs from depositFor');
const contribution = await publicClient.readContract({
  address: DATANETS, abi, functionName: 'getContribution', args: [submitted.args.contributionId],
});
check(contribution.status === 1, `status ${contribution.status}, expected 1 (pending)`);
check(contribution.contentHash === `0x${sha}`, 'content hash did not round-trip');

const events = await publicClient.getContractEvents({
  address: DATANETS, abi, eventName: 'DatanetCreated', args: { datanetId }, fromBlock: created.blockNumber, toBlock: 'latest',
});
check(events.length === 1 && events[0].transactionHash === created.transactionHash, `getContractEvents returned ${events.length}`);

// A stranger's approval is refused with the contract's reason.
let reason = null;
try {
  await publicClient.simulateContract({
    address: DATANETS, abi, functionName: 'approve', args: [submitted.args.contributionId], account: stranger,
  });
} catch (error) {
  const revert = error instanceof BaseError ? error.walk((e) => e instanceof ContractFunctionRevertedError) : null;
  reason = revert?.reason ?? null;
}
check(reason && reason.includes('only the owner or a curator'), `revert reason: ${reason}`);

console.log(JSON.stringify({ ok: true, datanetId: datanetId.toString(), contribution: submitted.args.contributionId.toString(), reason }));
