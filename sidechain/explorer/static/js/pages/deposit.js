// Deposit N: seen on L1 (with confirmations), affirmed by validators holding how much power,
// accepted, minted. Refreshes itself until it is minted.

import { html, num, big, units, blockLink, addrLink, fields, table, badge } from "../format.js";
import { Invalid } from "../context.js";
import { l1Of } from "../l1.js";
import { refreshEvery } from "../refresh.js";
import { pct } from "./block.js";

const REFRESH_MS = 1000;
export const DEPOSIT_STAGES = ["not seen", "seen on L1", "affirming", "accepted", "minted"];

export async function render(view, [id], _query, ctx, stillCurrent) {
  if (!/^\d+$/.test(id) || BigInt(id) < 1n) throw new Invalid(`"${id}" is not a valid deposit id: expected a whole number from 1.`);
  const n = BigInt(id);
  const l1 = await l1Of(ctx);
  let done = false;
  const draw = async () => {
    const [status, seen, l1Head] = await Promise.all([
      ctx.rpc.call("sidechain_getDepositStatus", ["0x" + n.toString(16)]),
      l1 ? l1.deposited(n).catch(() => undefined) : null,
      l1 ? l1.head().catch(() => null) : null,
    ]);
    done = status.status === "minted";
    if (stillCurrent()) view.innerHTML = String(page(n, status, seen, l1Head, l1));
  };
  await draw();
  return refreshEvery(REFRESH_MS, draw, () => done);
}

function stageOf(status, seen) {
  if (status.status === "minted" || status.status === "accepted" || status.status === "affirming") return status.status;
  return seen ? "seen on L1" : "not seen";
}

function page(id, status, seen, l1Head, l1) {
  const stage = stageOf(status, seen);
  const at = DEPOSIT_STAGES.indexOf(stage);
  const content = status.contents[0];
  const best = status.contents.reduce((a, c) => (!a || big(c.power) > big(a.power) ? c : a), null);
  return html`
  <h1>Deposit <span data-field="id">${id.toString()}</span></h1>
  <ol class="stages">${DEPOSIT_STAGES.slice(1).map((s, i) => html`<li class="${i + 1 <= at ? "done" : ""}">${s}</li>`)}</ol>
  ${fields([
    ["Stage", badge(stage, stage === "minted" ? "ok" : "warn"), "stage"],
    ["Seen on L1", !l1 ? "this node names no L1" : seen === undefined ? "L1 unreachable" : seen ?
      html`<span class="mono" data-field="l1-tx">${seen.txHash}</span> in L1 block ${seen.blockNumber}, <span data-field="l1-confirmations">${l1Head === null ? "?" : l1Head - seen.blockNumber + 1}</span> confirmations` :
      "no Deposited event with this id on L1 yet", "seen"],
    seen && ["Sender (L1)", html`<span class="mono">${seen.sender}</span>`],
    ["Recipient", content ? addrLink(content.recipient, true) : seen ? addrLink(seen.recipient, true) : "—", "recipient"],
    ["Token (L1)", content ? html`<span class="mono">${content.l1Token}</span>${/^0x0+$/.test(content.l1Token) ? " (ETH)" : ""}` : seen ? html`<span class="mono">${seen.token}</span>` : "—", "l1-token"],
    content && content.sidechainToken && ["Token (sidechain)", addrLink(content.sidechainToken, true)],
    ["Amount", content ? units(big(content.amount)) : seen ? units(seen.amount) : "—", "amount"],
    ["Affirmed power", best ? html`<span data-field="affirmed-power">${num(best.power)}</span> of ${num(status.totalPower)} (${pct(best.power, status.totalPower)}; more than 2/3 mints)` : html`<span data-field="affirmed-power">0</span> of ${num(status.totalPower)}`],
    ["Minted in block", status.mintedInBlock ? blockLink(status.mintedInBlock) : "—", "minted-in"],
    ["Next deposit to mint", num(status.nextDepositToMint)],
  ])}
  <h2>Affirmations</h2>
  ${status.contents.length > 1 ? html`<p class="bad">The validators affirmed different contents: the queue waits.</p>` : ""}
  ${table(["Content", "Affirmed by", "Power"], status.contents.map((c) => [html`<span class="mono">${c.contentHash.slice(0, 18)}…</span>`,
    html`${c.affirmedBy.map((a) => html`${addrLink(a)} `)}`, num(c.power)]), "no affirmation yet")}`;
}
