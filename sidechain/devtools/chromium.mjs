// Headless Chromium as the explorer's browser tests (tests/explorer/driver.mjs) and its benchmark
// (bench/explorer_driver.mjs) run it: Debian's binary (CHROMIUM overrides the path) through
// playwright-core with the flags issue 12 names (no sandbox, GPU, background networking, component
// updates or sync: nothing leaves the machine), one desktop-sized page that records its errors.

import { chromium } from "playwright-core";

export const CHROMIUM_ARGS = [
  "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync",
];

export async function openPage({ width = 1280, height = 800 } = {}) {
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM || "/usr/bin/chromium", headless: true, args: CHROMIUM_ARGS });
  const context = await browser.newContext({ viewport: { width, height } });
  const page = await context.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(`pageerror: ${e.message}`));
  page.on("console", (m) => { if (m.type() === "error") errors.push(`console: ${m.text()}`); });
  return { browser, page, errors };
}
