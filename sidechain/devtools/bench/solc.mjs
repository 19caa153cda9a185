// The benchmarks' compile step: solcjs (npm `solc`), standard JSON, cancun, optimizer on.
// Usage: node sidechain/devtools/bench/solc.mjs FILE.sol...  ->  stdout: {"compiler", "settings", "contracts":
// {Name: {"abi", "bytecode", "deployedBytecode"}}}; compiler messages go to stderr, exit 1 on an error.
// `@openzeppelin/contracts/...` imports resolve from the repository's node_modules.

import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const repo = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");
const solc = createRequire(import.meta.url)("solc");
const settings = {
  evmVersion: "cancun",
  optimizer: { enabled: true, runs: 200 },
  outputSelection: { "*": { "*": ["abi", "evm.bytecode.object", "evm.deployedBytecode.object"] } },
};

const files = process.argv.slice(2);
if (!files.length) {
  process.stderr.write("usage: solc.mjs FILE.sol...\n");
  process.exit(2);
}
// Repository-relative unit names keep the metadata hash, so the bytecode, independent of the checkout.
const sources = Object.fromEntries(files.map((f) => [relative(repo, resolve(f)), { content: readFileSync(f, "utf8") }]));
const readImport = (name) =>
  name.startsWith("@openzeppelin/contracts/")
    ? { contents: readFileSync(join(repo, "node_modules", name), "utf8") }
    : { error: `only @openzeppelin/contracts imports are resolved, not ${name}` };
const output = JSON.parse(solc.compile(JSON.stringify({ language: "Solidity", sources, settings }), { import: readImport }));
for (const message of output.errors || []) process.stderr.write(message.formattedMessage + "\n");
if ((output.errors || []).some((m) => m.severity === "error")) process.exit(1);

const contracts = {};
for (const unit of Object.keys(sources)) {
  for (const [name, c] of Object.entries(output.contracts[unit] || {})) {
    contracts[name] = { abi: c.abi, bytecode: "0x" + c.evm.bytecode.object, deployedBytecode: "0x" + c.evm.deployedBytecode.object };
  }
}
process.stdout.write(JSON.stringify({ compiler: solc.version(), settings: { ...settings, outputSelection: undefined }, contracts }) + "\n");
