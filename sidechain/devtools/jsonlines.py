"""A helper process spoken to in JSON lines: the headless-Chromium drivers of the explorer's tests
and its benchmark (node scripts over playwright-core) both answer this way.

One request per line in, `{"op": ..., **args}`; one answer per line out, `{"ok": true, "value": ...}`
or `{"ok": false, "error": "..."}`. The process runs in a session of its own, so closing it takes
the browser it started along.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
from pathlib import Path


class JsonLinesProcess:
    """`command` started in `cwd`; a failed step raises `error` (the caller's exception class)."""

    def __init__(self, command: list[str], cwd: Path, error: type[Exception] = RuntimeError) -> None:
        self.error = error
        self.process = subprocess.Popen(command, cwd=cwd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        stderr=subprocess.PIPE, text=True, bufsize=1, start_new_session=True)

    def call(self, op: str, **args):
        """Send one request and return its answer's value; raises `error` naming the step."""
        self.process.stdin.write(json.dumps({"op": op, **args}) + "\n")
        self.process.stdin.flush()
        line = self.process.stdout.readline()
        if not line:
            raise self.error(f"the driver exited: {self.process.stderr.read()[-2000:]}")
        answer = json.loads(line)
        if not answer["ok"]:
            raise self.error(f"{op} {args}: {answer['error']}")
        return answer["value"]

    def close(self, timeout: float = 10.0) -> None:
        """End of input lets the driver close its browser; its whole group is killed if it does not."""
        if self.process.poll() is not None:
            return
        try:
            self.process.stdin.close()
            self.process.wait(timeout=timeout)
        except (OSError, subprocess.TimeoutExpired):
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.process.wait(timeout=timeout)
