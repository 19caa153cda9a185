// Home: the latest blocks and transactions, live over newHeads, with TPS, gas per second, finality
// time and a chart of the last few hundred blocks.

import { html, num, short, ago, blockLink, txLink, addrLink, table, eth, pager } from "../format.js";
import { activityChart } from "../chart.js";

const WINDOW = 300;
const LATEST = 10;

export async function render(view, _params, query, ctx, stillCurrent) {
  const head = await ctx.head();
  const from = Math.max(0, head - WINDOW + 1);
  const calls = [];
  for (let n = from; n <= head; n++) calls.push(["eth_getBlockByNumber", ["0x" + n.toString(16), false]]);
  const [headers, status] = await Promise.all([ctx.rpc.batch(calls), ctx.rpc.call("sidechain_consensusStatus").catch(() => null)]);
  const blocks = headers.filter((b) => b && !(b instanceof Error));
  const state = { blocks, status, txs: [] };
  state.txs = await latestTxs(ctx, blocks);
  if (!stillCurrent()) return;
  draw(view, state, "connecting");
  // Heads are handled one at a time, and a head past the last block shown brings the blocks between
  // (those announced before the subscription started, or while the socket reconnected).
  let queue = Promise.resolve();
  const onHead = async (header) => {
    const last = state.blocks.length ? num(state.blocks[state.blocks.length - 1].number) : num(header.number) - 1;
    const target = num(header.number);
    if (target <= last) return;
    const calls = [];
    for (let n = Math.max(last + 1, target - WINDOW + 1); n <= target; n++) calls.push(["eth_getBlockByNumber", ["0x" + n.toString(16), false]]);
    const fresh = (await ctx.rpc.batch(calls)).filter((b) => b && !(b instanceof Error));
    state.blocks.push(...fresh);
    state.blocks.splice(0, Math.max(0, state.blocks.length - WINDOW));
    if (fresh.some((b) => b.transactions.length)) state.txs = await latestTxs(ctx, state.blocks);
    state.status = await ctx.rpc.call("sidechain_consensusStatus").catch(() => state.status);
    if (stillCurrent()) draw(view, state, "live");
  };
  const stop = ctx.rpc.subscribeHeads((header) => { queue = queue.then(() => onHead(header)).catch(() => {}); },
    (s) => { const el = view.querySelector("[data-field=live]"); if (el) el.textContent = s; });
  return stop;
}

async function latestTxs(ctx, blocks) {
  const hashes = [];
  for (let i = blocks.length - 1; i >= 0 && hashes.length < LATEST; i--) hashes.push(...blocks[i].transactions.slice().reverse());
  const found = await ctx.rpc.batch(hashes.slice(0, LATEST).map((h) => ["eth_getTransactionByHash", [h]]));
  return found.filter((t) => t && !(t instanceof Error));
}

function stats(all) {
  const blocks = all.filter((b) => num(b.number) > 0); // genesis is dated when the network was set up
  if (blocks.length < 2) return { tps: 0, gasPerSecond: 0, blockTime: 0 };
  const first = blocks[0], last = blocks[blocks.length - 1];
  const seconds = Math.max(1, num(last.timestamp) - num(first.timestamp));
  const txs = blocks.slice(1).reduce((n, b) => n + b.transactions.length, 0);
  const gas = blocks.slice(1).reduce((n, b) => n + num(b.gasUsed), 0);
  return { tps: txs / seconds, gasPerSecond: gas / seconds, blockTime: seconds / (blocks.length - 1) };
}

function draw(view, { blocks, status, txs }, live) {
  const s = stats(blocks);
  const head = blocks[blocks.length - 1];
  const finality = status && status.lastCommitSeconds !== undefined ? `${Number(status.lastCommitSeconds).toFixed(2)} s` : `${s.blockTime.toFixed(2)} s`;
  const latest = blocks.slice(-LATEST).reverse();
  view.innerHTML = String(html`
  <h1>Latest <small class="muted">(<span data-field="live">${live}</span>)</small></h1>
  <section class="cards">
    <div class="card"><div class="label">Head block</div><div class="value" data-field="head">${head ? num(head.number) : "—"}</div></div>
    <div class="card"><div class="label">TPS (last ${blocks.length} blocks)</div><div class="value" data-field="tps">${s.tps.toFixed(2)}</div></div>
    <div class="card"><div class="label">Gas per second</div><div class="value" data-field="gas-per-second">${Math.round(s.gasPerSecond).toLocaleString("en-US")}</div></div>
    <div class="card"><div class="label">Finality (last commit)</div><div class="value" data-field="finality">${finality}</div></div>
    <div class="card"><div class="label">Average block time</div><div class="value" data-field="block-time">${s.blockTime.toFixed(2)} s</div></div>
  </section>
  ${activityChart(blocks.map((b) => ({ number: num(b.number), txs: b.transactions.length, gasUsed: num(b.gasUsed) })))}
  <div class="two">
    <section><h2>Latest blocks <a class="small" href="#/blocks">all blocks</a></h2>
      ${table(["Block", "Age", "Proposer", "Txs", "Gas used"], latest.map((b) => [blockLink(b.number), ago(num(b.timestamp)), addrLink(b.miner), b.transactions.length, num(b.gasUsed).toLocaleString("en-US")]))}
    </section>
    <section><h2>Latest transactions</h2>
      ${table(["Hash", "Block", "From", "To", "Value"], txs.map((t) => [txLink(t.hash), blockLink(t.blockNumber), addrLink(t.from), addrLink(t.to), eth(t.value)]), "no transactions in the last blocks")}
    </section>
  </div>`);
}

const PAGE = 25;

/** #/blocks?page=N: every block, newest first, PAGE at a time. */
export async function renderBlocks(view, _params, query, ctx) {
  const page = Math.max(0, parseInt(query.get("page") || "0", 10) || 0);
  const head = await ctx.head();
  const top = head - page * PAGE;
  const calls = [];
  for (let n = top; n > top - PAGE && n >= 0; n--) calls.push(["eth_getBlockByNumber", ["0x" + n.toString(16), false]]);
  const blocks = (await ctx.rpc.batch(calls)).filter((b) => b && !(b instanceof Error));
  view.innerHTML = String(html`<h1>Blocks</h1>
    ${table(["Block", "Hash", "Age", "Proposer", "Txs", "Gas used"], blocks.map((b) => [blockLink(b.number), short(b.hash), ago(num(b.timestamp)), addrLink(b.miner), b.transactions.length, num(b.gasUsed).toLocaleString("en-US")]))}
    ${pager("#/blocks", page, top - PAGE >= 0)}`);
}
