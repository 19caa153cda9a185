// Bridge: deposits by id and withdrawals, newest first and paginated, and the supply invariant of
// every bridged token (what RootBridge holds on L1 against what the sidechain minted and burned).

import { html, num, big, units, blockLink, addrLink, table, badge } from "../format.js";
import { l1Of } from "../l1.js";
import { pct } from "./block.js";
export { render as renderDeposit } from "./deposit.js";
export { render as renderWithdrawal } from "./withdrawal.js";

const PAGE = 10;

/** ids top, top-1, ... of page `page` as (fromId, count), ids starting at 1. */
function span(top, page) {
  const last = top - page * PAGE;
  const first = Math.max(1, last - PAGE + 1);
  return { first, count: Math.max(0, last - first + 1) };
}

export async function render(view, _params, query, ctx) {
  const dpage = Math.max(0, parseInt(query.get("dpage") || "0", 10) || 0);
  const wpage = Math.max(0, parseInt(query.get("wpage") || "0", 10) || 0);
  const overview = await ctx.rpc.call("sidechain_getBridgeOverview");
  const l1 = await l1Of(ctx);
  const [[probe], onL1] = await Promise.all([ctx.rpc.batch([["sidechain_getDeposits", ["0x1", "0x1"]]]), l1 ? l1.depositCount().catch(() => null) : null]);
  const known = probe instanceof Error ? 0 : Math.max(num(probe.highestSeen), num(probe.nextDepositToMint) - 1);
  const d = span(Math.max(known, onL1 || 0), dpage), w = span(num(overview.withdrawalCount), wpage);
  const [deposits, withdrawals] = await ctx.rpc.batch([
    ["sidechain_getDeposits", ["0x" + d.first.toString(16), "0x" + d.count.toString(16)]],
    ["sidechain_getWithdrawals", ["0x" + w.first.toString(16), "0x" + w.count.toString(16)]],
  ]);
  const withdrawalStage = await withdrawalStages(withdrawals, l1);
  const supply = await supplyRows(overview.tokens, l1);
  const depositRows = deposits instanceof Error ? [] : depositList(deposits, d, onL1);
  view.innerHTML = String(html`
  <h1>Bridge</h1>
  <p>Next deposit to mint: <strong data-field="next-deposit">${num(overview.nextDepositToMint)}</strong>; withdrawals so far:
    <strong data-field="withdrawal-count">${num(overview.withdrawalCount)}</strong>.</p>
  <h2>Supply per token</h2>
  ${table(["Token", "Sidechain", "Minted", "Burned", "Sidechain supply", "Locked on L1", "Exited on L1", "Invariant"], supply, "no token bridged yet")}
  <p class="muted small">Invariant: what RootBridge locks on L1 covers every unit that may still exit: genesis supply + minted − exited ≤ locked
    (deposits not minted yet make it larger).</p>
  <h2>Deposits</h2>
  ${onL1 !== null ? html`<p>Deposits made on L1: <strong data-field="l1-deposits">${onL1}</strong>.</p>` : ""}
  ${deposits instanceof Error ? html`<p class="muted">${deposits.message}</p>` :
    table(["Id", "Status", "Recipient", "Amount", "Affirmed power", "Minted in"], depositRows, "no deposit seen yet")}
  ${pagerFor("dpage", dpage, wpage, d.first > 1)}
  <h2>Withdrawals</h2>
  ${withdrawals instanceof Error ? html`<p class="muted">${withdrawals.message}</p>` :
    table(["Id", "Stage", "Burned in", "From", "L1 recipient", "Token (L1)", "Amount", "Checkpoint"], withdrawals.withdrawals.slice().reverse().map((x) => [
      html`<a href="#/withdrawal/${num(x.id)}">${num(x.id)}</a>`, badge(withdrawalStage(x), withdrawalStage(x) === "exited" ? "ok" : "warn"), blockLink(x.blockNumber), addrLink(x.from), html`<span class="mono">${x.l1Recipient.slice(0, 10)}…</span>`,
      /^0x0+$/.test(x.l1Token) ? "ETH" : html`<span class="mono">${x.l1Token.slice(0, 10)}…</span>`, units(big(x.amount)),
      html`${num(x.checkpointNumber)} ${x.final ? badge("final", "ok") : badge("pending", "warn")}`]), "no withdrawal yet")}
  ${pagerFor("wpage", dpage, wpage, w.first > 1)}`);
}

/** Rows for deposits d.first..d.first+d.count-1, newest first; ids the sidechain has not seen yet
 * but L1 has show as "seen on L1". */
function depositList(deposits, d, onL1) {
  const byId = new Map(deposits.deposits.map((s) => [num(s.depositId), s]));
  const rows = [];
  for (let id = d.first + d.count - 1; id >= d.first; id--) {
    const s = byId.get(id);
    if (!s || (s.status === "unseen" && !s.contents.length)) {
      const stage = onL1 !== null && id <= onL1 ? "seen on L1" : "not seen";
      rows.push([html`<a href="#/deposit/${id}">${id}</a>`, badge(stage, "warn"), "—", "—", "—", "—"]);
      continue;
    }
    const c = s.contents[0];
    rows.push([html`<a href="#/deposit/${id}">${id}</a>`, badge(s.status, s.status === "minted" ? "ok" : "warn"),
      c ? addrLink(c.recipient) : "—", c ? units(big(c.amount)) : "—", c ? `${num(c.power)} / ${num(s.totalPower)} (${pct(c.power, s.totalPower)})` : "—",
      s.mintedInBlock ? blockLink(s.mintedInBlock) : "—"]);
  }
  return rows;
}

/** A function giving each listed withdrawal's stage (burned, in checkpoint, exit possible, exited). */
async function withdrawalStages(withdrawals, l1) {
  let last = null, exited = new Map();
  if (l1 && !(withdrawals instanceof Error) && withdrawals.withdrawals.length) {
    try {
      [last, exited] = await Promise.all([l1.lastCheckpoint(), l1.exitedMany(withdrawals.withdrawals.map((x) => num(x.id)))]);
    } catch { last = null; }
  }
  return (x) => (exited.get(num(x.id)) ? "exited" : last && x.final && last.number >= num(x.checkpointNumber) ? "exit possible" : x.final ? "in checkpoint" : "burned");
}

function pagerFor(which, dpage, wpage, hasOlder) {
  const page = which === "dpage" ? dpage : wpage;
  const at = (p) => (which === "dpage" ? `#/bridge?dpage=${p}&wpage=${wpage}` : `#/bridge?dpage=${dpage}&wpage=${p}`);
  return html`<nav class="pager" data-pager-for="${which}">${page > 0 ? html`<a href="${at(page - 1)}">← newer</a>` : html`<span class="muted">← newer</span>`}
    <span>page ${page + 1}</span>${hasOlder ? html`<a href="${at(page + 1)}">older →</a>` : html`<span class="muted">older →</span>`}</nav>`;
}

async function supplyRows(tokens, l1) {
  return Promise.all(tokens.map(async (t) => {
    const minted = big(t.minted), burned = big(t.burned), genesis = big(t.genesisSupply);
    const decimals = num(t.decimals);
    let locked = null, exited = null, error = null;
    if (l1) {
      try { [locked, exited] = await Promise.all([l1.lockedBalance(t.l1Token), l1.exitedTotal(t.l1Token)]); } catch (e) { error = e.message; }
    }
    const holds = locked !== null && genesis + minted - exited <= locked && exited <= burned;
    return [html`<span data-token="${t.symbol}">${t.name} (${t.symbol})</span>`, t.sidechainToken ? addrLink(t.sidechainToken) : "native coin",
      units(minted, decimals), units(burned, decimals), html`<span data-col="supply">${units(big(t.totalSupply), decimals)}</span>`,
      locked === null ? (error ? `L1 unreachable` : "no L1") : html`<span data-col="locked">${units(locked, decimals)}</span>`,
      exited === null ? "—" : units(exited, decimals),
      locked === null ? "—" : holds ? badge("holds", "ok") : badge("broken", "bad")];
  }));
}
