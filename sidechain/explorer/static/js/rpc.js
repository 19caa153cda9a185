// JSON-RPC over HTTP (single calls and batches) and newHeads over WebSocket. The node is the
// page's origin unless `?rpc=URL` names another.

export class RpcError extends Error {
  constructor(message, code, data) { super(message); this.code = code; this.data = data; }
}

export class Rpc {
  constructor(url) { this.url = url.replace(/\/+$/, ""); this.nextId = 1; }

  async post(body) {
    let response;
    try {
      response = await fetch(this.url, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
    } catch (e) {
      throw new RpcError(`cannot reach the node at ${this.url}`, -1);
    }
    if (!response.ok) throw new RpcError(`the node at ${this.url} answered HTTP ${response.status}`, response.status);
    return response.json();
  }

  async call(method, params = []) {
    const answer = await this.post({ jsonrpc: "2.0", id: this.nextId++, method, params });
    if (answer.error) throw new RpcError(answer.error.message, answer.error.code, answer.error.data);
    return answer.result;
  }

  /** Calls in one batch (at most `chunk` per request); results in order, errors as RpcError values. */
  async batch(calls, chunk = 100) {
    const results = [];
    for (let i = 0; i < calls.length; i += chunk) {
      const part = calls.slice(i, i + chunk).map(([method, params], n) => ({ jsonrpc: "2.0", id: n, method, params: params || [] }));
      if (part.length === 0) continue;
      const answers = await this.post(part);
      const byId = new Map((Array.isArray(answers) ? answers : [answers]).map((a) => [a.id, a]));
      for (let n = 0; n < part.length; n++) {
        const a = byId.get(n);
        results.push(!a ? new RpcError("no answer", -1) : a.error ? new RpcError(a.error.message, a.error.code, a.error.data) : a.result);
      }
    }
    return results;
  }

  get wsUrl() { return this.url.replace(/^http/, "ws"); }

  /** Calls onHead(header) for each newHeads notification until the returned function is called. */
  subscribeHeads(onHead, onState = () => {}) {
    let socket, closed = false, retry;
    const open = () => {
      try { socket = new WebSocket(this.wsUrl); } catch { onState("offline"); return; }
      socket.onopen = () => { onState("live"); socket.send(JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_subscribe", params: ["newHeads"] })); };
      socket.onmessage = (event) => {
        const msg = JSON.parse(event.data);
        if (msg.method === "eth_subscription" && msg.params && msg.params.result) onHead(msg.params.result);
      };
      socket.onclose = () => { onState("offline"); if (!closed) retry = setTimeout(open, 2000); };
    };
    open();
    return () => { closed = true; clearTimeout(retry); if (socket) socket.close(); };
  }
}

/** The node to read from: `?rpc=` or the page's own origin. */
export function nodeUrl() {
  const given = new URLSearchParams(location.search).get("rpc");
  return given || location.origin;
}
