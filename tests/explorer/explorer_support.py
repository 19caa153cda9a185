"""The browser side of the explorer tests: headless Chromium driven by `driver.mjs` (playwright-core)
over JSON lines, and the helpers to read the pages it shows. A module of its own, not conftest, so
test modules can import it by a name no other test folder uses."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from sidechain.devtools.jsonlines import JsonLinesProcess

REPO = Path(__file__).resolve().parents[2]
DRIVER = Path(__file__).with_name("driver.mjs")
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
SCREENSHOTS = Path(os.environ.get("EXPLORER_SCREENSHOTS") or Path(__file__).with_name("screenshots"))
DESKTOP = (1280, 800)
PHONE = (375, 812)


class BrowserError(AssertionError):
    """The driver could not do what a step asked (a timeout names what the page showed instead)."""


def missing_browser() -> str | None:
    """Why the browser tests cannot run here, or None."""
    if not Path(CHROMIUM).exists():
        return f"{CHROMIUM} is missing (scripts/bootstrap installs Debian's chromium as root)"
    if shutil.which("node") is None:
        return "node is missing"
    if not (REPO / "node_modules" / "playwright-core").is_dir():
        return "node_modules/playwright-core is missing (scripts/bootstrap runs npm ci)"
    return None


class Browser:
    """One headless Chromium with one page, for a whole test module."""

    def __init__(self) -> None:
        self.driver = JsonLinesProcess(["node", str(DRIVER)], REPO, BrowserError)

    def do(self, op: str, **args):
        return self.driver.call(op, **args)

    def goto(self, url: str) -> None:
        self.do("goto", url=url)

    def wait_for(self, selector: str, text: str | None = None, timeout: float = 15) -> str:
        args = {"selector": selector, "timeout": int(timeout * 1000)}
        if text is not None:
            args["text"] = text
        return self.do("waitFor", **args)

    def text(self, selector: str) -> str:
        return self.do("text", selector=selector)

    def texts(self, selector: str) -> list[str]:
        return self.do("texts", selector=selector)

    def watch(self, selector: str, until: str, timeout: float = 60) -> list[str]:
        return self.do("watch", selector=selector, until=until, timeout=int(timeout * 1000))

    def search(self, query: str) -> None:
        self.do("search", query=query)

    def loaded(self, timeout: float = 20) -> None:
        """Wait until the router finished rendering the current page."""
        self.wait_for("#view[aria-busy=false]", timeout=timeout)

    def screenshot(self, name: str) -> list[Path]:
        """Full-page screenshots of the current page at desktop and phone widths."""
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        paths = []
        for label, (width, height) in (("desktop", DESKTOP), ("phone", PHONE)):
            self.do("viewport", width=width, height=height)
            path = SCREENSHOTS / f"{name}-{label}.png"
            self.do("screenshot", path=str(path))
            paths.append(path)
        self.do("viewport", width=DESKTOP[0], height=DESKTOP[1])
        return paths

    def errors(self) -> list[str]:
        return self.do("errors")

    def close(self) -> None:
        self.driver.close()



def units(value: int, decimals: int = 18) -> str:
    """An amount as the explorer prints it (format.js `units`): thousands separated, trailing zeros trimmed."""
    whole, frac = divmod(value, 10**decimals)
    digits = str(frac).rjust(decimals, "0").rstrip("0")
    return f"{whole:,}" + (f".{digits}" if digits else "")
