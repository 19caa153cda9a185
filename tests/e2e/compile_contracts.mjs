// Compile tests/e2e/contracts/*.sol with the npm `solc` package (solcjs, standard JSON), evmVersion
// cancun, and write <out>/<Contract>.json: {contractName, sourceName, abi, bytecode, deployedBytecode,
// compiler}. Imports of `@openzeppelin/contracts/...` resolve from the repository's node_modules.
//
// Usage: node tests/e2e/compile_contracts.mjs --out DIR

import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const require = createRequire(import.meta.url);
const solc = require("solc");

const HERE = dirname(fileURLToPath(import.meta.url));
const REPO = resolve(HERE, "..", "..");
const SOURCES = join(HERE, "contracts");
const NODE_MODULES = join(REPO, "node_modules");

const SETTINGS = {
  evmVersion: "cancun",
  optimizer: { enabled: true, runs: 200 },
  outputSelection: { "*": { "*": ["abi", "evm.bytecode.object", "evm.deployedBytecode.object"] } },
};

const argv = process.argv.slice(2);
if (argv.length !== 2 || argv[0] !== "--out") {
  process.stderr.write("usage: node tests/e2e/compile_contracts.mjs --out DIR\n");
  process.exit(2);
}
const out = resolve(argv[1]);

// Source unit names relative to the repository, so the metadata hash does not depend on the checkout.
const sources = {};
for (const file of readdirSync(SOURCES).filter((f) => f.endsWith(".sol")).sort()) {
  sources[`tests/e2e/contracts/${file}`] = { content: readFileSync(join(SOURCES, file), "utf8") };
}

function findImports(name) {
  if (!name.startsWith("@openzeppelin/contracts/")) return { error: `import outside @openzeppelin/contracts: ${name}` };
  try {
    return { contents: readFileSync(join(NODE_MODULES, name), "utf8") };
  } catch (err) {
    return { error: `cannot read ${name} from node_modules: ${err.message}` };
  }
}

const input = { language: "Solidity", sources, settings: SETTINGS };
const output = JSON.parse(solc.compile(JSON.stringify(input), { import: findImports }));
for (const e of output.errors || []) process.stderr.write(e.formattedMessage + "\n");
if ((output.errors || []).some((e) => e.severity === "error")) process.exit(1);

mkdirSync(out, { recursive: true });
for (const name of Object.keys(sources)) {
  for (const [contract, compiled] of Object.entries(output.contracts[name] || {})) {
    if (!compiled.evm.bytecode.object) continue; // interfaces and abstract contracts
    const artifact = {
      contractName: contract,
      sourceName: name,
      abi: compiled.abi,
      bytecode: "0x" + compiled.evm.bytecode.object,
      deployedBytecode: "0x" + compiled.evm.deployedBytecode.object,
      compiler: { name: "solc", version: solc.version(), evmVersion: SETTINGS.evmVersion, optimizer: SETTINGS.optimizer },
    };
    writeFileSync(join(out, `${contract}.json`), JSON.stringify(artifact, null, 2) + "\n");
  }
}
