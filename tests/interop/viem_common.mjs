// What the viem interop scripts share: dev account 0 of the standard test
// mnemonic, how long they wait for a receipt, and viem's clients of the
// endpoint under test, its chain id read at run time (defineChain), signing
// locally as dev account 0.

import { createPublicClient, createWalletClient, defineChain } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';

export const DEV_KEY = '0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80';
export const DEV_ADDR = '0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266';
export const TIMEOUT_MS = Number(process.env.INTEROP_TIMEOUT_MS ?? 60_000);

/** Reads the chain id of `url` through `transport`; returns the chain and viem's public and wallet clients of it. */
export async function connect(url, transport) {
  const chainId = await createPublicClient({ transport }).getChainId();
  const chain = defineChain({
    id: chainId,
    name: 'endpoint-under-test',
    nativeCurrency: { name: 'OPEN', symbol: 'OPEN', decimals: 18 },
    rpcUrls: { default: { http: [url] } },
  });
  const client = createPublicClient({ chain, transport, pollingInterval: 250 });
  const account = privateKeyToAccount(DEV_KEY);
  const wallet = createWalletClient({ account, chain, transport });
  return { chainId, chain, client, account, wallet };
}
