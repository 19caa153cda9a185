"""`bridge`: the L1 side's commands.

    bridge relayer --sidechain-rpc URL[,URL...] --l1-rpc URL [--checkpoint-manager ADDR] [--root-bridge ADDR]
                   --keystore FILE --password-file FILE --state FILE [--confirmations N] [--from-block N]
    bridge deposit --amount X [--token ETH|ADDR] [--to ADDR] [--no-wait]
    bridge withdraw --amount X [--token ETH|L1ADDR] [--to L1ADDR] [--no-wait]
    bridge exit --withdrawal ID
    bridge claim [--token ETH|ADDR] [--to ADDR]
    bridge status deposit ID | withdrawal ID

The user commands read endpoints and contracts from --network (default .devnet/network.json) and
sign with the devnet's first funded dev account unless --keystore is given. Every command takes
`--sidechain-rpc URL[,URL...]`; without it the user commands use every node network.json lists. The
URLs are tried in turn, so one node down stops nothing (`bridge.endpoints`).
"""

from __future__ import annotations

import argparse
import getpass
import logging
import sys
import threading
from pathlib import Path

from web3 import Web3

from sidechain.errors import SidechainError
from sidechain.keystore import load_keystore
from sidechain.logs import configure_logging

from .deposits import DEVNET_CONFIRMATIONS, TESTNET_CONFIRMATIONS, DepositRelayer
from .endpoints import failover_web3, parse_rpc_list
from .relayer import Relayer, StateFile

DEFAULT_NETWORK = Path(__file__).resolve().parent.parent / ".devnet" / "network.json"


def cmd_relayer(args: argparse.Namespace) -> int:
    configure_logging(args.log_level)
    if not (args.checkpoint_manager or args.root_bridge):
        raise SidechainError("give --checkpoint-manager, --root-bridge or both: there is nothing to relay")
    key = load_keystore(args.keystore, Path(args.password_file).read_text().rstrip("\n"))
    l1 = Web3(Web3.HTTPProvider(args.l1_rpc, request_kwargs={"timeout": 15}))
    state = StateFile(Path(args.state))
    log = logging.getLogger("bridge.relayer")
    sidechain_rpcs = parse_rpc_list(args.sidechain_rpc)
    if args.checkpoint_manager:
        relayer = Relayer(sidechain_rpcs, l1, args.checkpoint_manager, key, state, index=args.index,
                          confirmations=args.confirmations)
        log.info("relaying checkpoints from %s to %s on %s (%d confirmations)", ", ".join(sidechain_rpcs),
                 args.checkpoint_manager, args.l1_rpc, args.confirmations)
        if not args.root_bridge:
            relayer.run_forever()
            return 0
        threading.Thread(target=relayer.run_forever, name="checkpoints", daemon=True).start()
    # The deposit relayer's own connections: web3 sessions are not shared between threads.
    sidechain = failover_web3(sidechain_rpcs, timeout=10)
    deposits = DepositRelayer(sidechain, Web3(Web3.HTTPProvider(args.l1_rpc, request_kwargs={"timeout": 15})),
                              args.root_bridge, key, state, confirmations=args.confirmations, from_block=args.from_block)
    logging.getLogger("bridge.deposits").info("affirming deposits to %s on %s after %d confirmations, from L1 block %d",
                                              args.root_bridge, args.l1_rpc, args.confirmations, args.from_block)
    deposits.run_forever()
    return 0


def _user(args: argparse.Namespace):
    from .user import BridgeUser, dev_key

    network = _network(args)
    if args.keystore:
        password = (Path(args.password_file).read_text().rstrip("\n") if args.password_file
                    else getpass.getpass("keystore password: "))
        key = load_keystore(args.keystore, password)
    else:
        key = dev_key(args.network)
    return BridgeUser(network, key, confirmations=args.confirmations, report=_printer(), timeout=args.timeout)


def _network(args: argparse.Namespace):
    """The network.json of --network, reached through --sidechain-rpc's URLs when given."""
    from .user_view import Network

    network = Network.from_file(args.network)
    return network.with_sidechain_rpc(parse_rpc_list(args.sidechain_rpc)) if args.sidechain_rpc else network


def _printer():
    def report(progress) -> None:
        print(("✓ " if progress.done else "… ") + progress.message, flush=True)
    return report


def cmd_deposit(args: argparse.Namespace) -> int:
    from .user import to_units

    user = _user(args)
    user.deposit(to_units(args.amount, user.l1_decimals(args.token)), args.token, args.to, wait=not args.no_wait)
    return 0


def cmd_withdraw(args: argparse.Namespace) -> int:
    from .user import to_units

    user = _user(args)
    user.withdraw(to_units(args.amount, user.sidechain_decimals(args.token)), args.token, args.to, wait=not args.no_wait)
    return 0


def cmd_exit(args: argparse.Namespace) -> int:
    _user(args).exit(args.withdrawal)
    return 0


def cmd_claim(args: argparse.Namespace) -> int:
    _user(args).claim(args.token, args.to)
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    user = _user(args)
    lines = user.deposit_status(args.id) if args.kind == "deposit" else user.withdrawal_status(args.id)
    print("\n".join(lines))
    return 0


def cmd_supply(args: argparse.Namespace) -> int:
    from .supply import supply_report

    network = _network(args)
    report = supply_report(Web3(Web3.HTTPProvider(network.l1_rpc)), network.root_bridge, network.sidechain_urls,
                           network.deploy_block)
    for token in report:
        print(token.describe())
    return 0 if all(t.holds for t in report) else 2


SIDECHAIN_RPC_HELP = ("JSON-RPC URL(s) of sidechain nodes, comma-separated, tried in turn when one is unreachable "
                      "(default: every node the network file lists)")


def _network_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--network", default=str(DEFAULT_NETWORK), help="network.json of a devnet (default .devnet/network.json)")
    parser.add_argument("--sidechain-rpc", metavar="URL[,URL...]", help=SIDECHAIN_RPC_HELP)


def _user_options(parser: argparse.ArgumentParser) -> None:
    _network_options(parser)
    parser.add_argument("--keystore", help="sign with this keystore instead of the devnet's first dev account")
    parser.add_argument("--password-file", help="file holding the keystore password (asked for otherwise)")
    parser.add_argument("--confirmations", type=int, default=DEVNET_CONFIRMATIONS,
                        help=f"L1 confirmations the relayers wait for (default {DEVNET_CONFIRMATIONS})")
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds to wait for each stage (default 600)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bridge", description="The sidechain's L1 side.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    relayer = sub.add_parser("relayer", help="submit checkpoints to L1 and affirm L1 deposits on the sidechain")
    relayer.add_argument("--sidechain-rpc", required=True, metavar="URL[,URL...]",
                         help="JSON-RPC URL(s) of sidechain nodes, comma-separated: the validator's own node first, "
                              "the others tried in turn when it is unreachable")
    relayer.add_argument("--l1-rpc", required=True, help="JSON-RPC URL of the L1")
    relayer.add_argument("--checkpoint-manager", help="CheckpointManager address on the L1 (relays checkpoints)")
    relayer.add_argument("--root-bridge", help="RootBridge address on the L1 (affirms its deposits)")
    relayer.add_argument("--confirmations", type=int, default=DEVNET_CONFIRMATIONS,
                         help=f"L1 confirmations before a deposit is affirmed or a submission counts as done "
                              f"(default {DEVNET_CONFIRMATIONS}, the devnet's; use {TESTNET_CONFIRMATIONS} or more on a testnet)")
    relayer.add_argument("--from-block", type=int, default=0, help="the L1 block RootBridge was deployed in (first block scanned)")
    relayer.add_argument("--keystore", required=True, help="the validator's keystore: pays L1 gas and signs affirmations")
    relayer.add_argument("--password-file", required=True, help="file holding the keystore password")
    relayer.add_argument("--state", required=True, help="file recording the last submission and the deposit cursor")
    relayer.add_argument("--index", type=int, default=0, help="this relayer's place among the validators' relayers (staggers them)")
    relayer.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"])
    relayer.set_defaults(func=cmd_relayer)

    deposit = sub.add_parser("deposit", help="lock ETH or an ERC-20 on L1 and follow it until minted on the sidechain")
    deposit.add_argument("--amount", required=True, help="whole units, e.g. 1.5 (the token's decimals apply)")
    deposit.add_argument("--token", default="ETH", help="ETH (default) or the L1 token's address")
    deposit.add_argument("--to", help="recipient on the sidechain (default: the sender)")
    deposit.add_argument("--no-wait", action="store_true", help="return once the L1 transaction is mined")
    _user_options(deposit)
    deposit.set_defaults(func=cmd_deposit)

    withdraw = sub.add_parser("withdraw", help="burn on the sidechain and follow it until an exit on L1 is possible")
    withdraw.add_argument("--amount", required=True, help="whole units, e.g. 1.5")
    withdraw.add_argument("--token", default="ETH", help="ETH (default) or the L1 address of the bridged token")
    withdraw.add_argument("--to", help="recipient on L1 (default: the sender)")
    withdraw.add_argument("--no-wait", action="store_true", help="return once the sidechain transaction is mined")
    _user_options(withdraw)
    withdraw.set_defaults(func=cmd_withdraw)

    exit_ = sub.add_parser("exit", help="claim a withdrawal on L1 once its checkpoint is there")
    exit_.add_argument("--withdrawal", type=int, required=True, help="the withdrawal id `bridge withdraw` printed")
    _user_options(exit_)
    exit_.set_defaults(func=cmd_exit)

    claim = sub.add_parser("claim", help="collect what an exit to you credited because paying you failed, to any address")
    claim.add_argument("--token", default="ETH", help="ETH (default) or the L1 token's address")
    claim.add_argument("--to", help="where to have it paid on L1 (default: the signer)")
    _user_options(claim)
    claim.set_defaults(func=cmd_claim)

    status = sub.add_parser("status", help="where a deposit or a withdrawal stands")
    status.add_argument("kind", choices=["deposit", "withdrawal"])
    status.add_argument("id", type=int)
    _user_options(status)
    status.set_defaults(func=cmd_status)

    supply = sub.add_parser("supply", help="check the supply invariant of every bridged token on both chains")
    _network_options(supply)
    supply.set_defaults(func=cmd_supply)

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
