"""Execution: a block's transactions run against a parent state by the EVM (revm), and the block
executor that builds, checks and seals blocks from it. Nothing outside this package knows revm exists."""
