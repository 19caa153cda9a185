// What every page reads besides the node: the ABIs it decodes with, the network description and the
// L1 endpoint, each fetched once per page load.

import { AbiIndex } from "./abi.js";
import { KNOWN_ABIS } from "./known.js";
import { Rpc, RpcError } from "./rpc.js";

export class NotFound extends Error {}
export class Invalid extends Error {}

export class Context {
  constructor(rpc) { this.rpc = rpc; this.cache = new Map(); }

  once(key, load) {
    if (!this.cache.has(key)) this.cache.set(key, load().catch((e) => { this.cache.delete(key); throw e; }));
    return this.cache.get(key);
  }

  /** sidechain_getSystemContracts, or {} on a node without it. */
  system() { return this.once("system", () => this.rpc.call("sidechain_getSystemContracts").catch(() => ({}))); }

  /** sidechain_getNetworkInfo, or null on a node without it. */
  network() { return this.once("network", () => this.rpc.call("sidechain_getNetworkInfo").catch(() => null)); }

  async abis() {
    return this.once("abis", async () => {
      const index = new AbiIndex();
      const system = await this.system();
      for (const [name, c] of Object.entries(system)) if (c && c.abi) index.add(c.abi, name);
      for (const [name, abi] of Object.entries(KNOWN_ABIS)) index.add(abi, name);
      return index;
    });
  }

  /** Names of the system contracts by lowercase address. */
  async systemNames() {
    const system = await this.system();
    const out = new Map();
    for (const [name, c] of Object.entries(system)) if (c && c.address) out.set(c.address.toLowerCase(), name);
    return out;
  }

  /** An Rpc for the L1 when the node says where it is, else null. */
  async l1() {
    const info = await this.network();
    if (!info || !info.l1 || !info.l1.rpcUrl) return null;
    return { rpc: new Rpc(info.l1.rpcUrl), info: info.l1 };
  }

  async head() { return Number(BigInt(await this.rpc.call("eth_blockNumber"))); }
}

export { RpcError };
