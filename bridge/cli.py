"""`bridge`: the L1 side's commands.

    bridge relayer --sidechain-rpc URL --l1-rpc URL --checkpoint-manager ADDR --keystore FILE --password-file FILE
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from web3 import Web3

from sidechain.errors import SidechainError
from sidechain.keystore import load_keystore
from sidechain.node.logs import configure_logging

from .relayer import Relayer


def cmd_relayer(args: argparse.Namespace) -> int:
    configure_logging(args.log_level)
    key = load_keystore(args.keystore, Path(args.password_file).read_text().rstrip("\n"))
    l1 = Web3(Web3.HTTPProvider(args.l1_rpc, request_kwargs={"timeout": 15}))
    relayer = Relayer(args.sidechain_rpc, l1, args.checkpoint_manager, key, Path(args.state), index=args.index)
    logging.getLogger("bridge.relayer").info("relaying checkpoints from %s to %s on %s", args.sidechain_rpc,
                                              args.checkpoint_manager, args.l1_rpc)
    relayer.run_forever()
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bridge", description="The sidechain's L1 side.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    relayer = sub.add_parser("relayer", help="submit checkpoints signed on the sidechain to CheckpointManager on L1")
    relayer.add_argument("--sidechain-rpc", required=True, help="JSON-RPC URL of a sidechain node")
    relayer.add_argument("--l1-rpc", required=True, help="JSON-RPC URL of the L1")
    relayer.add_argument("--checkpoint-manager", required=True, help="CheckpointManager address on the L1")
    relayer.add_argument("--keystore", required=True, help="keystore of the L1 account that pays for submissions")
    relayer.add_argument("--password-file", required=True, help="file holding the keystore password")
    relayer.add_argument("--state", required=True, help="file recording the last submission")
    relayer.add_argument("--index", type=int, default=0, help="this relayer's place among the validators' relayers (staggers them)")
    relayer.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"])
    relayer.set_defaults(func=cmd_relayer)
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except SidechainError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
