// Compiles Solidity sources with the npm `solc` (soljson, pinned in
// tests/interop/hardhat/package.json; installed by scripts/install-interop-deps),
// offline: imports resolve against the repository's contracts/ (the system
// contracts' interfaces, as `contracts/IStaking.sol`) and the Hardhat project's
// node_modules (`@openzeppelin/contracts/...`).
//
//   node tests/interop/solc_compile.mjs OUT_DIR FILE.sol [FILE.sol ...]
//
// Writes OUT_DIR/<ContractName>.json = {abi, bytecode, deployedBytecode}
// (0x-prefixed hex) for every contract with code or an ABI, with the same
// settings as the Hardhat project (optimizer 200 runs, evmVersion cancun).
// Exits 1 with solc's messages on any compile error.
import { createRequire } from "node:module";
import { mkdirSync, readFileSync, writeFileSync, existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, "../..");
const hardhatModules = path.join(here, "hardhat", "node_modules");
const require = createRequire(path.join(hardhatModules, "noop.js"));
const solc = require("solc");

const [outDir, ...files] = process.argv.slice(2);
if (!outDir || files.length === 0) {
  console.error("usage: node solc_compile.mjs OUT_DIR FILE.sol [FILE.sol ...]");
  process.exit(2);
}

const sources = {};
for (const file of files) {
  const absolute = path.resolve(file);
  const key = path.relative(root, absolute).split(path.sep).join("/");
  sources[key] = { content: readFileSync(absolute, "utf8") };
}

function findImports(importPath) {
  for (const base of [root, hardhatModules]) {
    const candidate = path.join(base, importPath);
    if (existsSync(candidate)) return { contents: readFileSync(candidate, "utf8") };
  }
  return { error: `import not found: ${importPath} (looked in ${root} and ${hardhatModules})` };
}

const input = {
  language: "Solidity",
  sources,
  settings: {
    optimizer: { enabled: true, runs: 200 },
    evmVersion: "cancun",
    outputSelection: { "*": { "*": ["abi", "evm.bytecode.object", "evm.deployedBytecode.object"] } },
  },
};
const output = JSON.parse(solc.compile(JSON.stringify(input), { import: findImports }));
const errors = (output.errors || []).filter((e) => e.severity === "error");
for (const message of output.errors || []) console.error(message.formattedMessage);
if (errors.length > 0) process.exit(1);

mkdirSync(outDir, { recursive: true });
let written = 0;
for (const [source, contracts] of Object.entries(output.contracts || {})) {
  if (!(source in sources)) continue;
  for (const [name, contract] of Object.entries(contracts)) {
    const artifact = {
      contractName: name,
      sourceName: source,
      compiler: solc.version(),
      abi: contract.abi,
      bytecode: "0x" + contract.evm.bytecode.object,
      deployedBytecode: "0x" + contract.evm.deployedBytecode.object,
    };
    writeFileSync(path.join(outDir, `${name}.json`), JSON.stringify(artifact, null, 2) + "\n");
    written += 1;
  }
}
console.log(`compiled ${files.length} file(s), wrote ${written} artifact(s) to ${outDir}`);
