// Transaction: status, from/to, value, fee and gas, decoded input and logs for the known ABIs,
// revert reason, and the call tree from debug_traceTransaction (callTracer).

import { html, num, big, blockLink, addrLink, fields, table, eth, gwei, badge, isHex, dateOf, ago } from "../format.js";
import { NotFound, Invalid } from "../context.js";

export async function render(view, [hash], _query, ctx) {
  if (!isHex(hash, 32)) throw new Invalid(`"${hash}" is not a valid transaction hash: expected 0x and 64 hex digits.`);
  hash = hash.toLowerCase();
  const [tx, receipt, trace] = await ctx.rpc.batch([
    ["eth_getTransactionByHash", [hash]], ["eth_getTransactionReceipt", [hash]], ["debug_traceTransaction", [hash, { tracer: "callTracer" }]],
  ]);
  if (tx instanceof Error) throw tx;
  if (!tx) throw new NotFound(`Transaction ${hash} not found.`);
  const abis = await ctx.abis();
  const names = await ctx.systemNames();
  const mined = receipt && !(receipt instanceof Error);
  const block = mined ? await ctx.rpc.call("eth_getBlockByNumber", [receipt.blockNumber, false]).catch(() => null) : null;
  const status = !mined ? badge("pending", "warn") : receipt.status === "0x1" ? badge("success", "ok") : badge("failed", "bad");
  const traced = trace && !(trace instanceof Error) ? trace : null;
  const revert = mined && receipt.status !== "0x1" ? revertReason(traced, abis) : null;
  const fee = mined ? big(receipt.gasUsed) * big(receipt.effectiveGasPrice) : null;
  let decoded = null, decodeError = null;
  try { decoded = abis.decodeInput(tx.input); } catch (e) { decodeError = e.message; }
  view.innerHTML = String(html`
  <h1>Transaction</h1>
  ${fields([
    ["Hash", html`<span class="mono wrap">${tx.hash}</span>`, "hash"],
    ["Status", status, "status"],
    revert !== null && ["Revert reason", revert, "revert-reason"],
    ["Block", mined ? blockLink(receipt.blockNumber) : "pending", "block"],
    block && ["Time", `${dateOf(num(block.timestamp))} (${ago(num(block.timestamp))})`],
    ["From", addrLink(tx.from, true), "from"],
    ["To", tx.to ? html`${addrLink(tx.to, true)} ${names.get(tx.to.toLowerCase()) ? badge(names.get(tx.to.toLowerCase())) : ""}` :
      html`contract creation ${mined && receipt.contractAddress ? addrLink(receipt.contractAddress, true) : ""}`, "to"],
    ["Value", eth(tx.value), "value"],
    ["Fee", fee === null ? "—" : eth(fee), "fee"],
    ["Gas", mined ? `${num(receipt.gasUsed).toLocaleString("en-US")} used of ${num(tx.gas).toLocaleString("en-US")}` : `limit ${num(tx.gas).toLocaleString("en-US")}`, "gas"],
    ["Gas price", mined ? gwei(big(receipt.effectiveGasPrice)) : gwei(big(tx.gasPrice)), "gas-price"],
    tx.maxFeePerGas && ["Max fee / priority fee", `${gwei(big(tx.maxFeePerGas))} / ${gwei(big(tx.maxPriorityFeePerGas))}`],
    ["Nonce", num(tx.nonce), "nonce"],
    ["Type", num(tx.type), "type"],
  ])}
  <h2>Input</h2>
  ${decoded ? html`<p data-field="method"><code>${decoded.sig}</code> <span class="muted">(${decoded.label})</span></p>
    ${table(["Name", "Type", "Value"], decoded.args.map((a) => [a.name, a.type, valueView(a)]))}` :
    html`<p class="muted" data-field="method">${tx.input === "0x" ? "no input (a plain transfer)" : decodeError ? `could not decode: ${decodeError}` : "not a known function"}</p>`}
  ${tx.input !== "0x" ? html`<details><summary>raw input (${(tx.input.length - 2) / 2} bytes)</summary><pre class="mono wrap">${tx.input}</pre></details>` : ""}
  <h2>Logs <span class="muted small">(${mined ? receipt.logs.length : 0})</span></h2>
  ${mined ? logsView(receipt.logs, abis, names) : html`<p class="muted">not mined yet</p>`}
  <h2>Call tree</h2>
  ${traced ? html`<div class="calltree" data-field="calltree">${callView(traced, abis, names)}</div>` :
    html`<p class="muted" data-field="calltree">${trace instanceof Error ? `no trace: ${trace.message}` : "no trace"}</p>`}`);
}

function revertReason(trace, abis) {
  if (!trace) return "reverted (no trace to read the reason from)";
  if (trace.revertReason) return trace.revertReason;
  try {
    const decoded = abis.decodeRevert(trace.output);
    if (decoded) return decoded;
  } catch { /* undecodable revert data: fall back to the error text */ }
  return trace.error || "reverted";
}

const valueView = (a) => {
  if (a.type === "address") return addrLink(a.value, true);
  if (Array.isArray(a.value)) return html`<span class="mono wrap">${JSON.stringify(a.value, (_, v) => (typeof v === "bigint" ? v.toString() : v))}</span>`;
  return html`<span class="mono wrap">${String(a.value)}</span>`;
};

function logsView(logs, abis, names) {
  if (logs.length === 0) return html`<p class="muted">no logs</p>`;
  return html`<ol class="logs">${logs.map((log) => {
    let d = null;
    try { d = abis.decodeLog(log); } catch { d = null; }
    const who = names.get(log.address.toLowerCase());
    return html`<li data-log="${d ? d.name : "unknown"}"><div>${addrLink(log.address, true)} ${who ? badge(who) : ""}</div>
      ${d ? html`<div><strong>${d.name}</strong> <span class="muted">(${d.label})</span>${bridgeLink(d)}</div>${table(["Name", "Type", "Value"], d.args.map((a) => [a.name, a.type, valueView(a)]))}` :
        html`<div class="muted">unknown event</div><pre class="mono wrap">${log.topics.join("\n")}\n${log.data}</pre>`}</li>`;
  })}</ol>`;
}

/** The bridge page of a deposit or withdrawal event. */
function bridgeLink(decoded) {
  const id = (name) => decoded.args.find((a) => a.name === name);
  if (decoded.label === "bridge" && id("depositId")) return html` <a href="#/deposit/${id("depositId").value}">deposit ${id("depositId").value}</a>`;
  if (decoded.label === "bridge" && id("withdrawalId")) return html` <a href="#/withdrawal/${id("withdrawalId").value}">withdrawal ${id("withdrawalId").value}</a>`;
  return "";
}

function callView(frame, abis, names, depth = 0) {
  let decoded = null;
  try { decoded = frame.input ? abis.decodeInput(frame.input) : null; } catch { decoded = null; }
  const who = frame.to ? names.get(frame.to.toLowerCase()) : null;
  const failed = frame.error ? html` ${badge(frame.error, "bad")}` : "";
  return html`<div class="frame" style="--depth:${depth}"><span class="kind">${frame.type}</span>
    ${addrLink(frame.to)}${who ? html` <span class="muted">${who}</span>` : ""}${decoded ? html` <code>${decoded.name}</code>` : ""}
    ${big(frame.value) > 0n ? html` <span>${eth(frame.value)}</span>` : ""} <span class="muted">gas ${num(frame.gasUsed).toLocaleString("en-US")}</span>${failed}
    ${(frame.calls || []).map((c) => callView(c, abis, names, depth + 1))}</div>`;
}
