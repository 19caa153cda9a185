"""`sidechain genesis new`: write the genesis of a new network from the operators' addresses.

The flags are assembled into the same JSON object a genesis file holds and checked by
`parse_genesis`, so a bad value gets exactly the message `sidechain init --genesis` would give
for the file; the file is written with `genesis_to_json` and read back before it is kept.
"""

from __future__ import annotations

import argparse
import json
import os
import re
from pathlib import Path

from .chain.genesis import GenesisConfig, genesis_to_json, load_genesis, parse_genesis
from .errors import GenesisError

DEFAULT_GAS_LIMIT = 150_000_000
DEFAULT_BASE_FEE = 10**9


def _number(text: str):
    """A decimal flag value as the JSON number a file would hold; anything else (0x-hex, typos) as given."""
    text = text.strip()
    return int(text) if re.fullmatch(r"-?[0-9]{1,80}", text) else text


def genesis_object(args: argparse.Namespace) -> dict:
    """The genesis JSON object the flags describe, values as given (parse_genesis checks them)."""
    validators = []
    for spec in args.validator or ():
        address, sep, power = spec.rpartition(":") if ":" in spec else (spec, "", "1")
        validators.append({"address": address.strip(), "power": _number(power) if sep else 1})
    alloc: dict[str, dict] = {}
    for spec in args.alloc or ():
        address, sep, wei = spec.partition("=")
        if not sep:
            raise GenesisError(f"--alloc {spec!r}: expected ADDRESS=WEI")
        key = address.strip()
        if key.lower() in (k.lower() for k in alloc):
            raise GenesisError(f"--alloc {key}: address given twice")
        alloc[key] = {"balance": _number(wei)}
    obj = {
        "chainId": _number(args.chain_id),
        "timestamp": _number(args.timestamp),
        "blockTimeMs": _number(args.block_time_ms),
        "gasLimit": _number(args.gas_limit),
        "baseFeePerGas": _number(args.base_fee),
        "checkpointInterval": _number(args.checkpoint_interval),
        "validators": validators,
        "alloc": alloc,
    }
    if args.description:
        obj["description"] = args.description
    return obj


def build_genesis(args: argparse.Namespace) -> GenesisConfig:
    """Raises GenesisError naming the first bad field, as the genesis loader does."""
    return parse_genesis(genesis_object(args))


def cmd_genesis_new(args: argparse.Namespace) -> None:
    genesis = build_genesis(args)
    out = Path(args.out)
    if out.exists() and not args.force:
        raise GenesisError(f"{out} already exists (--force replaces it)")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_text(json.dumps(genesis_to_json(genesis), indent=2) + "\n")
    if load_genesis(tmp).hash() != genesis.hash():  # never keep a file that reads back differently
        tmp.unlink()
        raise GenesisError(f"{out}: the written genesis does not read back identically (a bug: please report it)")
    os.replace(tmp, out)
    power = sum(v.power for v in genesis.validators)
    print(f"wrote {out}: chain id {genesis.chain_id}, {len(genesis.validators)} validators (total power {power}), "
          f"{len(genesis.alloc)} allocations")
    print(f"genesis hash 0x{genesis.hash().hex()}")


def add_genesis_commands(sub) -> None:
    """Register `genesis new` on the top-level subparsers of `sidechain`."""
    genesis = sub.add_parser("genesis", help="create the genesis of a new network").add_subparsers(
        dest="genesis_command", required=True, metavar="ACTION")
    new = genesis.add_parser(
        "new", help="write a genesis file from the validators' addresses",
        description="Write a genesis file that `sidechain init --genesis` and `scripts/deploy-l1 --genesis` take, "
        "checked exactly as they check it, and print its hash: every operator compares it before starting.",
    )
    new.add_argument("--chain-id", required=True, metavar="N", help="EIP-155 chain id of the new network")
    new.add_argument("--validator", action="append", required=True, metavar="ADDR[:POWER]",
                     help="a validator's address (from its operator's `sidechain init`) and voting power (default 1); repeat")
    new.add_argument("--alloc", action="append", metavar="ADDR=WEI",
                     help="a genesis balance in wei; repeat. scripts/deploy-l1 locks the total in RootBridge on L1")
    new.add_argument("--block-time-ms", required=True, metavar="T", help="target block interval in milliseconds (50..60000)")
    new.add_argument("--checkpoint-interval", required=True, metavar="K", help="sidechain blocks per L1 checkpoint")
    new.add_argument("--gas-limit", default=str(DEFAULT_GAS_LIMIT), help=f"block gas limit (default {DEFAULT_GAS_LIMIT})")
    new.add_argument("--base-fee", default=str(DEFAULT_BASE_FEE), help=f"genesis base fee per gas in wei (default {DEFAULT_BASE_FEE})")
    new.add_argument("--timestamp", default="0", help="genesis block timestamp (default 0)")
    new.add_argument("--description", default="", help="free text kept in the file (not covered by the hash)")
    new.add_argument("--out", required=True, help="file to write, e.g. genesis/mynet.json")
    new.add_argument("--force", action="store_true", help="replace an existing file")
    new.set_defaults(func=cmd_genesis_new)
