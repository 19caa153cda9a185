"""Puts tests/ itself on sys.path, so a helper every folder shares (waiting.py, needs.py) imports by its bare
name, as each folder's own *_support modules do."""

from __future__ import annotations

import sys
from pathlib import Path

_TESTS = str(Path(__file__).resolve().parent)
if _TESTS not in sys.path:
    sys.path.insert(0, _TESTS)
