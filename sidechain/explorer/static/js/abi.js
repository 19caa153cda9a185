// A small ABI decoder for the contracts the explorer knows: function inputs, event logs and revert
// data. Types: (u)intN, address, bool, bytesN, bytes, string, T[], T[k] and tuples.

import { keccak256 } from "./keccak.js";

const hexToBytes = (hex) => {
  const h = hex.startsWith("0x") ? hex.slice(2) : hex;
  const out = new Uint8Array(h.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(h.substr(i * 2, 2), 16);
  return out;
};
const bytesToHex = (b) => "0x" + Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
const word = (data, at) => {
  if (at + 32 > data.length) throw new Error("ABI data too short");
  return BigInt(bytesToHex(data.subarray(at, at + 32)));
};

/** The canonical type string of an ABI parameter (tuples expanded). */
export function canonicalType(param) {
  if (param.type.startsWith("tuple")) return `(${param.components.map(canonicalType).join(",")})${param.type.slice(5)}`;
  return param.type;
}

export const signatureOf = (item) => `${item.name}(${(item.inputs || []).map(canonicalType).join(",")})`;

function isDynamic(param) {
  const t = param.type;
  if (t === "string" || t === "bytes" || t.endsWith("[]")) return true;
  const fixed = t.match(/^(.*)\[(\d+)\]$/);
  if (fixed) return isDynamic({ ...param, type: fixed[1] });
  if (t === "tuple") return param.components.some(isDynamic);
  return false;
}

function headSize(param) {
  if (isDynamic(param)) return 32;
  const fixed = param.type.match(/^(.*)\[(\d+)\]$/);
  if (fixed) return Number(fixed[2]) * headSize({ ...param, type: fixed[1] });
  if (param.type === "tuple") return param.components.reduce((n, c) => n + headSize(c), 0);
  return 32;
}

function decodeList(params, data, base) {
  const out = [];
  let at = base;
  for (const p of params) {
    if (isDynamic(p)) out.push(decodeValue(p, data, base + Number(word(data, at))));
    else out.push(decodeValue(p, data, at));
    at += headSize(p);
  }
  return out;
}

function decodeValue(param, data, at) {
  const t = param.type;
  const array = t.match(/^(.*)\[(\d*)\]$/);
  if (array) {
    const inner = { ...param, type: array[1] };
    let n, base;
    if (array[2] === "") { n = Number(word(data, at)); base = at + 32; } else { n = Number(array[2]); base = at; }
    if (n > 10000) throw new Error("ABI array too long");
    return decodeList(Array(n).fill(inner), data, base);
  }
  if (t === "tuple") return decodeList(param.components, data, at);
  if (t === "string" || t === "bytes") {
    const len = Number(word(data, at));
    if (at + 32 + len > data.length) throw new Error("ABI data too short");
    const raw = data.subarray(at + 32, at + 32 + len);
    return t === "string" ? new TextDecoder().decode(raw) : bytesToHex(raw);
  }
  const w = word(data, at);
  if (t === "address") return "0x" + w.toString(16).padStart(40, "0").slice(-40);
  if (t === "bool") return w !== 0n;
  if (t.startsWith("uint")) return w;
  if (t.startsWith("int")) return w >= 1n << 255n ? w - (1n << 256n) : w; // sign-extended to 256 bits
  if (t.startsWith("bytes")) return bytesToHex(data.subarray(at, at + Number(t.slice(5))));
  throw new Error(`unsupported ABI type ${t}`);
}

/** Decode `hex` (no selector) as the tuple of `params`. */
export const decodeParams = (params, hex) => decodeList(params, hexToBytes(hex), 0);

/** An index of ABIs by selector and topic: {functions, events, errors}. `label` names the source. */
export class AbiIndex {
  constructor() { this.functions = new Map(); this.events = new Map(); this.errors = new Map(); }

  add(abi, label) {
    for (const item of abi) {
      if (!item.name) continue;
      const sig = signatureOf(item);
      const hash = keccak256(sig);
      const entry = { item, sig, label };
      if (item.type === "function" && !this.functions.has(hash.slice(0, 10))) this.functions.set(hash.slice(0, 10), entry);
      if (item.type === "error" && !this.errors.has(hash.slice(0, 10))) this.errors.set(hash.slice(0, 10), entry);
      if (item.type === "event") {
        const indexed = item.inputs.filter((i) => i.indexed).length;
        // ERC-20 and ERC-721 Transfer share a topic: keep both, told apart by the indexed count.
        const list = this.events.get(hash) || [];
        if (!list.some((e) => e.item.inputs.filter((i) => i.indexed).length === indexed)) list.push(entry);
        this.events.set(hash, list);
      }
    }
    return this;
  }

  /** {name, sig, label, args:[{name,type,value}]} or null. */
  decodeInput(input) {
    if (!input || input.length < 10) return null;
    const entry = this.functions.get(input.slice(0, 10).toLowerCase());
    if (!entry) return null;
    const values = decodeParams(entry.item.inputs, "0x" + input.slice(10));
    return { name: entry.item.name, sig: entry.sig, label: entry.label, args: named(entry.item.inputs, values) };
  }

  decodeLog(log) {
    const candidates = this.events.get((log.topics[0] || "").toLowerCase()) || [];
    const entry = candidates.find((e) => e.item.inputs.filter((i) => i.indexed).length === log.topics.length - 1);
    if (!entry) return null;
    const inputs = entry.item.inputs;
    const plain = decodeParams(inputs.filter((i) => !i.indexed), log.data);
    let t = 1, p = 0;
    const values = inputs.map((i) => {
      if (!i.indexed) return plain[p++];
      const topic = log.topics[t++];
      return isDynamic(i) || i.type === "tuple" ? topic : decodeValue(i, hexToBytes(topic), 0);
    });
    return { name: entry.item.name, sig: entry.sig, label: entry.label, args: named(inputs, values) };
  }

  /** A revert reason from revert data: Error(string), Panic(uint256) or a known custom error. */
  decodeRevert(data) {
    if (!data || data.length < 10) return null;
    const selector = data.slice(0, 10).toLowerCase();
    if (selector === "0x08c379a0") return decodeParams([{ type: "string" }], "0x" + data.slice(10))[0];
    if (selector === "0x4e487b71") return `Panic(0x${decodeParams([{ type: "uint256" }], "0x" + data.slice(10))[0].toString(16)})`;
    const entry = this.errors.get(selector);
    if (!entry) return null;
    const values = decodeParams(entry.item.inputs, "0x" + data.slice(10));
    return `${entry.item.name}(${values.map(String).join(", ")})`;
  }
}

const named = (inputs, values) => inputs.map((i, n) => ({ name: i.name || `arg${n}`, type: canonicalType(i), value: values[n] }));

/** ABI-encode the arguments of a call to `sig` with static args only (address, uint, bool, bytes32). */
export function encodeCall(sig, args = []) {
  const selector = keccak256(sig).slice(0, 10);
  return selector + args.map((a) => {
    if (typeof a === "boolean") a = a ? 1n : 0n;
    const v = typeof a === "bigint" || typeof a === "number" ? BigInt(a) : BigInt(a);
    return v.toString(16).padStart(64, "0");
  }).join("");
}
