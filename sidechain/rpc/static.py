"""The block explorer's files, served by every node at /explorer/ on its RPC port.

The explorer is static (sidechain/explorer/static, shipped as package data: no CDN, no build step at
run time) and reads the chain only through the node's public JSON-RPC, so any node serves it and
`?rpc=URL` points it at another. `GET /explorer` redirects to `/explorer/` (relative links
resolve under it), `/explorer/` is index.html, other paths are files below the folder; a path that
leaves the folder, or names nothing, is 404.
"""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

EXPLORER_PATH = "/explorer/"
STATIC_ROOT = Path(__file__).resolve().parent.parent / "explorer" / "static"

CONTENT_TYPES = {
    ".html": "text/html", ".js": "text/javascript", ".mjs": "text/javascript", ".css": "text/css",
    ".svg": "image/svg+xml", ".png": "image/png", ".json": "application/json", ".ico": "image/x-icon",
    ".txt": "text/plain", ".map": "application/json", ".woff2": "font/woff2",
}
_TEXT = frozenset(("text/html", "text/javascript", "text/css", "image/svg+xml", "application/json", "text/plain"))


def resolve(root: Path, relative: str) -> Path | None:
    """The file `relative` names below `root` (index.html for a folder), or None if it names
    nothing there or escapes it (`..`, an absolute path, a symlink out)."""
    if "\x00" in relative or "\\" in relative:
        return None
    base = root.resolve()
    try:
        target = (base / relative.lstrip("/")).resolve()
    except (OSError, RuntimeError):
        return None
    if not target.is_relative_to(base):
        return None
    if target.is_dir():
        target = target / "index.html"
    return target if target.is_file() else None


class ExplorerFiles:
    """The aiohttp handlers over one folder (the package's, unless a test gives another)."""

    def __init__(self, root: Path = STATIC_ROOT) -> None:
        self.root = root

    def add_to(self, app: web.Application) -> None:
        app.router.add_get(EXPLORER_PATH.rstrip("/"), self._redirect)
        app.router.add_get(EXPLORER_PATH + "{path:.*}", self._serve)

    async def _redirect(self, request: web.Request) -> web.StreamResponse:
        query = request.query_string
        raise web.HTTPMovedPermanently(EXPLORER_PATH + ("?" + query if query else ""))

    async def _serve(self, request: web.Request) -> web.StreamResponse:
        found = resolve(self.root, request.match_info["path"])
        if found is None:
            return web.Response(status=404, text=f"not found: {request.path}")
        content_type = CONTENT_TYPES.get(found.suffix.lower(), "application/octet-stream")
        return web.Response(
            body=found.read_bytes(), content_type=content_type, charset="utf-8" if content_type in _TEXT else None,
            # the files change with the node's version: revalidate rather than serve a stale explorer
            headers={"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"},
        )
