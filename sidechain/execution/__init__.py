"""Execution: a block's transactions run against a parent state (the EVM, revm, for contracts and
transfers; Python for the built-in system contracts), and the block executor that builds, checks
and seals blocks from it. Nothing outside this package knows revm exists."""
