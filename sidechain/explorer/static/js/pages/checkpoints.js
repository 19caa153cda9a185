// Checkpoints: each range, newest first, with its signatures and their power, and when the node
// names its L1, the L1 transaction that submitted it and its confirmations.

import { html, num, blockLink, addrLink, table, badge, pager } from "../format.js";
import { l1Of } from "../l1.js";
import { pct } from "./block.js";

const PAGE = 10;

export async function render(view, _params, query, ctx) {
  const page = Math.max(0, parseInt(query.get("page") || "0", 10) || 0);
  // Fresh, not ctx.network()'s copy from when the page loaded: the latest checkpoint moves.
  const [info, head] = await Promise.all([ctx.rpc.call("sidechain_getNetworkInfo").catch(() => null), ctx.head()]);
  const interval = info ? num(info.checkpointInterval) : 16;
  const latest = info && info.latestFinalCheckpoint !== undefined && info.latestFinalCheckpoint !== null ? num(info.latestFinalCheckpoint) : Math.floor(head / interval);
  const top = latest - page * PAGE;
  const numbers = [];
  for (let n = top; n > top - PAGE && n >= 1; n--) numbers.push(n);
  const checkpoints = await ctx.rpc.batch(numbers.map((n) => ["sidechain_getCheckpoint", ["0x" + n.toString(16)]]));
  const l1 = await l1Of(ctx);
  let submitted = new Map(), l1Head = null, l1Last = null, l1Error = null;
  if (l1) {
    try { [submitted, l1Head, l1Last] = await Promise.all([l1.checkpointsSubmitted(numbers), l1.head(), l1.lastCheckpoint()]); } catch (e) { l1Error = e.message; }
  }
  const rows = numbers.map((n, i) => {
    const cp = checkpoints[i];
    if (!cp || cp instanceof Error) return html`<tr data-checkpoint="${n}"><td>${n}</td><td colspan="5" class="muted">${cp instanceof Error ? cp.message : "not final yet"}</td></tr>`;
    const powerOf = new Map(cp.signers.validators.map((a, k) => [a.toLowerCase(), BigInt(cp.signers.powers[k])]));
    const total = [...powerOf.values()].reduce((a, b) => a + b, 0n);
    const signed = cp.signatures.reduce((s, sig) => s + (powerOf.get(sig.validator.toLowerCase()) || 0n), 0n);
    const quorum = signed * 3n > total * 2n;
    const onL1 = submitted.get(n);
    return html`<tr data-checkpoint="${n}">
      <td>${n}</td>
      <td>${blockLink(cp.startBlock)}–${blockLink(cp.endBlock)}</td>
      <td><span data-col="signed-power">${signed.toString()}</span> / ${total.toString()} (${pct(signed, total)}) ${quorum ? badge("quorum", "ok") : badge("gathering", "warn")}
        <details><summary>${cp.signatures.length} signatures</summary><ul class="plain">${cp.signatures.map((s) => html`<li>${addrLink(s.validator)} power ${(powerOf.get(s.validator.toLowerCase()) || 0n).toString()}</li>`)}</ul></details></td>
      <td>${num(cp.withdrawalCount)}${cp.nextValidatorSet ? html` ${badge("hands over a new set", "warn")}` : ""}</td>
      <td data-col="l1-tx">${!l1 ? html`<span class="muted">no L1 configured</span>` : onL1 ? html`<span class="mono" title="${onL1.txHash}">${onL1.txHash}</span>` : html`<span class="muted">not on L1 yet</span>`}</td>
      <td data-col="l1-confirmations">${onL1 && l1Head !== null ? html`${l1Head - onL1.blockNumber + 1} <span class="muted">(L1 block ${onL1.blockNumber})</span>` : "—"}</td></tr>`;
  });
  view.innerHTML = String(html`
  <h1>Checkpoints</h1>
  <p>Every ${interval} blocks the validators sign the range's checkpoint; once more than 2/3 of the power signed, a relayer submits it to L1.
    Latest final checkpoint: <strong data-field="latest-checkpoint">${latest}</strong>.
    ${l1 ? html`On L1 (chain ${num(l1.info.chainId)}, CheckpointManager <span class="mono">${l1.info.checkpointManager}</span>): last checkpoint
      <strong data-field="l1-last-checkpoint">${l1Last ? l1Last.number : "—"}</strong>${l1Error ? html` <span class="bad">L1 unreachable: ${l1Error}</span>` : ""}.` : html`<span class="muted">This node names no L1.</span>`}</p>
  <div class="table-wrap"><table><thead><tr><th>#</th><th>Blocks</th><th>Signed power</th><th>Withdrawals</th><th>L1 transaction</th><th>Confirmations</th></tr></thead>
  <tbody>${rows.length ? rows : html`<tr><td colspan="6" class="muted">no checkpoint yet</td></tr>`}</tbody></table></div>
  ${pager("#/checkpoints", page, top - PAGE >= 1)}`);
}
