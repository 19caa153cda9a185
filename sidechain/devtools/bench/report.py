"""How a benchmark runs and prints its result: the frame every benchmark's `main` shares (a work
directory, SIGTERM or Ctrl-C turned into a clean stop, an error reported on stderr), then one JSON
document on stdout (lists of numbers on one line each, so per-block figures stay readable), and the
same text in `--json-out FILE` when given."""

from __future__ import annotations

import json
import re
import shutil
import signal
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path


def _note(message: str) -> None:
    print(f"bench: {message}", file=sys.stderr, flush=True)


def run_benchmark(name: str, run: Callable[[Path], dict], *, keep: bool = False, json_out: Path | None = None,
                  on_error: Callable[[Path], None] = lambda work: None, cleanup: Callable[[], None] = lambda: None) -> int:
    """`run(work)` in a fresh work directory, then its result emitted; the exit status. An error is
    reported with what `on_error(work)` adds (logs), exit 1; Ctrl-C exits 130 and SIGTERM 143, both
    after `cleanup()` (stop what was started) and the work directory removed unless `keep`."""
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))  # the finally below still runs
    work = Path(tempfile.mkdtemp(prefix=f"sidechain-{name}-"))
    try:
        result = run(work)
    except KeyboardInterrupt:
        _note("interrupted; cleaning up")
        return 130
    except Exception as exc:
        _note(f"error: {type(exc).__name__}: {exc}")
        on_error(work)
        return 1
    finally:
        cleanup()
        if keep:
            _note(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    emit(result, json_out)
    return 0


def emit(result: dict, json_out: Path | None = None) -> str:
    text = re.sub(r"\[\s+([-\d.,\s]+?)\s+\]", lambda m: "[" + " ".join(m.group(1).split()) + "]", json.dumps(result, indent=2))
    print(text)
    if json_out:
        json_out.write_text(text + "\n")
    return text
