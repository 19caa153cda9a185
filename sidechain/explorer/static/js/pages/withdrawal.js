// Withdrawal N: burned on the sidechain, in a final checkpoint, exit possible (that checkpoint is
// on L1), exited (RootBridge paid it). Refreshes itself until it is exited.

import { html, num, big, units, blockLink, addrLink, fields, badge } from "../format.js";
import { Invalid, NotFound } from "../context.js";
import { l1Of } from "../l1.js";
import { refreshEvery } from "../refresh.js";

const REFRESH_MS = 1000;
export const WITHDRAWAL_STAGES = ["burned", "in checkpoint", "exit possible", "exited"];

export async function render(view, [id], _query, ctx, stillCurrent) {
  if (!/^\d+$/.test(id) || BigInt(id) < 1n) throw new Invalid(`"${id}" is not a valid withdrawal id: expected a whole number from 1.`);
  const n = Number(id);
  const l1 = await l1Of(ctx);
  let done = false;
  const draw = async () => {
    const listed = await ctx.rpc.call("sidechain_getWithdrawals", ["0x" + n.toString(16), "0x1"]);
    const w = listed.withdrawals.find((x) => num(x.id) === n);
    if (!w) throw new NotFound(`Withdrawal ${id} not found: ${num(listed.count)} withdrawals so far.`);
    let onL1 = null;
    if (l1 && w.final) {
      try {
        const [last, exited, event, l1Head] = await Promise.all([l1.lastCheckpoint(), l1.isExited(n), l1.exited(n), l1.head()]);
        onL1 = { last, exited, event, l1Head };
      } catch (e) { onL1 = { error: e.message }; }
    }
    const stage = onL1 && onL1.exited ? "exited" : onL1 && onL1.last && onL1.last.number >= num(w.checkpointNumber) ? "exit possible" : w.final ? "in checkpoint" : "burned";
    done = stage === "exited";
    if (stillCurrent()) view.innerHTML = String(page(w, stage, onL1, l1));
  };
  await draw();
  return refreshEvery(REFRESH_MS, draw, () => done);
}

function page(w, stage, onL1, l1) {
  const at = WITHDRAWAL_STAGES.indexOf(stage);
  const eth = /^0x0+$/.test(w.l1Token);
  return html`
  <h1>Withdrawal <span data-field="id">${num(w.id)}</span></h1>
  <ol class="stages">${WITHDRAWAL_STAGES.map((s, i) => html`<li class="${i <= at ? "done" : ""}">${s}</li>`)}</ol>
  ${fields([
    ["Stage", badge(stage, stage === "exited" ? "ok" : "warn"), "stage"],
    ["Burned in block", blockLink(w.blockNumber), "block"],
    ["From (sidechain)", addrLink(w.from, true), "from"],
    ["Recipient (L1)", html`<span class="mono">${w.l1Recipient}</span>`, "recipient"],
    ["Token (L1)", html`<span class="mono">${w.l1Token}</span>${eth ? " (ETH)" : ""}`, "l1-token"],
    ["Amount", units(big(w.amount)), "amount"],
    ["Checkpoint", html`<span data-field="checkpoint">${num(w.checkpointNumber)}</span> ${w.final ? badge("final", "ok") : badge("range not final yet", "warn")}`],
    ["On L1", !l1 ? "this node names no L1" : !onL1 ? "waits for the checkpoint" : onL1.error ? `L1 unreachable: ${onL1.error}` :
      html`last checkpoint on L1: <span data-field="l1-last-checkpoint">${onL1.last.number}</span>`, "l1"],
    onL1 && onL1.event && ["Exit transaction (L1)", html`<span class="mono" data-field="exit-tx">${onL1.event.txHash}</span> in L1 block ${onL1.event.blockNumber}, ${onL1.l1Head - onL1.event.blockNumber + 1} confirmations${onL1.event.credited ? " (credited: the recipient claims it)" : ""}`],
  ])}`;
}
