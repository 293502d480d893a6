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
const { subtask } = require("hardhat/config");
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
