"""The benchmarks compile their contracts from the checkout (solcjs, OpenZeppelin from the
repository's node_modules): a move of the tooling that loses the way to either fails here, not
in the middle of `scripts/bench --workload erc20` or `scripts/bench-evm`."""

from __future__ import annotations

from sidechain.devtools.bench.erc20 import compile_contracts, creation_code


def test_the_bench_contracts_compile_with_their_openzeppelin_imports():
    compiled = compile_contracts()
    assert compiled["settings"]["evmVersion"] == "cancun"
    names = {name for name, value in compiled.items() if isinstance(value, dict) and "bytecode" in value}
    assert names, f"no contracts compiled: {sorted(compiled)}"
    for name in names:
        assert len(compiled[name]["deployedBytecode"]) > 100, f"{name} has no runtime code"
        assert creation_code(name).startswith(bytes.fromhex(compiled[name]["bytecode"][2:]))
