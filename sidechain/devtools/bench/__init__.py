"""`scripts/bench`: finalized TPS and submit-to-final latency of the sidechain, beside anvil on the same load.

- loadgen: fresh sender keys, the genesis that funds them, EIP-1559 transactions pre-signed with coincurve
  (ETH transfers, or ERC-20 transfer() calls).
- erc20: the ERC-20 workload's contract (Erc20Bench.sol, compiled by solc.mjs) and its untimed setup.
- targets: the systems under test as OS processes (sidechain nodes, anvil), their CPU time, their cleanup.
- measure: the HTTP submitter (its own process) and the block watcher, and the statistics.
- evm: `scripts/bench-evm`, the block executor alone (Mgas/s), no network and no consensus.
"""
