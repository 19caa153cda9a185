// Address: native balance, nonce, bridged token balances, code if a contract, and its transactions
// newest first (ots_searchTransactionsBefore), a page at a time.

import { html, num, big, units, blockLink, txLink, addrLink, fields, table, eth, badge, isHex, ago } from "../format.js";
import { Invalid } from "../context.js";
import { encodeCall } from "../abi.js";
import { SIG } from "../known.js";

const PAGE = 25;

export async function render(view, [address], query, ctx) {
  if (!isHex(address, 20)) throw new Invalid(`"${address}" is not a valid address: expected 0x and 40 hex digits.`);
  address = address.toLowerCase();
  const before = Math.max(0, parseInt(query.get("before") || "0", 10) || 0);
  const after = Math.max(0, parseInt(query.get("after") || "0", 10) || 0);
  const search = after ? ["ots_searchTransactionsAfter", [address, after, PAGE]] : ["ots_searchTransactionsBefore", [address, before, PAGE]];
  const [balance, nonce, code, overview, history] = await ctx.rpc.batch([
    ["eth_getBalance", [address, "latest"]], ["eth_getTransactionCount", [address, "latest"]], ["eth_getCode", [address, "latest"]],
    ["sidechain_getBridgeOverview", []], search,
  ]);
  for (const r of [balance, nonce, code]) if (r instanceof Error) throw r;
  const names = await ctx.systemNames();
  const tokens = overview && !(overview instanceof Error) ? overview.tokens.filter((t) => t.sidechainToken) : [];
  const balances = await ctx.rpc.batch(tokens.map((t) => ["eth_call", [{ to: t.sidechainToken, data: encodeCall(SIG.balanceOf, [BigInt(address)]) }, "latest"]]));
  const isContract = code && code !== "0x";
  view.innerHTML = String(html`
  <h1>${isContract ? "Contract" : "Address"} ${names.get(address) ? badge(names.get(address)) : ""}</h1>
  ${fields([
    ["Address", html`<span class="mono wrap">${address}</span>`, "address"],
    ["Balance", eth(balance), "balance"],
    ["Nonce", num(nonce), "nonce"],
    ["Kind", isContract ? `contract (${(code.length - 2) / 2} bytes of code)` : "account (no code)", "kind"],
  ])}
  <h2>Bridged tokens</h2>
  ${overview instanceof Error ? html`<p class="muted">the node does not list bridged tokens (${overview.message})</p>` :
    table(["Token", "Contract", "Balance"], tokens.map((t, i) => [
      `${t.name} (${t.symbol})`, addrLink(t.sidechainToken),
      html`<span data-token-balance="${t.symbol}">${balances[i] instanceof Error ? "—" : units(big(balances[i]), num(t.decimals))}</span>`,
    ]), "no bridged ERC-20 tokens on this chain yet")}
  ${isContract ? html`<h2>Code</h2><details><summary>${(code.length - 2) / 2} bytes</summary><pre class="mono wrap code">${code}</pre></details>` : ""}
  <h2>Transactions</h2>
  ${historyView(address, history, before || after)}`);
}

function historyView(address, history, paged) {
  if (history instanceof Error) return html`<p class="muted" data-field="history">the node cannot list this address's transactions (${history.message})</p>`;
  const receipts = new Map(history.receipts.map((r) => [r.transactionHash, r]));
  const rows = history.txs.map((tx) => {
    const r = receipts.get(tx.hash);
    const direction = tx.from.toLowerCase() === address ? (tx.to && tx.to.toLowerCase() === address ? "self" : "out") : "in";
    return [txLink(tx.hash), blockLink(tx.blockNumber), r && r.timestamp ? ago(num(r.timestamp)) : "",
      badge(direction), addrLink(tx.from), addrLink(tx.to), eth(tx.value), r ? (r.status === "0x1" ? badge("success", "ok") : badge("failed", "bad")) : ""];
  });
  const first = history.txs[0], last = history.txs[history.txs.length - 1];
  const base = `#/address/${address}`;
  return html`${table(["Hash", "Block", "Age", "", "From", "To", "Value", "Status"], rows, "no transactions")}
    <nav class="pager">${paged ? html`<a href="${base}" data-pager="newest">⇤ newest</a>` : html`<span class="muted">⇤ newest</span>`}
    ${paged && !history.firstPage && first ? html`<a href="${base}?after=${num(first.blockNumber)}" data-pager="newer">← newer</a>` : html`<span class="muted">← newer</span>`}
    <span data-field="page">${paged ? `blocks ${last ? num(last.blockNumber) : "—"}–${first ? num(first.blockNumber) : "—"}` : "latest"}</span>
    ${!history.lastPage && last ? html`<a href="${base}?before=${num(last.blockNumber)}" data-pager="older">older →</a>` : html`<span class="muted">older →</span>`}</nav>`;
}
