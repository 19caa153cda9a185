"""Tooling on top of the product: the devnet, benchmarks, fuzzing, and the local L1 (anvil) they run.

Nothing in sidechain/ or bridge/ outside this package imports it (tests/test_layers.py holds that).
"""
