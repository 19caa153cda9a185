// Reads of the L1 contracts straight from the L1's JSON-RPC (the node names it in
// sidechain_getNetworkInfo): CheckpointManager's CheckpointSubmitted events and RootBridge's
// Deposited and Exited events and views.

import { keccak256 } from "./keccak.js";
import { decodeParams, encodeCall } from "./abi.js";
import { SIG } from "./known.js";

const topicOf = (n) => "0x" + BigInt(n).toString(16).padStart(64, "0");
const TOPIC = Object.fromEntries(Object.entries(SIG).map(([k, s]) => [k, keccak256(s)]));

export class L1 {
  constructor(rpc, info) { this.rpc = rpc; this.info = info; }

  async head() { return Number(BigInt(await this.rpc.call("eth_blockNumber"))); }

  /** Logs since the contracts' deployment (public L1 endpoints refuse ranges from block 0). */
  logs(address, topics) {
    return this.rpc.call("eth_getLogs", [{ address, topics, fromBlock: this.info.deployBlock || "0x0", toBlock: "latest" }]);
  }

  /** number -> {txHash, blockNumber} of the CheckpointSubmitted events of `numbers`. */
  async checkpointsSubmitted(numbers) {
    if (numbers.length === 0) return new Map();
    const logs = await this.logs(this.info.checkpointManager, [TOPIC.checkpointSubmitted, numbers.map(topicOf)]);
    return new Map(logs.map((l) => [Number(BigInt(l.topics[1])), { txHash: l.transactionHash, blockNumber: Number(BigInt(l.blockNumber)) }]));
  }

  /** The (number, endBlock) of the last checkpoint CheckpointManager accepted. */
  async lastCheckpoint() {
    const out = await this.rpc.call("eth_call", [{ to: this.info.checkpointManager, data: encodeCall(SIG.lastCheckpoint) }, "latest"]);
    const [number, endBlock] = decodeParams([{ type: "uint64" }, { type: "uint64" }], out);
    return { number: Number(number), endBlock: Number(endBlock) };
  }

  /** The Deposited event of deposit `id`, or null. */
  async deposited(id) {
    const [log] = await this.logs(this.info.rootBridge, [TOPIC.deposited, topicOf(id)]);
    if (!log) return null;
    const [recipient, amount] = decodeParams([{ type: "address" }, { type: "uint256" }], log.data);
    return { txHash: log.transactionHash, blockNumber: Number(BigInt(log.blockNumber)), token: "0x" + log.topics[2].slice(26),
      sender: "0x" + log.topics[3].slice(26), recipient, amount };
  }

  /** The Exited (or ExitCredited) event of withdrawal `id`, or null. */
  async exited(id) {
    const [log] = await this.logs(this.info.rootBridge, [[TOPIC.exited, TOPIC.exitCredited], topicOf(id)]);
    return log ? { txHash: log.transactionHash, blockNumber: Number(BigInt(log.blockNumber)), credited: log.topics[0] === TOPIC.exitCredited } : null;
  }

  /** How many deposits RootBridge took (ids start at 1). */
  async depositCount() {
    return Number(BigInt(await this.rpc.call("eth_call", [{ to: this.info.rootBridge, data: encodeCall(SIG.nextDepositId) }, "latest"]))) - 1;
  }

  /** id -> whether it exited, for withdrawals `ids`, in one batch. */
  async exitedMany(ids) {
    const answers = await this.rpc.batch(ids.map((id) => ["eth_call", [{ to: this.info.rootBridge, data: encodeCall(SIG.isExited, [BigInt(id)]) }, "latest"]]));
    return new Map(ids.map((id, i) => [id, answers[i] instanceof Error ? null : BigInt(answers[i]) !== 0n]));
  }

  async isExited(id) {
    const out = await this.rpc.call("eth_call", [{ to: this.info.rootBridge, data: encodeCall(SIG.isExited, [BigInt(id)]) }, "latest"]);
    return BigInt(out) !== 0n;
  }

  async lockedBalance(token) {
    return BigInt(await this.rpc.call("eth_call", [{ to: this.info.rootBridge, data: encodeCall(SIG.lockedBalance, [BigInt(token)]) }, "latest"]));
  }

  /** The sum exited on L1 in `token` (Exited and ExitCredited events). */
  async exitedTotal(token) {
    const logs = await this.logs(this.info.rootBridge, [[TOPIC.exited, TOPIC.exitCredited], null, topicOf(BigInt(token))]);
    return logs.reduce((sum, l) => sum + BigInt(l.data), 0n);
  }
}

/** An L1 reader when the node names its L1, else null. */
export async function l1Of(ctx) {
  const l1 = await ctx.l1();
  return l1 ? new L1(l1.rpc, l1.info) : null;
}
