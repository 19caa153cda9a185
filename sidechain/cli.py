"""`sidechain`: set up and run a node.

    sidechain init --data-dir DIR --genesis genesis/devnet.json [key option]
    sidechain run  --data-dir DIR [--password-file FILE] [--rpc-port 8545] [--p2p-host IP --p2p-port P --bootstrap ADDR]
    sidechain account new --keystore FILE
    sidechain genesis new --chain-id N --validator ADDR[:POWER] ... --out genesis/NAME.json
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import json
import os
import shutil
import sys
from pathlib import Path

from .chain.genesis import load_genesis
from .crypto import SECP256K1_N, private_key_to_address
from .errors import SidechainError
from .genesis_cli import add_genesis_commands
from .keystore import DEFAULT_SCRYPT_N, encrypt_key, load_keystore, save_keystore


def _read_password(path: str | None, *, confirm: bool = False) -> str:
    if path:
        return Path(path).read_text().rstrip("\n")
    if not sys.stdin.isatty():
        raise SidechainError("no terminal to ask for a password: pass --password-file FILE")
    password = getpass.getpass("Keystore password: ")
    if confirm and getpass.getpass("Repeat password: ") != password:
        raise SidechainError("passwords do not match")
    return password


def _new_private_key() -> bytes:
    while True:
        key = os.urandom(32)
        if 0 < int.from_bytes(key, "big") < SECP256K1_N:
            return key


def _private_key_from_args(args: argparse.Namespace) -> bytes | None:
    """The validator key chosen on the command line, or None to keep an existing keystore."""
    if args.private_key_file:
        text = Path(args.private_key_file).read_text().strip().removeprefix("0x")
        return bytes.fromhex(text)
    if args.dev_key is not None:
        from .devkeys import anvil_private_key

        return anvil_private_key(args.dev_key)
    if args.keystore:
        return load_keystore(args.keystore, _read_password(args.password_file))
    return _new_private_key()


def cmd_init(args: argparse.Namespace) -> None:
    data_dir = Path(args.data_dir)
    genesis = load_genesis(args.genesis)
    target = data_dir / "genesis.json"
    if target.exists() and load_genesis(target).hash() != genesis.hash():
        raise SidechainError(f"{data_dir} already holds another genesis; use a fresh --data-dir")
    data_dir.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(args.genesis, target)
    keystore_path = data_dir / "keystore.json"
    if keystore_path.exists() and not args.force:
        print(f"kept the existing validator keystore {keystore_path} (--force replaces it)")
    else:
        key = _private_key_from_args(args)
        password = _read_password(args.password_file, confirm=True)
        save_keystore(keystore_path, encrypt_key(key, password, scrypt_n=args.scrypt_n))
        address = private_key_to_address(key)
        member = any(v.address == address for v in genesis.validators)
        print(f"validator key 0x{address.hex()} -> {keystore_path}" + ("" if member else " (not in the genesis validator set)"))
    print(f"initialised {data_dir} for chain id {genesis.chain_id}, genesis 0x{genesis.hash().hex()}")


def cmd_run(args: argparse.Namespace) -> None:
    from .logs import configure_logging
    from .node.node import NodeConfig, run_node

    from .node.listen import check_p2p_flags, parse_bootstrap, parse_rpc_host

    rpc_host = parse_rpc_host(args.rpc_host)
    p2p_host, p2p_advertise = check_p2p_flags(args.p2p_host, args.p2p_advertise, args.p2p_port)
    bootstrap = parse_bootstrap(args.bootstrap)
    configure_logging(args.log_level)
    data_dir = Path(args.data_dir)
    password = None
    if not args.no_validator and (data_dir / "keystore.json").exists():
        password = _read_password(args.password_file)
    config = NodeConfig(
        data_dir=data_dir, rpc_host=rpc_host, rpc_port=args.rpc_port, password=password,
        cors_origins=tuple(o.strip() for o in args.cors_origins.split(",") if o.strip()), rpc_gas_cap=args.rpc_gas_cap,
        allow_unprotected_txs=args.allow_unprotected_txs,
        p2p_port=args.p2p_port, bootstrap=bootstrap, p2p_host=p2p_host, p2p_advertise=p2p_advertise,
        l1_chain_id=args.l1_chain_id,
        checkpoint_manager=bytes.fromhex(args.checkpoint_manager.removeprefix("0x")) if args.checkpoint_manager else None,
        l1_rpc=args.l1_rpc, l1_root_bridge=_address_flag("--l1-root-bridge", args.l1_root_bridge),
        l1_deploy_block=args.l1_deploy_block,
    )
    asyncio.run(run_node(config))


def _address_flag(flag: str, value: str | None) -> bytes | None:
    """A 20-byte 0x-prefixed address given on the command line, or None if the flag is absent."""
    if value is None:
        return None
    try:
        address = bytes.fromhex(value.removeprefix("0x"))
    except ValueError:
        address = b""
    if not value.startswith("0x") or len(address) != 20:
        raise SidechainError(f"{flag} {value!r}: expected a 20-byte address as 0x-prefixed hex")
    return address


def cmd_account_new(args: argparse.Namespace) -> None:
    key = _new_private_key()
    password = _read_password(args.password_file, confirm=True)
    save_keystore(args.keystore, encrypt_key(key, password, scrypt_n=args.scrypt_n))
    print(json.dumps({"address": "0x" + private_key_to_address(key).hex(), "keystore": str(args.keystore)}))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sidechain",
        description="An Ethereum sidechain node with proof-of-authority BFT consensus. "
        "First `sidechain init` a data directory from a genesis file, then `sidechain run` it.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    init = sub.add_parser(
        "init", help="create a data directory: copy the genesis, write the validator keystore",
        description="Create DATA_DIR with the genesis file and an encrypted validator keystore "
        "(Web3 Secret Storage v3, readable by geth, Foundry and eth-account). Without a key option a new "
        "random key is generated; its address must be in the genesis validators for the node to vote.",
    )
    init.add_argument("--data-dir", required=True, help="directory for the chain database, keystore and consensus state")
    init.add_argument("--genesis", required=True, help="genesis JSON file, e.g. genesis/devnet.json")
    keys = init.add_mutually_exclusive_group()
    keys.add_argument("--keystore", help="import this keystore (geth, Foundry or eth-account) as the validator key")
    keys.add_argument("--private-key-file", help="import a hex private key from this file")
    keys.add_argument("--dev-key", type=int, metavar="N", help="use anvil's public dev account #N (devnets only, never real funds)")
    init.add_argument("--password-file", help="file holding the keystore password (otherwise asked on the terminal)")
    init.add_argument("--scrypt-n", type=int, default=DEFAULT_SCRYPT_N, help=f"scrypt cost of the new keystore (default {DEFAULT_SCRYPT_N})")
    init.add_argument("--force", action="store_true", help="replace an existing validator keystore")
    init.set_defaults(func=cmd_init)

    run = sub.add_parser(
        "run", help="run a node from an initialised data directory",
        description="Run the node: consensus, transaction pool and JSON-RPC (HTTP and WebSocket on one port). "
        "Stops cleanly on Ctrl-C or SIGTERM; a node killed outright reopens at its last committed block.",
    )
    run.add_argument("--data-dir", required=True, help="directory made by `sidechain init`")
    run.add_argument("--password-file", help="file holding the keystore password (otherwise asked on the terminal)")
    run.add_argument("--no-validator", action="store_true", help="follow the chain without signing, even if a keystore is present")
    run.add_argument("--rpc-host", default="127.0.0.1", help="JSON-RPC listen IP address (default 127.0.0.1; anything else exposes the node and is logged as a warning)")
    run.add_argument("--rpc-port", type=int, default=8545, help="JSON-RPC port for HTTP and WebSocket (default 8545)")
    run.add_argument("--p2p-port", type=int, help="libp2p TCP port for peers, bound on --p2p-host (omit for a one-validator network)")
    run.add_argument("--p2p-host", metavar="IP",
                     help="the one IP address libp2p binds (default 127.0.0.1; e.g. the host's LAN address, or 0.0.0.0 with --p2p-advertise)")
    run.add_argument("--p2p-advertise", metavar="MULTIADDR",
                     help="what peers should dial when it differs from the bound address: /ip4/PUBLIC_IP/tcp/PORT or /dns4/NAME/tcp/PORT")
    run.add_argument("--bootstrap", default="",
                     help="comma-separated peer multiaddrs, /ip4/HOST/tcp/PORT/p2p/PEER_ID or /dns4/NAME/tcp/PORT/p2p/PEER_ID; "
                     "one reachable peer is enough (peers exchange addresses; known peers are kept in DATA_DIR/p2p/peers.json)")
    run.add_argument("--checkpoint-manager", help="address of CheckpointManager on L1: the validator signs every checkpoint for it")
    run.add_argument("--l1-chain-id", type=int, help="chain id of that L1 (part of the checkpoints' EIP-712 domain)")
    run.add_argument("--l1-rpc", metavar="URL",
                     help="JSON-RPC URL of that L1, shown to the explorer (sidechain_getNetworkInfo); the node never dials it")
    run.add_argument("--l1-root-bridge", metavar="ADDR",
                     help="address of RootBridge on L1, shown to the explorer (sidechain_getNetworkInfo); informational only")
    run.add_argument("--l1-deploy-block", type=int, metavar="N",
                     help="L1 block the bridge contracts were deployed in: the explorer reads their L1 events from there "
                     "(public L1 endpoints refuse log ranges from block 0)")
    run.add_argument("--rpc-gas-cap", type=int, default=50_000_000,
                     help="most gas one eth_call or eth_estimateGas may use (default 50000000, as go-ethereum)")
    run.add_argument("--allow-unprotected-txs", action="store_true",
                     help="accept pre-EIP-155 legacy transactions (valid on every chain) over RPC; refused by default")
    run.add_argument("--cors-origins", default="*", help="comma-separated origins browsers may call from (default *)")
    run.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"])
    run.set_defaults(func=cmd_run)

    add_genesis_commands(sub)

    account = sub.add_parser("account", help="manage keystores").add_subparsers(dest="account_command", required=True, metavar="ACTION")
    new = account.add_parser("new", help="generate a key into a new keystore file")
    new.add_argument("--keystore", required=True, help="path of the keystore file to write")
    new.add_argument("--password-file", help="file holding the password (otherwise asked on the terminal)")
    new.add_argument("--scrypt-n", type=int, default=DEFAULT_SCRYPT_N, help=argparse.SUPPRESS)
    new.set_defaults(func=cmd_account_new)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        args.func(args)
    except SidechainError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
