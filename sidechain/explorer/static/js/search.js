// The search box: what a query names, resolved to a page's hash, or a plain message.

import { NotFound, Invalid } from "./context.js";

/** The hash of the page for `query`; throws NotFound or Invalid with the message to show. */
export async function resolveSearch(ctx, query) {
  const q = query.trim();
  if (q === "") throw new Invalid("Type a block number, a block or transaction hash, an address, \"deposit N\" or \"withdrawal N\".");
  const bridge = q.match(/^(deposit|withdrawal)\s*#?\s*(\S+)$/i);
  if (bridge) {
    const kind = bridge[1].toLowerCase();
    if (!/^\d+$/.test(bridge[2])) throw new Invalid(`"${bridge[2]}" is not a valid ${kind} id: expected a whole number.`);
    return `#/${kind}/${bridge[2]}`;
  }
  if (/^\d+$/.test(q)) {
    const head = await ctx.head();
    if (BigInt(q) > BigInt(head)) throw new NotFound(`Block ${q} not found: the chain's head is block ${head}.`);
    return `#/block/${BigInt(q)}`;
  }
  if (/^0x/i.test(q)) {
    const digits = q.slice(2);
    if (!/^[0-9a-fA-F]*$/.test(digits)) throw new Invalid(`"${q}" is not a valid hash or address: it has characters that are not hex digits.`);
    if (digits.length === 40) return `#/address/${q.toLowerCase()}`;
    if (digits.length !== 64) throw new Invalid(`"${q}" is not a valid hash or address: ${digits.length} hex digits, expected 40 (address) or 64 (hash).`);
    const hash = q.toLowerCase();
    const [tx, block] = await ctx.rpc.batch([["eth_getTransactionByHash", [hash]], ["eth_getBlockByHash", [hash, false]]]);
    if (tx && !(tx instanceof Error)) return `#/tx/${hash}`;
    if (block && !(block instanceof Error)) return `#/block/${hash}`;
    throw new NotFound(`No block or transaction has the hash ${hash}.`);
  }
  throw new Invalid(`"${q}" is not a valid search: try a block number, a hash, an address, "deposit N" or "withdrawal N".`);
}
