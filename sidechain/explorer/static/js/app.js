// The explorer's entry point: the layout, the hash router and the search box. Every error a page
// throws is caught here and shown as a plain message.

import { Rpc, nodeUrl } from "./rpc.js";
import { html, escapeHtml } from "./format.js";
import { Context, NotFound, Invalid } from "./context.js";
import { resolveSearch } from "./search.js";
import * as home from "./pages/home.js";
import * as block from "./pages/block.js";
import * as tx from "./pages/tx.js";
import * as address from "./pages/address.js";
import * as validators from "./pages/validators.js";
import * as checkpoints from "./pages/checkpoints.js";
import * as bridge from "./pages/bridge.js";

const ROUTES = [
  [/^$/, home.render, "home"],
  [/^blocks$/, home.renderBlocks, "blocks"],
  [/^block\/([^/]+)$/, block.render, "block"],
  [/^tx\/([^/]+)$/, tx.render, "tx"],
  [/^address\/([^/]+)$/, address.render, "address"],
  [/^validators$/, validators.render, "validators"],
  [/^checkpoints$/, checkpoints.render, "checkpoints"],
  [/^bridge$/, bridge.render, "bridge"],
  [/^deposit\/([^/]+)$/, bridge.renderDeposit, "deposit"],
  [/^withdrawal\/([^/]+)$/, bridge.renderWithdrawal, "withdrawal"],
  [/^search(?:\/(.*))?$/, renderSearch, "search"],
];

const ctx = new Context(new Rpc(nodeUrl()));
let generation = 0;
let cleanup = null;

async function renderSearch(view, [query]) {
  const target = await resolveSearch(ctx, decoded(query || "", decodeURIComponent));
  location.replace(target);
}

const decoded = (s, decode) => { try { return decode(s); } catch { return s; } };

function parseHash() {
  const hash = decoded(location.hash.replace(/^#\/?/, ""), decodeURI);
  const [path, qs] = hash.split("?");
  return { path: path.replace(/\/+$/, ""), query: new URLSearchParams(qs || "") };
}

async function route() {
  const mine = ++generation;
  if (cleanup) { try { cleanup(); } catch { /* a page's cleanup never blocks the next page */ } cleanup = null; }
  const view = document.getElementById("view");
  const { path, query } = parseHash();
  const found = ROUTES.map(([re, fn, name]) => [path.match(re), fn, name]).find(([m]) => m);
  document.querySelectorAll("header nav a").forEach((a) => a.classList.toggle("active", a.dataset.route === (found && found[2])));
  view.dataset.page = found ? found[2] : "unknown";
  view.setAttribute("aria-busy", "true");
  view.innerHTML = `<p class="muted loading">loading…</p>`;
  const stillCurrent = () => mine === generation;
  try {
    if (!found) throw new NotFound(`Page not found: "${path}"`);
    const [match, render] = found;
    const result = await render(view, match.slice(1), query, ctx, stillCurrent);
    if (stillCurrent()) cleanup = typeof result === "function" ? result : null;
    else if (typeof result === "function") result();
  } catch (error) {
    if (!stillCurrent()) return;
    view.innerHTML = String(messageFor(error));
    if (!(error instanceof NotFound || error instanceof Invalid)) console.error(error);
  } finally {
    if (stillCurrent()) view.setAttribute("aria-busy", "false");
  }
}

function messageFor(error) {
  if (error instanceof NotFound) return html`<div class="message notfound" data-message="notfound"><h2>Not found</h2><p>${error.message}</p></div>`;
  if (error instanceof Invalid) return html`<div class="message invalid" data-message="invalid"><h2>Not valid</h2><p>${error.message}</p></div>`;
  return html`<div class="message error" data-message="error"><h2>Something went wrong</h2><p>${error && error.message ? error.message : String(error)}</p></div>`;
}

function layout() {
  const rpcParam = new URLSearchParams(location.search).get("rpc");
  document.body.innerHTML = String(html`
  <header>
    <a class="brand" href="#/">Sidechain explorer</a>
    <nav>
      <a href="#/" data-route="home">Home</a>
      <a href="#/validators" data-route="validators">Validators</a>
      <a href="#/checkpoints" data-route="checkpoints">Checkpoints</a>
      <a href="#/bridge" data-route="bridge">Bridge</a>
    </nav>
    <form id="search" role="search">
      <input id="search-input" name="q" autocomplete="off" spellcheck="false"
             placeholder="block, tx hash, address, deposit N, withdrawal N" aria-label="search">
      <button type="submit">Search</button>
    </form>
  </header>
  <main id="view" aria-live="polite"></main>
  <footer class="muted">node <span class="mono" id="node-url">${ctx.rpc.url}</span>${rpcParam ? "" : " (this page's origin)"}</footer>`);
  document.getElementById("search").addEventListener("submit", (event) => {
    event.preventDefault();
    const q = document.getElementById("search-input").value.trim();
    const target = `#/search/${encodeURIComponent(q)}`;
    if (location.hash === target) route(); else location.hash = target;
  });
}

window.addEventListener("error", (e) => { const v = document.getElementById("view"); if (v && !v.innerHTML) v.innerHTML = escapeHtml(e.message); });
window.addEventListener("hashchange", route);
layout();
route();
