// A hand-written inline SVG chart: bars of transactions per block, a line of gas used.

import { html, raw } from "./format.js";

/** `blocks`: [{number, txs, gasUsed}] oldest first. */
export function activityChart(blocks, width = 800, height = 160) {
  if (blocks.length === 0) return html`<p class="muted">no blocks yet</p>`;
  const maxTx = Math.max(1, ...blocks.map((b) => b.txs));
  const maxGas = Math.max(1, ...blocks.map((b) => b.gasUsed));
  const step = width / blocks.length;
  const bars = blocks.map((b, i) => {
    const h = (b.txs / maxTx) * (height - 20);
    return `<rect x="${(i * step).toFixed(2)}" y="${(height - h).toFixed(2)}" width="${Math.max(0.5, step - 0.5).toFixed(2)}" height="${h.toFixed(2)}" class="bar"><title>block ${b.number}: ${b.txs} tx</title></rect>`;
  }).join("");
  const line = blocks.map((b, i) => `${(i * step + step / 2).toFixed(2)},${(height - (b.gasUsed / maxGas) * (height - 20)).toFixed(2)}`).join(" ");
  return html`<figure class="chart"><svg viewBox="0 0 ${width} ${height}" preserveAspectRatio="none" role="img" aria-label="transactions and gas per block" data-chart-blocks="${blocks.length}">
    ${raw(bars)}<polyline points="${line}" class="gas"/></svg>
    <figcaption><span class="key bar"></span> transactions per block (max ${maxTx}) <span class="key gas"></span> gas used (max ${maxGas.toLocaleString("en-US")})
    — blocks ${blocks[0].number}–${blocks[blocks.length - 1].number}</figcaption></figure>`;
}
