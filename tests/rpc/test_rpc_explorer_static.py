"""The explorer's files on the RPC port: /explorer redirects to /explorer/, which is index.html;
other files by relative path with their content types; a path out of the folder or to nothing is
404; the node's own RpcServer serves the package's folder beside JSON-RPC."""

from __future__ import annotations

import aiohttp
from aiohttp import web
from aiohttp.test_utils import TestServer
from rpc_support import run, serving

from sidechain.rpc.static import STATIC_ROOT, ExplorerFiles, resolve

FILES = {
    "index.html": b"<!doctype html><title>explorer</title>",
    "js/app.js": b"export const x = 1;",
    "css/site.css": b"body { margin: 0 }",
    "img/logo.svg": b"<svg xmlns='http://www.w3.org/2000/svg'/>",
    "img/icon.png": b"\x89PNG\r\n\x1a\n",
    "abi/erc20.json": b"[]",
}


def make_root(tmp_path):
    root = tmp_path / "static"
    for name, content in FILES.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(content)
    (tmp_path / "secret.txt").write_text("outside")
    (root / "js" / "escape.js").symlink_to(tmp_path / "secret.txt")
    return root


def test_files_are_served_with_their_types_and_nothing_outside_the_folder(tmp_path):
    root = make_root(tmp_path)

    async def scenario():
        app = web.Application()
        ExplorerFiles(root).add_to(app)
        async with TestServer(app) as server, aiohttp.ClientSession() as session:
            async def get(path: str, **options):
                async with session.get(server.make_url("/").with_path(path, encoded=True), **options) as response:
                    return response.status, response.headers.get("Content-Type", ""), await response.read(), response

            status, kind, body, _ = await get("/explorer/")
            assert (status, body) == (200, FILES["index.html"]) and kind.startswith("text/html")
            status, _, _, response = await get("/explorer", allow_redirects=False)
            assert status == 301 and response.headers["Location"] == "/explorer/"
            status, _, _, response = await get("/explorer?rpc=http://127.0.0.1:9546", allow_redirects=False)
            assert response.headers["Location"] == "/explorer/?rpc=http://127.0.0.1:9546"
            for name, expected in (("js/app.js", "text/javascript"), ("css/site.css", "text/css"),
                                   ("img/logo.svg", "image/svg+xml"), ("img/icon.png", "image/png"),
                                   ("abi/erc20.json", "application/json")):
                status, kind, body, _ = await get("/explorer/" + name)
                assert (status, body, kind.split(";")[0]) == (200, FILES[name], expected), name
            for bad in ("/explorer/missing.js", "/explorer/%2e%2e/secret.txt", "/explorer/js/%2e%2e/%2e%2e/secret.txt",
                        "/explorer/js/escape.js", "/explorer/..%2fsecret.txt", "/explorer/%2Fetc%2Fpasswd", "/explorer/js"):
                status, _, body, _ = await get(bad)
                assert status == 404 and b"outside" not in body, bad

    run(scenario())


def test_resolve_refuses_what_leaves_the_folder(tmp_path):
    root = make_root(tmp_path)
    assert resolve(root, "") == (root / "index.html").resolve()
    assert resolve(root, "js/app.js") == (root / "js" / "app.js").resolve()
    for bad in ("../secret.txt", "/../secret.txt", "js/../../secret.txt", "js/escape.js", "a\x00b", "js\\..\\..\\secret.txt"):
        assert resolve(root, bad) is None, bad


def test_the_node_serves_the_package_folder_beside_json_rpc(devnet):
    shipped = sorted(p for p in STATIC_ROOT.rglob("*") if p.is_file())

    async def scenario():
        async with serving(devnet) as server, aiohttp.ClientSession() as session:
            async with session.get(server.url + "explorer", allow_redirects=False) as response:
                assert response.status == 301 and response.headers["Location"] == "/explorer/"
            async with session.get(server.url + "explorer/no-such-file.js") as response:
                assert response.status == 404
            for path in shipped[:5]:
                async with session.get(server.url + "explorer/" + path.relative_to(STATIC_ROOT).as_posix()) as response:
                    assert response.status == 200 and await response.read() == path.read_bytes()
                    assert response.headers["Access-Control-Allow-Origin"] == "*"
            async with session.post(server.url, json={"jsonrpc": "2.0", "id": 1, "method": "eth_chainId"}) as response:
                assert (await response.json())["result"] == hex(devnet.chain.genesis.chain_id)

    run(scenario())
