"""The project's compiled core (the crate beside this file, built by scripts/bootstrap into `_revm`):
revm behind our own PyO3 binding, and the state's Merkle-Patricia trie. Two modules import it:
`sidechain.execution.evm` (the EVM) and `sidechain.chain.trie` (the trie)."""
