// Drives headless Chromium (Debian's, through playwright-core) for the explorer's browser tests.
// Reads one JSON command per line on stdin and answers one JSON line on stdout:
//   {"op": "goto", "url": "..."}                          load a page
//   {"op": "viewport", "width": 375, "height": 812}
//   {"op": "waitFor", "selector": "...", "text": "...", "timeout": ms}  until an element shows the text (or just exists)
//   {"op": "text", "selector": "..."}                     the element's innerText ("" when absent)
//   {"op": "texts", "selector": "..."}                    every matching element's innerText
//   {"op": "watch", "selector": "...", "until": "...", "timeout": ms}  distinct texts seen until one equals `until`
//   {"op": "search", "query": "..."}                      type into the search box and submit
//   {"op": "click", "selector": "..."}
//   {"op": "screenshot", "path": "...", "fullPage": true}
//   {"op": "eval", "expression": "..."}
//   {"op": "errors"}                                      page errors and console errors so far
// Answers {"ok": true, "value": ...} or {"ok": false, "error": "..."}.

import { createInterface } from "node:readline";
import { openPage } from "../../sidechain/devtools/chromium.mjs";

const { browser, page, errors } = await openPage();

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const textOf = async (selector) => page.evaluate((s) => { const el = document.querySelector(s); return el ? el.innerText.trim() : ""; }, selector);

const ops = {
  async goto({ url }) { await page.goto(url, { waitUntil: "load" }); return page.url(); },
  async viewport({ width, height }) { await page.setViewportSize({ width, height }); return true; },
  async waitFor({ selector, text, timeout = 15000 }) {
    const deadline = Date.now() + timeout;
    let last = "";
    while (Date.now() < deadline) {
      last = await textOf(selector).catch(() => "");
      const present = await page.$(selector).catch(() => null);
      if (present && (text === undefined || last.includes(text))) return last;
      await sleep(100);
    }
    throw new Error(`timed out after ${timeout} ms waiting for ${selector}${text === undefined ? "" : ` to show ${JSON.stringify(text)}`}; it shows ${JSON.stringify(last)}`);
  },
  async text({ selector }) { return textOf(selector); },
  async texts({ selector }) { return page.$$eval(selector, (els) => els.map((e) => e.innerText.trim())); },
  async watch({ selector, until, timeout = 60000 }) {
    const deadline = Date.now() + timeout;
    const seen = [];
    while (Date.now() < deadline) {
      const t = await textOf(selector).catch(() => "");
      if (t && seen[seen.length - 1] !== t) seen.push(t);
      if (t === until) return seen;
      await sleep(50);
    }
    throw new Error(`timed out after ${timeout} ms waiting for ${selector} to read ${JSON.stringify(until)}; it read ${JSON.stringify(seen)}`);
  },
  async search({ query }) {
    await page.fill("#search-input", query);
    await page.press("#search-input", "Enter");
    return true;
  },
  async click({ selector }) { await page.click(selector); return true; },
  async screenshot({ path, fullPage = true }) { await page.screenshot({ path, fullPage }); return path; },
  async eval({ expression }) { return page.evaluate(expression); },
  async errors() { return errors.splice(0); },
};

const lines = createInterface({ input: process.stdin });
for await (const line of lines) {
  if (!line.trim()) continue;
  let answer;
  try {
    const command = JSON.parse(line);
    const op = ops[command.op];
    if (!op) throw new Error(`unknown op ${command.op}`);
    answer = { ok: true, value: await op(command) };
  } catch (e) {
    answer = { ok: false, error: String(e && e.message ? e.message : e) };
  }
  process.stdout.write(JSON.stringify(answer) + "\n");
}
await browser.close();
