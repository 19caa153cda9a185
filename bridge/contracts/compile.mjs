// Compile every contract under bridge/contracts/ with the npm `solc` package (solcjs, standard JSON)
// and write one artifact per contract: <out>/<Contract>.json with its ABI, creation and runtime
// bytecode, the compiler version and settings, and a hash of every source fed to the compiler.
//
// Usage: node bridge/contracts/compile.mjs [--out DIR] [--src DIR] [--evm-version V]
//   --out DIR          where the artifacts go (default: bridge/artifacts)
//   --src DIR          the folder whose .sol files (recursively) are compiled (default: bridge/contracts)
//   --evm-version V    the EVM target, e.g. cancun (default: prague)
// Imports of `@openzeppelin/contracts/...` resolve from the repository's node_modules.

import { createHash } from "node:crypto";
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";

const require = createRequire(import.meta.url);
const solc = require("solc");

const HERE = dirname(fileURLToPath(import.meta.url));
const REPO = resolve(HERE, "..", "..");
const NODE_MODULES = join(REPO, "node_modules");

// Pinned so the bytecode does not change with the compiler's default target; prague runs on
// mainnet, Sepolia, Hoodi and anvil.
const SETTINGS = {
  evmVersion: "prague",
  optimizer: { enabled: true, runs: 200 },
  viaIR: true,
  outputSelection: { "*": { "*": ["abi", "evm.bytecode.object", "evm.deployedBytecode.object", "storageLayout"] } },
};

const USAGE = "usage: compile.mjs [--out DIR] [--src DIR] [--evm-version V]";

function parseArgs(argv) {
  let out = join(REPO, "bridge", "artifacts");
  let src = HERE;
  let evmVersion = SETTINGS.evmVersion;
  for (let i = 0; i < argv.length; i++) {
    const hasValue = i + 1 < argv.length;
    if (argv[i] === "--out" && hasValue) out = resolve(argv[++i]);
    else if (argv[i] === "--src" && hasValue) src = resolve(argv[++i]);
    else if (argv[i] === "--evm-version" && hasValue) evmVersion = argv[++i];
    else throw new Error(`unknown argument: ${argv[i]} (${USAGE})`);
  }
  return { out, src, settings: { ...SETTINGS, evmVersion } };
}

function solidityFiles(dir) {
  return readdirSync(dir, { withFileTypes: true })
    .flatMap((entry) => {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) return solidityFiles(path);
      return entry.name.endsWith(".sol") ? [path] : [];
    })
    .sort();
}

// Source unit names are repository-relative POSIX paths, so the metadata (and thus the bytecode)
// does not depend on where the repository is checked out.
function unitName(path) {
  return relative(REPO, path).split(sep).join("/");
}

function main() {
  const { out, src, settings } = parseArgs(process.argv.slice(2));
  const sources = {};
  for (const path of solidityFiles(src)) sources[unitName(path)] = { content: readFileSync(path, "utf8") };
  const imported = {};

  function findImports(name) {
    if (!name.startsWith("@openzeppelin/contracts/")) return { error: `import outside @openzeppelin/contracts: ${name}` };
    try {
      imported[name] = readFileSync(join(NODE_MODULES, name), "utf8");
      return { contents: imported[name] };
    } catch (err) {
      return { error: `cannot read ${name} from node_modules: ${err.message}` };
    }
  }

  if (!Object.keys(sources).length) throw new Error(`no .sol files under ${src}`);
  const input = { language: "Solidity", sources, settings };
  const output = JSON.parse(solc.compile(JSON.stringify(input), { import: findImports }));
  const errors = (output.errors || []).filter((e) => e.severity === "error");
  for (const e of output.errors || []) process.stderr.write(e.formattedMessage + "\n");
  if (errors.length) process.exit(1);

  const all = { ...Object.fromEntries(Object.entries(sources).map(([k, v]) => [k, v.content])), ...imported };
  const sourceHash = createHash("sha256");
  for (const name of Object.keys(all).sort()) sourceHash.update(`${name}\0${all[name]}\0`);
  const digest = "0x" + sourceHash.digest("hex");

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
        // Where each state variable lives: the sidechain's Python side reads its contracts' slots.
        storageLayout: compiled.storageLayout.storage.map(({ label, slot, offset }) => ({ label, slot: Number(slot), offset })),
        compiler: { name: "solc", version: solc.version(), settings: { ...settings, outputSelection: undefined } },
        sourceHash: digest,
      };
      writeFileSync(join(out, `${contract}.json`), JSON.stringify(artifact, null, 2) + "\n");
      process.stderr.write(`compiled ${contract} -> ${relative(process.cwd(), join(out, contract + ".json"))}\n`);
    }
  }
}

main();
