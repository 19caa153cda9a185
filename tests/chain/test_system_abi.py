"""The system contracts' JSON ABIs are the compiled contracts' the chain runs, so a tool built from
them calls exactly what runs; the bridged-token ABI is a standard ERC-20's."""

from eth_utils import event_abi_to_log_topic, function_abi_to_4byte_selector

from sidechain.chain.system import system_contracts
from sidechain.chain.system.tokens import TRANSFER_TOPIC

STANDARD_ERC20 = {
    "name()": "0x06fdde03", "symbol()": "0x95d89b41", "decimals()": "0x313ce567", "totalSupply()": "0x18160ddd",
    "balanceOf(address)": "0x70a08231", "transfer(address,uint256)": "0xa9059cbb",
    "allowance(address,address)": "0xdd62ed3e", "approve(address,uint256)": "0x095ea7b3",
    "transferFrom(address,address,uint256)": "0x23b872dd",
}


def _selectors(abi: list[dict]) -> dict[str, str]:
    return {f"{f['name']}({','.join(i['type'] for i in f['inputs'])})": "0x" + function_abi_to_4byte_selector(f).hex()
            for f in abi if f["type"] == "function"}


def test_the_bridged_token_abi_is_erc20_and_its_events_have_the_standard_topics():
    abi = system_contracts()["bridgedToken"]["abi"]
    assert STANDARD_ERC20.items() <= _selectors(abi).items()
    assert TRANSFER_TOPIC.hex() == "ddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef"
    topics = {e["name"]: event_abi_to_log_topic(e).hex() for e in abi if e["type"] == "event"}
    assert topics == {"Transfer": TRANSFER_TOPIC.hex(),
                      "Approval": "8c5be1e5ebec7d5bd14f71427d1e84f3dd0314c0f7b2291e5b200ac8c7c3b925"}
    views = {f["name"] for f in abi if f["type"] == "function" and f["stateMutability"] == "view"}
    assert views == {"name", "symbol", "decimals", "totalSupply", "balanceOf", "allowance", "l1Token"}


def test_every_contract_has_an_address_and_its_abi_names_every_parameter():
    contracts = system_contracts()
    assert {name for name, c in contracts.items() if c["address"]} == {"bridge", "validatorSet", "checkpointSignatures"}
    for name, contract in contracts.items():
        for item in contract["abi"]:
            if item["type"] == "event" or item.get("inputs"):
                assert all(p["name"] for p in item["inputs"]), (name, item["name"])
    bridge = _selectors(contracts["bridge"]["abi"])
    assert "withdraw(address,uint256,address)" in bridge
    assert [f["stateMutability"] for f in contracts["bridge"]["abi"] if f.get("name") == "withdraw"] == ["payable"]
