// scripts/bench-explorer's browser: Debian's headless Chromium through playwright-core, one JSON
// command per line on stdin, one JSON answer per line on stdout.
//   {"op": "load", "url": "...", "page": "block", "rpc": "http://127.0.0.1:PORT", "timeout": ms}
// loads `url` afresh (from about:blank) and answers once the router shows page `page` rendered
// (#view[aria-busy=false] with data-page set to it): the milliseconds from the navigation's start,
// and what the page asked of the node until then: HTTP POSTs to `rpc` (requests), the JSON-RPC calls
// in them (a batch counts each call), request and response body bytes, calls per method, and the
// static files fetched. A load lost to Chromium's net::ERR_NETWORK_CHANGED is made again.

import { createInterface } from "node:readline";
import { openPage } from "../chromium.mjs";

const { browser, page, errors } = await openPage();

let tally = null;
page.on("request", (request) => {
  if (!tally) return;
  const t = tally;
  if (request.method() === "POST" && request.url().replace(/\/+$/, "") === t.rpc) {
    const body = request.postData() || "";
    let calls = [];
    try { const parsed = JSON.parse(body); calls = Array.isArray(parsed) ? parsed : [parsed]; } catch { /* counted, not parsed */ }
    t.requests += 1;
    t.open.set(request, calls.map((c) => c.method).join(","));
    t.calls += calls.length;
    t.bytesOut += Buffer.byteLength(body);
    for (const c of calls) t.methods[c.method] = (t.methods[c.method] || 0) + 1;
  } else if (request.url().startsWith("http")) {
    t.staticFiles += 1;
    t.open.set(request, request.url());
  }
});
const NETWORK_CHANGED = "net::ERR_NETWORK_CHANGED";
page.on("requestfinished", (request) => { if (tally) tally.open.delete(request); });
page.on("requestfailed", (request) => {
  if (!tally) return;
  tally.open.delete(request);
  // Chromium drops every request in flight when the machine's network interfaces change (other
  // processes here make and remove them); such a load measures nothing and is made again.
  if ((request.failure() || {}).errorText === NETWORK_CHANGED) tally.spoiled();
});

async function attempt(url, name, rpc, timeout) {
  await page.goto("about:blank");
  errors.splice(0);
  let spoiled;
  const spoiledNow = new Promise((_, reject) => { spoiled = () => reject(new Error(NETWORK_CHANGED)); });
  spoiledNow.catch(() => {});
  tally = { rpc: rpc.replace(/\/+$/, ""), requests: 0, calls: 0, bytesOut: 0, bytesIn: 0, methods: {}, staticFiles: 0,
    open: new Map(), spoiled };
  const t = tally;
  const started = performance.now();
  try {
    await Promise.race([spoiledNow, (async () => {
      await page.goto(url, { waitUntil: "commit", timeout });
      await page.waitForFunction((want) => {
        const v = document.getElementById("view");
        return v && v.dataset.page === want && v.getAttribute("aria-busy") === "false";
      }, name, { polling: 5, timeout });
    })()]);
  } catch (e) {
    tally = null;
    if (e.message === NETWORK_CHANGED || errors.some((x) => x.includes(NETWORK_CHANGED))) return null;
    const shown = await page.evaluate(() => { const v = document.getElementById("view"); return v ? `${v.dataset.page} busy=${v.getAttribute("aria-busy")}: ${v.innerText.slice(0, 200)}` : "no #view"; }).catch(() => "?");
    const open = [...t.open.values()].map((m) => `[${m}]`).join(" ");
    throw new Error(`${e.message.split("\n")[0]}; the page shows ${JSON.stringify(shown)}; requests unanswered: ${open || "none"}; errors: ${JSON.stringify(errors)}`);
  }
  const ms = performance.now() - started;
  tally = null;
  // Response bytes from the page's own Resource Timing entries of its fetches to the node (each is
  // complete once the router marks the page rendered).
  const fetched = await page.evaluate((rpc) => performance.getEntriesByType("resource")
    .filter((e) => e.initiatorType === "fetch" && e.name.replace(/\/+$/, "") === rpc)
    .map((e) => e.encodedBodySize), t.rpc);
  t.bytesIn = fetched.reduce((a, b) => a + b, 0);
  const message = await page.evaluate(() => { const m = document.querySelector("#view [data-message]"); return m ? m.innerText.trim() : null; });
  return { ms: Math.round(ms * 10) / 10, requests: t.requests, calls: t.calls, bytesOut: t.bytesOut, bytesIn: t.bytesIn,
    methods: t.methods, fetches: fetched.length, staticFiles: t.staticFiles, message, errors: errors.splice(0) };
}

async function load({ url, page: name, rpc, timeout = 60000, attempts = 5 }) {
  for (let n = 1; n <= attempts; n++) {
    const result = await attempt(url, name, rpc, timeout);
    if (result) return { ...result, networkChangedRetries: n - 1 };
  }
  throw new Error(`${url}: ${attempts} loads in a row lost to ${NETWORK_CHANGED}`);
}

const ops = { load };
for await (const line of createInterface({ input: process.stdin })) {
  if (!line.trim()) continue;
  let answer;
  try {
    const command = JSON.parse(line);
    if (!ops[command.op]) throw new Error(`unknown op ${command.op}`);
    answer = { ok: true, value: await ops[command.op](command) };
  } catch (e) {
    answer = { ok: false, error: String(e && e.message ? e.message : e) };
  }
  process.stdout.write(JSON.stringify(answer) + "\n");
}
await browser.close();
