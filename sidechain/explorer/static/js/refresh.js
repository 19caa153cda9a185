// A page that redraws itself: `draw` again every `ms` until `isDone()`, never two at once; a
// failed redraw keeps the last view and the next tick tries again. Returns the router's cleanup.

export function refreshEvery(ms, draw, isDone = () => false) {
  if (isDone()) return undefined;
  let busy = false;
  const timer = setInterval(async () => {
    if (busy || isDone()) return;
    busy = true;
    try { await draw(); } catch { /* the next tick tries again; the last view stays */ } finally { busy = false; }
  }, ms);
  return () => clearInterval(timer);
}
