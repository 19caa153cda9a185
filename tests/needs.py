"""Tests that need a part of the machine a laptop may lack (Chromium, network namespaces): skipped
there, but failed under CI (`.ci/run` exports CI=true), which must run them."""

from __future__ import annotations

import os

import pytest


def require(missing: str | None, what: str) -> None:
    """Skip (or, under CI, fail) the test when `missing` names what the machine lacks."""
    if not missing:
        return
    if os.environ.get("CI"):
        pytest.fail(f"CI must run {what}: {missing}")
    pytest.skip(missing)
