"""Real contract tools deploy and use contracts on a 4-validator network: OpenZeppelin ERC-20 and
ERC-721 contracts compiled by the npm `solc`, deployed with ethers (`ContractFactory`), web3.py and
`cast send --create`; calls, events through `eth_getLogs` and `eth_subscribe("logs")`, and revert
reasons and custom errors decoded by ethers, web3.py and cast.

Each test talks to more than one validator (a transaction sent to one node, read or heard on
another), and each uses its own dev account, so none depends on another's nonces.
"""

from __future__ import annotations

import asyncio
import json
import subprocess

import pytest
import rlp
from eth_abi import decode as abi_decode
from eth_account import Account
from eth_utils import keccak, to_checksum_address
from web3 import AsyncWeb3, Web3, WebSocketProvider
from web3.exceptions import ContractCustomError, ContractLogicError

from contract_tools import CAST, CAST_WRAPPER, artifacts, artifacts_dir, cast, run_ethers
from e2e_support import CHAIN_ID, RunningNetwork
from safety import check_safety
from sidechain.devkeys import anvil_private_key

GWEI = 10**9
TIMEOUT = 30
TRANSFER = "0x" + keccak(text="Transfer(address,address,uint256)").hex()
ZERO = "0x" + "00" * 20
KEYS = {name: "0x" + anvil_private_key(i).hex() for i, name in enumerate(
    ["ethers", "ethers-recipient", "web3-nft", "cast", "web3-reverts", "ethers-reverts"])}


class _Network(RunningNetwork):
    """RunningNetwork that kills the nodes it did start when one of them fails to come up."""

    def __init__(self, *args) -> None:
        try:
            super().__init__(*args)
        except BaseException:
            if hasattr(self, "nodes"):
                self.shutdown()
            raise


@pytest.fixture(scope="module")
def compiled():
    """Compiled before the network starts, so a first (uncached) compile does not eat its time."""
    return artifacts_dir(), artifacts()


@pytest.fixture(scope="module")
def net(tmp_path_factory, compiled):
    network = _Network(tmp_path_factory.mktemp("contract-tools") / "net", 4, 300)
    try:
        network.wait_for_height(1, timeout=TIMEOUT)
        yield network
    finally:
        network.shutdown()
    check_safety([n.data_dir for n in network.nodes], network.root / "genesis.json")


def web3_of(net, i: int) -> Web3:
    return Web3(Web3.HTTPProvider(net.nodes[i].rpc_url, request_kwargs={"timeout": 10}))


def create_address(sender: str, nonce: int) -> str:
    return to_checksum_address(keccak(rlp.encode([bytes.fromhex(sender[2:]), nonce]))[12:])


def topic(address: str) -> str:
    return "0x" + "00" * 12 + address[2:].lower()


def send(w3: Web3, key: str, tx: dict) -> dict:
    """Sign an EIP-1559 transaction (gas estimated unless given), send it, wait for its receipt."""
    account = Account.from_key(key)
    tx = {"from": account.address, "nonce": w3.eth.get_transaction_count(account.address, "pending"),
          "chainId": CHAIN_ID, "maxFeePerGas": 20 * GWEI, "maxPriorityFeePerGas": GWEI, **tx}
    if "gas" not in tx:
        tx["gas"] = w3.eth.estimate_gas(tx)
    tx_hash = w3.eth.send_raw_transaction(account.sign_transaction(tx).raw_transaction)
    return w3.eth.wait_for_transaction_receipt(tx_hash, timeout=TIMEOUT, poll_latency=0.1)


def deploy(w3: Web3, key: str, name: str, *args) -> tuple[object, dict]:
    """web3.py's contract factory: constructor data from the ABI, deployed, bound to its address."""
    artifact = artifacts()[name]
    factory = w3.eth.contract(abi=artifact["abi"], bytecode=artifact["bytecode"])
    receipt = send(w3, key, {"data": factory.constructor(*args).data_in_transaction})
    assert receipt.status == 1 and receipt.to is None
    return w3.eth.contract(address=receipt.contractAddress, abi=artifact["abi"]), receipt


# --- (1) ethers: ContractFactory, ERC-20 transfer, events ---------------------------------------------


def test_ethers_deploys_an_erc20_transfers_and_hears_the_transfer_event(net, compiled):
    directory, built = compiled
    result = run_ethers("erc20", net.nodes[0].rpc_url, net.nodes[1].ws_url, str(directory),
                        KEYS["ethers"], KEYS["ethers-recipient"])
    deployer, recipient = result["deployer"], result["recipient"]
    address = result["address"]
    supply, amount = 10**6 * 10**18, 12345 * 10**17  # 1234.5 tokens of 18 decimals

    assert result["deployStatus"] == 1
    assert result["contractAddress"] == address == create_address(deployer, result["deployNonce"])
    assert result["code"] == built["SideToken"]["deployedBytecode"]
    assert (result["name"], result["symbol"], result["decimals"]) == ("Side Token", "SIDE", "18")
    assert int(result["totalSupply"]) == supply
    assert int(result["amount"]) == amount
    assert int(result["recipientBalance"]) == amount
    assert int(result["deployerBalance"]) == supply - amount

    # the listener on another validator's WebSocket heard exactly the transfer ethers sent
    transfer = result["transfer"]
    assert transfer["status"] == 1 and transfer["logs"] == 1
    assert result["subscription"].startswith("0x")
    assert result["event"] == {"from": deployer, "to": recipient, "value": str(amount),
                               "blockNumber": transfer["blockNumber"], "transactionHash": transfer["hash"]}
    # queryFilter (eth_getLogs): the mint in the constructor, and the one transfer from the deployer
    assert [(m["from"], m["to"], m["value"]) for m in result["minted"]] == [(ZERO, deployer, str(supply))]
    assert result["sent"] == [{"to": recipient, "value": str(amount), "transactionHash": transfer["hash"]}]
    # OpenZeppelin's custom error, decoded by ethers from the ABI
    overdraft = result["overdraft"]
    assert overdraft["code"] == "CALL_EXCEPTION"
    assert overdraft["revert"] == {"name": "ERC20InsufficientBalance",
                                   "signature": "ERC20InsufficientBalance(address,uint256,uint256)",
                                   "args": [recipient, str(amount), str(amount + 1)]}

    # every other validator agrees, read with web3.py
    for i in (2, 3):
        w3 = web3_of(net, i)
        token = w3.eth.contract(address=address, abi=built["SideToken"]["abi"])
        assert token.functions.balanceOf(recipient).call() == amount
        assert token.functions.balanceOf(deployer).call() == supply - amount
        receipt = w3.eth.get_transaction_receipt(transfer["hash"])
        (event,) = token.events.Transfer().process_receipt(receipt)
        assert (event.args["from"], event.args.to, event.args.value) == (deployer, recipient, amount)


# --- (2) web3.py: ERC-721, eth_getLogs with topic filters, eth_subscribe("logs") ----------------------


def test_web3_deploys_an_erc721_mints_and_finds_the_transfer_logs(net):
    w3 = web3_of(net, 1)
    key = KEYS["web3-nft"]
    me = Account.from_key(key).address
    friend = to_checksum_address("0x" + "f7" * 20)
    nft, deployed = deploy(w3, key, "SideNFT")
    assert deployed.contractAddress == create_address(me, w3.eth.get_transaction_count(me) - 1)
    assert (nft.functions.name().call(), nft.functions.symbol().call()) == ("Side NFT", "SNFT")

    first = send(w3, key, {"to": nft.address, "data": nft.encode_abi("mint", [me])})
    second = send(w3, key, {"to": nft.address, "data": nft.encode_abi("mint", [friend])})
    assert first.status == second.status == 1
    assert nft.functions.ownerOf(1).call() == me and nft.functions.ownerOf(2).call() == friend
    assert nft.functions.balanceOf(me).call() == 1 and nft.functions.minted().call() == 2

    # eth_getLogs on another validator, raw JSON: topic positions, null wildcards, OR-lists, blockHash
    def get_logs(**filter_):
        return net.rpc(2, "eth_getLogs", [{"fromBlock": hex(deployed.blockNumber), "toBlock": "latest",
                                           "address": nft.address, **filter_}])

    to_me = get_logs(topics=[TRANSFER, topic(ZERO), topic(me)])
    assert len(to_me) == 1
    (log,) = to_me
    assert log["address"].lower() == nft.address.lower()
    assert log["topics"] == [TRANSFER, topic(ZERO), topic(me), "0x" + (1).to_bytes(32, "big").hex()]
    assert log["data"] == "0x"
    assert log["transactionHash"] == "0x" + first.transactionHash.hex()
    assert log["blockHash"] == "0x" + first.blockHash.hex()
    assert int(log["blockNumber"], 16) == first.blockNumber
    assert (log["transactionIndex"], log["logIndex"], log["removed"]) == ("0x0", "0x0", False)
    assert [int(x["topics"][3], 16) for x in get_logs(topics=[TRANSFER, None, topic(friend)])] == [2]
    assert [int(x["topics"][3], 16) for x in get_logs(topics=[TRANSFER, None, [topic(me), topic(friend)]])] == [1, 2]
    assert get_logs(topics=[TRANSFER, None, topic(nft.address)]) == []
    assert get_logs(topics=["0x" + keccak(text="Approval(address,address,uint256)").hex()]) == []
    assert net.rpc(3, "eth_getLogs", [{"blockHash": "0x" + second.blockHash.hex(), "address": nft.address}]) == \
        get_logs(topics=[None, None, topic(friend)])

    # the same through web3.py's event API
    events = nft.events.Transfer.get_logs(from_block=deployed.blockNumber, argument_filters={"to": friend})
    assert [(e.args["from"], e.args.to, e.args.tokenId) for e in events] == [(ZERO, friend, 2)]


def test_logs_subscription_over_websocket_delivers_the_matching_logs(net):
    w3 = web3_of(net, 3)
    key = KEYS["web3-nft"]
    me = Account.from_key(key).address
    friend = to_checksum_address("0x" + "f8" * 20)
    nft, _ = deploy(w3, key, "SideNFT")

    async def subscribe_and_mint():
        async with AsyncWeb3(WebSocketProvider(net.nodes[2].ws_url)) as ws:
            to_me = await ws.eth.subscribe("logs", {"address": nft.address, "topics": [TRANSFER, None, topic(me)]})
            to_friend = await ws.eth.subscribe("logs", {"address": [nft.address], "topics": [[TRANSFER], None, [topic(friend)]]})
            # a transaction to another validator, after the node answered both subscriptions: first the
            # friend's mint, then (once it is final) mine, so a filter matching too much is seen first
            friends = await asyncio.to_thread(send, w3, key, {"to": nft.address, "data": nft.encode_abi("mint", [friend])})
            mine = await asyncio.to_thread(send, w3, key, {"to": nft.address, "data": nft.encode_abi("mint", [me])})
            heard: dict[str, list] = {to_me: [], to_friend: []}
            async for message in ws.socket.process_subscriptions():
                heard[message["subscription"]].append(message["result"])
                if all(heard.values()):
                    break
            assert await ws.eth.unsubscribe(to_me) and await ws.eth.unsubscribe(to_friend)
            return heard[to_me], heard[to_friend], friends, mine

    heard_me, heard_friend, friends, mine = asyncio.run(asyncio.wait_for(subscribe_and_mint(), TIMEOUT))
    assert len(heard_me) == 1 and len(heard_friend) == 1
    for (entry,), receipt, owner, token_id in ((heard_me, mine, me, 2), (heard_friend, friends, friend, 1)):
        assert entry["address"] == nft.address
        assert [t.hex() if isinstance(t, bytes) else t for t in entry["topics"]] == \
            [TRANSFER[2:], topic(ZERO)[2:], topic(owner)[2:], token_id.to_bytes(32, "big").hex()]
        assert entry["transactionHash"] == receipt.transactionHash
        assert entry["blockNumber"] == receipt.blockNumber and entry["blockHash"] == receipt.blockHash
        assert entry["removed"] is False
        # what the subscription pushed is what eth_getLogs answers for that block
        (logged,) = w3.eth.get_logs({"blockHash": receipt.blockHash, "address": nft.address})
        assert dict(logged) == dict(entry)


# --- (3) cast -------------------------------------------------------------------------------------


def test_cast_send_create_deploys_and_cast_call_reads(net, compiled):
    version = subprocess.run([str(CAST_WRAPPER), "--version"],
                             capture_output=True, text=True, timeout=60)
    assert version.returncode == 0 and version.stdout.startswith("cast Version: 1.7.1"), version.stderr
    vault = compiled[1]["Vault"]
    key = KEYS["cast"]
    me = Account.from_key(key).address
    rpc = ["--rpc-url", net.nodes[3].rpc_url]
    assert cast("chain-id", *rpc).stdout.strip() == str(CHAIN_ID)

    created = json.loads(cast("send", *rpc, "--private-key", key, "--json",
                              "--create", vault["bytecode"], "constructor(uint256)", "100").stdout)
    assert created["status"] == "0x1" and created["to"] is None
    address = to_checksum_address(created["contractAddress"])
    w3 = web3_of(net, 0)
    assert address == create_address(me, w3.eth.get_transaction(created["transactionHash"]).nonce)

    rpc_other = ["--rpc-url", net.nodes[1].rpc_url]
    assert cast("code", *rpc_other, address).stdout.strip() == "0x" + bytes(w3.eth.get_code(address)).hex()
    assert cast("call", *rpc_other, address, "limit()(uint256)").stdout.strip() == "100"
    sent = json.loads(cast("send", *rpc, "--private-key", key, "--json", address, "deposit(uint256)", "7").stdout)
    assert sent["status"] == "0x1" and len(sent["logs"]) == 1
    assert cast("call", *rpc_other, address, "total()(uint256)").stdout.strip() == "7"

    # cast shows the node's revert reason, and decodes the custom error's data with its signature
    refused = subprocess.run([str(CAST), "call", *rpc_other, address, "deposit(uint256)", "0"],
                             capture_output=True, text=True, timeout=60)
    assert refused.returncode != 0 and "execution reverted: amount must be positive" in refused.stderr
    too_much = subprocess.run([str(CAST), "call", *rpc_other, address, "deposit(uint256)", "1000"],
                              capture_output=True, text=True, timeout=60)
    assert too_much.returncode != 0 and "execution reverted" in too_much.stderr
    data = "0x" + too_much.stderr.split('data: "0x', 1)[1].split('"', 1)[0]
    decoded = cast("decode-error", "--sig", "TooMuch(uint256,uint256)", data).stdout.split()
    assert decoded == ["93", "1000"]


# --- (4) revert reasons and custom errors ------------------------------------------------------------

TOO_MUCH = keccak(text="TooMuch(uint256,uint256)")[:4]


def test_web3_decodes_revert_reasons_and_custom_errors_and_a_failed_transaction_is_mined(net):
    w3 = web3_of(net, 2)
    key = KEYS["web3-reverts"]
    me = Account.from_key(key).address
    vault, _ = deploy(w3, key, "Vault", 100)
    assert send(w3, key, {"to": vault.address, "data": vault.encode_abi("deposit", [40])}).status == 1

    for attempt in (vault.functions.deposit(0).call, vault.functions.deposit(0).estimate_gas):
        with pytest.raises(ContractLogicError) as reason:
            attempt({"from": me})
        assert not isinstance(reason.value, ContractCustomError)
        assert reason.value.message == "execution reverted: amount must be positive"
        data = bytes.fromhex(reason.value.data[2:])
        assert data[:4] == keccak(text="Error(string)")[:4]
        assert abi_decode(["string"], data[4:]) == ("amount must be positive",)

    for attempt in (vault.functions.deposit(61).call, vault.functions.deposit(61).estimate_gas):
        with pytest.raises(ContractCustomError) as custom:
            attempt({"from": me})
        data = bytes.fromhex(custom.value.data[2:])
        assert data[:4] == TOO_MUCH
        assert abi_decode(["uint256", "uint256"], data[4:]) == (60, 61)

    # with an explicit gas limit nothing estimates it, so it is mined, and fails: status 0, no logs, no effect
    failed = send(w3, key, {"to": vault.address, "data": vault.encode_abi("deposit", [61]), "gas": 200_000})
    assert failed.status == 0 and failed.logs == []
    assert 21_000 < failed.gasUsed < 200_000
    assert vault.functions.total().call() == 40
    # on another validator too, and replaying it where it ran gives the reason
    other = web3_of(net, 0)
    assert other.eth.get_transaction_receipt(failed.transactionHash).status == 0
    with pytest.raises(ContractCustomError) as replay:
        other.eth.call({"from": me, "to": vault.address, "data": vault.encode_abi("deposit", [61])}, failed.blockNumber - 1)
    assert abi_decode(["uint256", "uint256"], bytes.fromhex(replay.value.data[10:])) == (60, 61)


def test_ethers_decodes_revert_reasons_and_custom_errors_and_a_failed_transaction_is_mined(net, compiled):
    result = run_ethers("reverts", net.nodes[3].rpc_url, net.nodes[0].ws_url, str(compiled[0]), KEYS["ethers-reverts"])
    me = Account.from_key(KEYS["ethers-reverts"]).address
    assert result["depositStatus"] == 1 and result["total"] == "40"
    assert result["deposited"] == [{"from": me, "amount": "40", "total": "40"}]

    reason = {"name": "Error", "signature": "Error(string)", "args": ["amount must be positive"]}
    for failure in (result["reasonCall"], result["reasonEstimate"]):
        assert failure["code"] == "CALL_EXCEPTION"
        assert failure["reason"] == "amount must be positive"
        assert failure["revert"] == reason

    too_much = {"name": "TooMuch", "signature": "TooMuch(uint256,uint256)", "args": ["60", "61"]}
    assert result["customCall"]["code"] == "CALL_EXCEPTION"
    assert result["customCall"]["revert"] == too_much
    assert result["customCall"]["reason"] == "TooMuch(uint256,uint256)"
    # contract.estimateGas does not decode custom errors (ethers 6 behaves so on anvil too): the data is
    # there, and the contract's interface parses it
    assert result["customEstimate"]["code"] == "CALL_EXCEPTION"
    assert result["customEstimate"]["data"] == "0x" + (TOO_MUCH + (60).to_bytes(32, "big") + (61).to_bytes(32, "big")).hex()
    assert result["customEstimate"]["parsed"] == {"name": "TooMuch", "args": ["60", "61"]}

    failed = result["failed"]
    assert failed["code"] == "CALL_EXCEPTION" and failed["status"] == 0 and failed["logs"] == 0
    assert 21_000 < int(failed["gasUsed"]) < 200_000
    assert web3_of(net, 1).eth.get_transaction_receipt(failed["hash"]).status == 0
