"""The EVM extension: revm behind the project's own PyO3 binding (the crate beside this file, built
by scripts/bootstrap into `_revm`). Only `sidechain.execution.evm` imports it."""
