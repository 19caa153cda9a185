// Block: header fields, proposer, the commit certificate's signers and the transactions, paginated.

import { html, num, big, short, dateOf, ago, blockLink, txLink, addrLink, fields, table, eth, gwei, pager, badge, isHex } from "../format.js";
import { NotFound, Invalid } from "../context.js";

const PAGE = 25;

export async function render(view, [id], query, ctx) {
  let block;
  if (/^\d+$/.test(id)) {
    const head = await ctx.head();
    if (BigInt(id) > BigInt(head)) throw new NotFound(`Block ${id} not found: the chain's head is block ${head}.`);
    block = await ctx.rpc.call("eth_getBlockByNumber", ["0x" + BigInt(id).toString(16), false]);
  } else if (isHex(id, 32)) {
    block = await ctx.rpc.call("eth_getBlockByHash", [id.toLowerCase(), false]);
  } else {
    throw new Invalid(`"${id}" is not a valid block number or block hash.`);
  }
  if (!block) throw new NotFound(`Block ${id} not found.`);
  const number = num(block.number);
  const page = Math.max(0, parseInt(query.get("page") || "0", 10) || 0);
  const hashes = block.transactions.slice(page * PAGE, (page + 1) * PAGE);
  const calls = [["sidechain_getCommit", [block.number]], ...hashes.flatMap((h) => [["eth_getTransactionByHash", [h]], ["eth_getTransactionReceipt", [h]]])];
  const [commit, ...rest] = await ctx.rpc.batch(calls);
  const rows = [];
  for (let i = 0; i < hashes.length; i++) {
    const tx = rest[2 * i], receipt = rest[2 * i + 1];
    if (!tx || tx instanceof Error) continue;
    const ok = receipt && !(receipt instanceof Error) && receipt.status === "0x1";
    rows.push([txLink(tx.hash), ok ? badge("success", "ok") : badge("failed", "bad"), addrLink(tx.from), addrLink(tx.to), eth(tx.value),
      receipt && !(receipt instanceof Error) ? num(receipt.gasUsed).toLocaleString("en-US") : "—"]);
  }
  const base = `#/block/${number}`;
  view.innerHTML = String(html`
  <h1>Block <span data-field="number">${number}</span></h1>
  <p class="nav-prev-next">${number > 0 ? html`<a href="#/block/${number - 1}">← block ${number - 1}</a>` : ""} <a href="#/block/${number + 1}">block ${number + 1} →</a></p>
  ${fields([
    ["Hash", html`<span class="mono">${block.hash}</span>`, "hash"],
    ["Parent", html`<a class="mono" href="#/block/${block.parentHash}">${block.parentHash}</a>`, "parent"],
    ["Time", `${dateOf(num(block.timestamp))} (${ago(num(block.timestamp))})`, "time"],
    ["Proposer", addrLink(block.miner, true), "proposer"],
    ["Transactions", block.transactions.length, "tx-count"],
    ["Gas used", `${num(block.gasUsed).toLocaleString("en-US")} of ${num(block.gasLimit).toLocaleString("en-US")}`, "gas-used"],
    ["Base fee", gwei(big(block.baseFeePerGas)), "base-fee"],
    ["Size", `${num(block.size).toLocaleString("en-US")} bytes`, "size"],
    ["State root", html`<span class="mono">${block.stateRoot}</span>`],
    ["Transactions root", html`<span class="mono">${block.transactionsRoot}</span>`],
    ["Receipts root", html`<span class="mono">${block.receiptsRoot}</span>`],
    ["Consensus data", html`<span class="mono wrap">${block.consensusData || block.extraData}</span>`],
  ])}
  <h2>Commit certificate</h2>
  ${commitView(commit)}
  <h2>Transactions</h2>
  ${table(["Hash", "Status", "From", "To", "Value", "Gas used"], rows, "no transactions in this block")}
  ${block.transactions.length > PAGE ? pager(base, page, (page + 1) * PAGE < block.transactions.length) : ""}`);
}

function commitView(commit) {
  if (commit instanceof Error) return html`<p class="muted" data-field="commit">the node does not serve commit certificates (${commit.message})</p>`;
  if (!commit) return html`<p class="muted" data-field="commit">no commit certificate stored for this block</p>`;
  return html`${fields([
    ["Round", num(commit.round), "commit-round"],
    ["Proposer", addrLink(commit.proposer, true), "commit-proposer"],
    ["Signed power", html`<span data-field="signed-power">${num(commit.signedPower)}</span> of <span data-field="total-power">${num(commit.totalPower)}</span> (${pct(commit.signedPower, commit.totalPower)})`],
  ])}
  ${table(["Signer", "Power"], commit.signers.map((s) => [addrLink(s.validator, true), num(s.power)]))}`;
}

export const pct = (a, b) => (big(b) === 0n ? "—" : `${((Number(big(a)) / Number(big(b))) * 100).toFixed(1)}%`);
