// Formatting and DOM helpers shared by the pages.

export const big = (hex) => (hex === null || hex === undefined ? 0n : BigInt(hex));
export const num = (hex) => Number(big(hex));

export function escapeHtml(value) {
  return String(value).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
}

/** A tagged template that escapes interpolations unless they are already `raw()`. */
export function html(strings, ...values) {
  let out = strings[0];
  values.forEach((v, i) => { out += render(v) + strings[i + 1]; });
  return raw(out);
}
class Raw { constructor(s) { this.s = s; } toString() { return this.s; } }
export const raw = (s) => new Raw(s);
const render = (v) => (v instanceof Raw ? v.s : Array.isArray(v) ? v.map(render).join("") : v === null || v === undefined ? "" : escapeHtml(v));

/** An amount of `decimals` as a decimal string, trailing zeros trimmed. */
export function units(value, decimals = 18) {
  const v = BigInt(value);
  const neg = v < 0n;
  const abs = neg ? -v : v;
  const base = 10n ** BigInt(decimals);
  const whole = abs / base;
  let frac = (abs % base).toString().padStart(decimals, "0").replace(/0+$/, "");
  return (neg ? "-" : "") + whole.toLocaleString("en-US") + (frac ? "." + frac : "");
}
export const eth = (wei) => `${units(wei)} ETH`;
export const gwei = (wei) => `${units(wei, 9)} gwei`;

export const short = (hex, n = 8) => (hex && hex.length > 2 * n + 2 ? `${hex.slice(0, n + 2)}…${hex.slice(-n + 2)}` : hex || "");

export function ago(seconds) {
  const d = Math.max(0, Math.floor(Date.now() / 1000 - seconds));
  if (d < 60) return `${d}s ago`;
  if (d < 3600) return `${Math.floor(d / 60)}m ago`;
  if (d < 86400) return `${Math.floor(d / 3600)}h ago`;
  return `${Math.floor(d / 86400)}d ago`;
}
export const dateOf = (seconds) => new Date(seconds * 1000).toISOString().replace("T", " ").replace(".000Z", " UTC");

export const link = (hash, text) => html`<a href="${hash}">${text}</a>`;
export const blockLink = (n) => link(`#/block/${num(n)}`, num(n));
export const txLink = (h, full = false) => html`<a class="mono" href="#/tx/${h}">${full ? h : short(h)}</a>`;
export const addrLink = (a, full = false) => (a ? html`<a class="mono" href="#/address/${a.toLowerCase()}">${full ? a.toLowerCase() : short(a.toLowerCase(), 6)}</a>` : "—");

/** A definition list of [label, value, field] rows; `field` becomes data-field for the tests. */
export const fields = (rows) => html`<dl class="fields">${rows.filter(Boolean).map(([k, v, f]) => html`<dt>${k}</dt><dd${raw(f ? ` data-field="${f}"` : "")}>${v}</dd>`)}</dl>`;

/** A horizontally scrolling table. */
export const table = (headers, rows, empty = "nothing yet") =>
  html`<div class="table-wrap"><table><thead><tr>${headers.map((h) => html`<th>${h}</th>`)}</tr></thead><tbody>${
    rows.length ? rows.map((r) => html`<tr>${r.map((c) => html`<td>${c}</td>`)}</tr>`) : html`<tr><td colspan="${headers.length}" class="muted">${empty}</td></tr>`
  }</tbody></table></div>`;

/** Newer / older page links for a route taking `?page=` style hash parameters. */
export function pager(base, page, hasOlder, label = "page") {
  const sep = base.includes("?") ? "&" : "?";
  return html`<nav class="pager">${page > 0 ? html`<a href="${base}${sep}page=${page - 1}" data-pager="newer">← newer</a>` : html`<span class="muted">← newer</span>`}
    <span data-field="page">${label} ${page + 1}</span>
    ${hasOlder ? html`<a href="${base}${sep}page=${page + 1}" data-pager="older">older →</a>` : html`<span class="muted">older →</span>`}</nav>`;
}

export const badge = (text, kind = "") => html`<span class="badge ${kind}" data-badge="${text}">${text}</span>`;

export const isHex = (s, bytes) => new RegExp(`^0x[0-9a-fA-F]{${bytes * 2}}$`).test(s);
