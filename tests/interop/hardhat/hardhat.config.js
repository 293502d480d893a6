// Hardhat 2 project run against an OpenLedger dev node (`openledger node --dev`).
//
// The node's URL comes from OPENLEDGER_RPC_URL (the Rust test in
// crates/cli/tests/hardhat.rs starts a node on a free port and passes it);
// the accounts are the node's own (`eth_accounts`, dev-only), so no key is
// configured here. Solidity compiles with the npm `solc` package (soljson,
// pinned in package.json), because Hardhat's default downloads compilers
// from binaries.soliditylang.org, which the test machines cannot reach.
// contracts/system is a link to the repository's contracts/ (the system
// contracts' interfaces): Hardhat 2 compiles and imports only files inside
// the project, and the link keeps one copy of each interface.
const path = require("path");
const { extendProvider, subtask } = require("hardhat/config");
const { ProviderWrapper } = require("hardhat/plugins");
const { TASK_COMPILE_SOLIDITY_GET_SOLC_BUILD } = require("hardhat/builtin-tasks/task-names");
require("@nomicfoundation/hardhat-ethers");
require("@nomicfoundation/hardhat-chai-matchers");

const solc = require("solc");
const SOLC_VERSION = solc.semver(); // "0.8.26"

subtask(TASK_COMPILE_SOLIDITY_GET_SOLC_BUILD, async (args, hre, runSuper) => {
  if (args.solcVersion !== SOLC_VERSION) {
    throw new Error(
      `this project compiles only with the npm solc ${SOLC_VERSION} (asked for ${args.solcVersion}); ` +
        "change solidity.version in hardhat.config.js or the solc pin in package.json",
    );
  }
  return {
    compilerPath: require.resolve("solc/soljson.js"),
    isSolcJs: true,
    version: SOLC_VERSION,
    longVersion: solc.version(), // e.g. 0.8.26+commit.8a97fa7a.Emscripten.clang
  };
});

// Hardhat Network and anvil answer eth_sendTransaction only after the block
// holding it is sealed, and hardhat-chai-matchers (`.to.emit`, `.reverted`)
// rely on it: they read the receipt once, right away. The node in
// `--block-time 0` mode answers with the hash first and seals a few
// milliseconds later, so the receipt is briefly null. Until the node waits,
// this wrapper does: after a send it polls for the receipt before handing the
// hash back. OPENLEDGER_NO_RECEIPT_WAIT=1 turns it off (test/known-gaps.js
// shows the difference).
class WaitForReceipt extends ProviderWrapper {
  async request(args) {
    const result = await this._wrappedProvider.request(args);
    if (args.method !== "eth_sendTransaction" && args.method !== "eth_sendRawTransaction") return result;
    const deadline = Date.now() + 30_000;
    for (;;) {
      const receipt = await this._wrappedProvider.request({ method: "eth_getTransactionReceipt", params: [result] });
      if (receipt !== null) return result;
      if (Date.now() > deadline) throw new Error(`transaction ${result} was not mined within 30 s`);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }
}

extendProvider(async (provider, config, network) =>
  network === "openledger" && process.env.OPENLEDGER_NO_RECEIPT_WAIT !== "1" ? new WaitForReceipt(provider) : provider,
);

/** @type import('hardhat/config').HardhatUserConfig */
module.exports = {
  solidity: {
    version: SOLC_VERSION,
    settings: { optimizer: { enabled: true, runs: 200 }, evmVersion: "cancun" },
  },
  defaultNetwork: "openledger",
  networks: {
    openledger: {
      url: process.env.OPENLEDGER_RPC_URL || "http://127.0.0.1:8545",
      accounts: "remote",
      chainId: 1337,
      timeout: 60_000,
    },
  },
  mocha: { timeout: 120_000 },
  paths: { root: path.resolve(__dirname) },
};
