"""How a benchmark prints its result: one JSON document on stdout (lists of numbers on one line each,
so per-block figures stay readable), and the same text in `--json-out FILE` when given."""

from __future__ import annotations

import json
import re
from pathlib import Path


def emit(result: dict, json_out: Path | None = None) -> str:
    text = re.sub(r"\[\s+([-\d.,\s]+?)\s+\]", lambda m: "[" + " ".join(m.group(1).split()) + "]", json.dumps(result, indent=2))
    print(text)
    if json_out:
        json_out.write_text(text + "\n")
    return text
