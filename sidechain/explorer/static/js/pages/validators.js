// Validators: the current and pending set with power, the proposer rotation, the last block each
// proposed and signed, missed rounds (sidechain_getValidatorActivity), peers and the consensus step.

import { html, num, big, blockLink, addrLink, fields, table, badge } from "../format.js";
import { refreshEvery } from "../refresh.js";

const REFRESH_MS = 2000;
const MISSING_AFTER = 10;

export async function render(view, _params, query, ctx, stillCurrent) {
  const window = Math.min(1000, Math.max(1, parseInt(query.get("window") || "100", 10) || 100));
  const draw = async () => {
    const [status, sets, activity] = await ctx.rpc.batch([
      ["sidechain_consensusStatus", []], ["sidechain_getValidators", ["latest"]], ["sidechain_getValidatorActivity", [window]],
    ]);
    if (status instanceof Error) throw status;
    if (sets instanceof Error) throw sets;
    if (stillCurrent()) view.innerHTML = String(page(status, sets, activity, window));
  };
  await draw();
  return refreshEvery(REFRESH_MS, draw);
}

function page(status, sets, activity, window) {
  const byAddress = new Map(activity instanceof Error ? [] : activity.validators.map((v) => [v.address.toLowerCase(), v]));
  const powers = new Map(sets.current.validators.map((a, i) => [a.toLowerCase(), num(sets.current.powers[i])]));
  const total = [...powers.values()].reduce((a, b) => a + b, 0);
  const rotation = status.validators || sets.current.validators;
  const proposer = (status.proposer || "").toLowerCase();
  const rows = sets.current.validators.map((a) => {
    const addr = a.toLowerCase();
    const act = byAddress.get(addr);
    const missed = act ? num(act.missed) : null;
    // A certificate holds only the first precommits past 2/3, so a live validator is often absent from
    // one; absent from the last MISSING_AFTER in a row, it is missing now, whatever it did before.
    const health = !act ? "" : act.lastSigned && num(act.lastSigned) > num(activity.toBlock) - MISSING_AFTER ? badge("signing", "ok") : badge("missing", "bad");
    return html`<tr data-validator="${addr}">
      <td>${addrLink(addr, true)}${addr === proposer ? html` ${badge("proposing", "warn")}` : ""}</td>
      <td>${powers.get(addr)}</td>
      <td data-col="last-proposed">${act && act.lastProposed ? blockLink(act.lastProposed) : "—"}</td>
      <td data-col="last-signed">${act && act.lastSigned ? blockLink(act.lastSigned) : "—"}</td>
      <td data-col="proposed">${act ? num(act.proposed) : "—"}</td>
      <td data-col="signed">${act ? num(act.signed) : "—"}</td>
      <td data-col="missed">${missed === null ? "—" : missed}</td>
      <td data-col="missed-proposals">${act ? missedProposals(act.missedProposals) : "—"}</td>
      <td data-col="health">${health}</td></tr>`;
  });
  const changed = sets.pending.hash !== sets.current.hash;
  return html`
  <h1>Validators</h1>
  ${fields([
    ["Height", num(status.height), "height"],
    ["Round", status.round, "round"],
    ["Step", status.step, "step"],
    ["Proposer", addrLink(status.proposer, true), "proposer"],
    ["Peers", status.peers, "peers"],
    ["Last finalized", status.finalized ? blockLink(status.finalized.number) : "—", "finalized"],
    ["Set id", num(sets.setId), "set-id"],
    ["Total power", total, "total-power"],
  ])}
  <h2>Current set</h2>
  <p class="muted">activity over ${activity instanceof Error ? "—" : html`blocks ${num(activity.fromBlock)}–<span data-field="activity-to">${num(activity.toBlock)}</span>`}
    (<a href="#/validators?window=${window === 100 ? 1000 : 100}">last ${window === 100 ? 1000 : 100} blocks</a>)
    ${activity instanceof Error ? html`<br>the node does not report validator activity (${activity.message})` : ""}</p>
  <div class="table-wrap"><table><thead><tr><th>Validator</th><th>Power</th><th>Last proposed</th><th>Last signed</th><th>Proposed</th><th>Signed</th><th>Missed</th><th>Missed proposals</th><th></th></tr></thead>
  <tbody>${rows}</tbody></table></div>
  <h2>Proposer rotation</h2>
  <ol class="rotation" data-field="rotation">${rotation.map((a) => html`<li>${addrLink(a, true)}${a.toLowerCase() === proposer ? html` ${badge("now", "warn")}` : ""}</li>`)}</ol>
  <h2>Pending set ${changed ? badge("changes at the next checkpoint boundary", "warn") : html`<span class="muted small">(same as current)</span>`}</h2>
  ${table(["Validator", "Power"], sets.pending.validators.map((a, i) => [addrLink(a, true), num(sets.pending.powers[i])]))}`;
}

/** Blocks decided in a later round than this validator's turn: a count, the latest ones linked. */
function missedProposals(list) {
  if (!Array.isArray(list)) return num(list);
  if (list.length === 0) return "0";
  return html`${list.length} <span class="muted small">(${list.slice(-3).map((n) => html`${blockLink(n)} `)})</span>`;
}
