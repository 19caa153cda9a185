"""`scripts/bench`: finalized TPS and submit-to-final latency of the sidechain, beside anvil on the same load.

- loadgen: fresh sender keys, the genesis that funds them, EIP-1559 transfers pre-signed with coincurve.
- targets: the systems under test as OS processes (sidechain nodes, anvil), their CPU time, their cleanup.
- measure: the HTTP submitter (its own process) and the block watcher, and the statistics.
"""
