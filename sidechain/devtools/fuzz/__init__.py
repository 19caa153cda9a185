"""Fuzzing of every decoder a peer or an RPC client reaches (issue 10 item 9). Tooling only.

Nothing in the product imports this package: it sits on top, like `sidechain.devtools.bench`, and needs the
`fuzz` extra (hypothesis). `scripts/fuzz --help` for the command; `targets.py` names, per target,
the exceptions that input may raise (the documented error tree); anything else, or an input that
runs past the per-input time bound, is a finding, saved under `tests/fuzz/corpus/<target>/`.
"""
