"""The fuzz targets: what each decoder is fed, and which exceptions it may raise.

A target is `run(data: bytes)` (returning, for targets that answer rather than raise, a short
name of the answer: the corpus keeps one input per distinct answer) plus `allowed`, the documented part of the `SidechainError` tree
(`sidechain/errors.py`) that input may raise; anything else escaping `run` is a crash. Targets
that wrap a whole check (gossip verdicts, the RPC dispatcher) allow nothing: their contract is an
answer for every input (a verdict, a JSON-RPC response that is not -32603 "internal error").
`generate(rng)` makes structure-aware inputs from valid seeds (`mutate.mutant`) and, where a
signature gates the decoder's deeper checks, re-signs the mutated message so they are reached.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field

import rlp

from sidechain.chain.blocks import ZERO_HASH, Block, Header
from sidechain.chain.bloom import EMPTY_BLOOM
from sidechain.chain.codec import encode_items
from sidechain.chain.transactions import decode_transaction
from sidechain.consensus import wal as wal_module
from sidechain.consensus.evidence import DuplicateProposal, DuplicateVote
from sidechain.consensus.gossip import check_evidence, check_proposal, check_vote, encode_proposal
from sidechain.consensus.messages import CommitCertificate, Proposal, Step, ValidatorSet, Vote
from sidechain.crypto import keccak256, private_key_to_address, sign
from sidechain.errors import (
    InvalidBlock, InvalidCertificate, InvalidTransaction, InvalidVote, SidechainError,
)
from sidechain.mempool.gossip import check_transactions
from sidechain.sync import protocol as sync
from sidechain.devtools.fuzz import mutate

CHAIN_ID = 7071
GAS_LIMIT = 30_000_000
KEYS = [bytes([0x30 + i]) * 32 for i in range(4)]
ADDRESSES = tuple(private_key_to_address(k) for k in KEYS)
VALIDATORS = ValidatorSet(ADDRESSES, (1, 1, 1, 1))
KEY_OF = dict(zip(ADDRESSES, KEYS))
HEIGHT = 5


class Crash(Exception):
    """A contract broken without an exception: a -32603 answer, a non-JSON body."""


@dataclass
class Target:
    name: str
    run: Callable[[bytes], object]
    allowed: tuple[type[BaseException], ...]
    """The exceptions `run` may raise (its documented error tree); () for "none at all"."""
    seeds: list[bytes] = field(default_factory=list)
    generate: Callable | None = None
    """rng -> bytes; default `mutate.mutant(rng, seeds)`."""

    def input(self, rng) -> bytes:
        return self.generate(rng) if self.generate else mutate.mutant(rng, self.seeds)


# --- transactions -------------------------------------------------------------------------------

def _signed_legacy(nonce: int, key: bytes, *, eip155: bool = True, data: bytes = b"", to: bytes = b"\x22" * 20) -> bytes:
    items = [_u(nonce), _u(10**9), _u(100_000), to, _u(1), data]
    if eip155:
        v, r, s = sign(keccak256(encode_items(items + [_u(CHAIN_ID), b"", b""])), key)
        v += CHAIN_ID * 2 + 35
    else:
        v, r, s = sign(keccak256(encode_items(items)), key)
        v += 27
    return encode_items(items + [_u(v), _u(r), _u(s)])


def _signed_typed(tx_type: int, nonce: int, key: bytes, *, to: bytes = b"\x22" * 20, data: bytes = b"",
                  access_list: list | None = None) -> bytes:
    fees = [_u(10**9)] if tx_type == 1 else [_u(2 * 10**9), _u(10 * 10**9)]
    items = [_u(CHAIN_ID), _u(nonce), *fees, _u(200_000), to, _u(1), data, access_list or []]
    return _sign_typed(tx_type, items, key)


def _sign_typed(tx_type: int, items: list, key: bytes) -> bytes:
    v, r, s = sign(keccak256(bytes([tx_type]) + encode_items(items)), key)
    return bytes([tx_type]) + encode_items(items + [_u(v), _u(r), _u(s)])


def _u(n: int) -> bytes:
    return n.to_bytes((n.bit_length() + 7) // 8, "big")


ACCESS_LIST = [[b"\x33" * 20, [b"\x00" * 32, b"\x01" * 32]], [b"\x44" * 20, []]]
TX_SEEDS = [
    _signed_legacy(0, KEYS[0]),
    _signed_legacy(1, KEYS[1], eip155=False),
    _signed_legacy(2, KEYS[2], data=b"\x60\x00" * 8, to=b""),
    _signed_typed(1, 0, KEYS[0], access_list=ACCESS_LIST),
    _signed_typed(2, 3, KEYS[1], access_list=ACCESS_LIST, data=b"\xa9\x05\x9c\xbb" + b"\x00" * 64),
    _signed_typed(2, 4, KEYS[2], to=b"", data=b"\x60\x80" * 20),
]


def _resigned_tx(rng) -> bytes:
    """A typed or legacy transaction whose fields are mutated and then signed for real, so the
    decoder gets past recovery to the field checks (fee cap, initcode, intrinsic gas, gas limit)."""
    seed = rng.choice(TX_SEEDS)
    key = rng.choice(KEYS)
    if seed[0] >= 0xC0:
        items = rlp.decode(seed)[:6]
        items = mutate._mutate_tree(rng, items) if rng.random() < 0.8 else items
        if not isinstance(items, list):
            return mutate.mutant(rng, TX_SEEDS)
        v, r, s = sign(keccak256(rlp.encode(items + [_u(CHAIN_ID), b"", b""])), key)
        return rlp.encode(items + [_u(v + CHAIN_ID * 2 + 35), _u(r), _u(s)])
    items = rlp.decode(seed[1:])[:-3]
    items = mutate._mutate_tree(rng, items)
    if not isinstance(items, list):
        return mutate.mutant(rng, TX_SEEDS)
    v, r, s = sign(keccak256(seed[:1] + rlp.encode(items)), key)
    return seed[:1] + rlp.encode(items + [_u(v), _u(r), _u(s)])


def _tx_input(rng) -> bytes:
    return _resigned_tx(rng) if rng.random() < 0.3 else mutate.mutant(rng, TX_SEEDS)


# --- blocks -------------------------------------------------------------------------------------

def _block(height: int, proposer: bytes, raws: list[bytes]) -> Block:
    txs = tuple(decode_transaction(raw, CHAIN_ID) for raw in raws)
    return Block(Header(b"\x11" * 32, height, 1_700_000_000 + height, proposer, ZERO_HASH, ZERO_HASH, ZERO_HASH,
                        EMPTY_BLOOM, GAS_LIMIT, 21_000 * len(txs), 10**9, b"\x00" * 8), txs)


BLOCKS = [_block(HEIGHT, VALIDATORS.proposer(HEIGHT, 0), []), _block(HEIGHT, VALIDATORS.proposer(HEIGHT, 0), TX_SEEDS[:3]),
          _block(HEIGHT + 1, VALIDATORS.proposer(HEIGHT + 1, 0), TX_SEEDS[3:])]
BLOCK_SEEDS = [b.encode() for b in BLOCKS]


def _decode_block(data: bytes) -> None:
    Block.decode(data, CHAIN_ID)


# --- votes, proposals, certificates -------------------------------------------------------------

def _vote(i: int, step: Step, height: int = HEIGHT, round_: int = 0, block_hash: bytes | None = None) -> Vote:
    block_hash = BLOCKS[0].hash if block_hash is None else block_hash
    return Vote.create(CHAIN_ID, step, height, round_, block_hash, KEYS[i], ADDRESSES[i])


VOTE_SEEDS = [_vote(0, Step.PREVOTE).encode(), _vote(1, Step.PRECOMMIT, round_=3).encode(),
              _vote(2, Step.PREVOTE, block_hash=b"").encode(), _vote(3, Step.PRECOMMIT, height=HEIGHT + 1).encode()]


def _proposal(block: Block, round_: int = 0, pol_round: int = -1) -> Proposal:
    proposer = VALIDATORS.proposer(block.number, round_)
    return Proposal.create(CHAIN_ID, block.number, round_, block.hash, pol_round, KEY_OF[proposer], proposer)


PROPOSALS = [(_proposal(BLOCKS[0]), BLOCKS[0]), (_proposal(BLOCKS[1], 2, 1), BLOCKS[1]), (_proposal(BLOCKS[2]), BLOCKS[2])]
PROPOSAL_SEEDS = [p.encode() for p, _ in PROPOSALS]

CERTIFICATES = [CommitCertificate.from_votes([_vote(i, Step.PRECOMMIT) for i in range(n)]) for n in (3, 4)]
CERTIFICATE_SEEDS = [c.encode() for c in CERTIFICATES]


def _decode_vote(data: bytes) -> None:
    Vote.decode(data).verify(CHAIN_ID)


def _decode_proposal(data: bytes) -> None:
    Proposal.decode(data).verify(CHAIN_ID)


def _decode_certificate(data: bytes) -> None:
    """Decode, then verify as sync does (against the set and the block it claims to finalise)."""
    certificate = CommitCertificate.decode(data)
    certificate.verify(CHAIN_ID, VALIDATORS, HEIGHT, BLOCKS[0].hash)


# --- gossip checks ------------------------------------------------------------------------------

GOSSIP_PROPOSAL_SEEDS = [encode_proposal(p, b) for p, b in PROPOSALS]
EVIDENCE_SEEDS = [
    DuplicateVote.of(_vote(0, Step.PREVOTE), _vote(0, Step.PREVOTE, block_hash=BLOCKS[1].hash)).encode(),
    DuplicateVote.of(_vote(2, Step.PRECOMMIT, round_=1), _vote(2, Step.PRECOMMIT, round_=1, block_hash=b"")).encode(),
    DuplicateProposal.of(_proposal(BLOCKS[0]), _proposal(BLOCKS[1])).encode(),
]
BLOCK_SEEDS.append(BLOCKS[2].with_evidence(tuple(EVIDENCE_SEEDS)).encode())  # a header with an evidence root
GOSSIP_TX_SEEDS = [rlp.encode(TX_SEEDS[:3]), rlp.encode(TX_SEEDS[3:]), rlp.encode([TX_SEEDS[0]])]


POOLED = {tx.hash: tx for block in BLOCKS for tx in block.transactions}
"""What a pool would hold: the seed blocks' transactions, decoded and verified."""


def _validators_at(height: int) -> ValidatorSet | None:
    return VALIDATORS if height <= HEIGHT else None  # HEIGHT+1.. is an undecided range


def _gossip(data: bytes) -> str:
    """The three topic checks on the same bytes: each must answer a verdict, never raise."""
    kind = data[:1]
    body = data[1:]
    if kind == b"v":
        return check_vote(body, chain_id=CHAIN_ID, validators_at=_validators_at, current_height=HEIGHT).reason
    elif kind == b"p":
        return check_proposal(body, chain_id=CHAIN_ID, validators_at=_validators_at, current_height=HEIGHT).reason
    elif kind == b"s":  # the pool holds the seeds' transactions: Block.decode's `known` path
        return check_proposal(body, chain_id=CHAIN_ID, validators_at=_validators_at, current_height=HEIGHT,
                              known=POOLED.get).reason
    elif kind == b"e":
        return check_evidence(body, chain_id=CHAIN_ID, validators_at=_validators_at, current_height=HEIGHT,
                              is_known=lambda offence: False).reason
    else:
        return check_transactions(body, chain_id=CHAIN_ID, gas_limit=GAS_LIMIT, is_known=lambda tx_hash: False).reason


def _compact(block: Block) -> bytes:
    """A block as a compact proposal carries it: [header fields, [tx hash, ...], [evidence, ...]]."""
    return rlp.encode([block.header.raw_fields(), [tx.hash for tx in block.transactions], list(block.evidence)])


def _resigned_proposal(rng) -> bytes:
    """[proposal, mutated compact block] with the proposal signed for real by the right proposer,
    over the mutated header's hash when it still decodes: what a faulty validator can send."""
    _, block = rng.choice(PROPOSALS)
    data = mutate.mutant(rng, [_compact(block)] + [_compact(b) for b in BLOCKS])
    try:
        items = rlp.decode(data)
        header = Header.from_fields(items[0])
        if len(items) != 3:
            raise ValueError("not a compact block")
        block_hash, height = header.hash, header.number if rng.random() < 0.8 else HEIGHT
    except (SidechainError, rlp.DecodingError, ValueError, TypeError, IndexError, KeyError):
        items, block_hash, height = [data], keccak256(data), rng.choice((HEIGHT, HEIGHT + 1, HEIGHT + 2))
    if not isinstance(height, int) or height > 2**64:
        height = HEIGHT
    round_ = rng.choice((0, 0, 1, 7, 2**32))
    proposer = VALIDATORS.proposer(height, round_)
    proposal = Proposal.create(CHAIN_ID, height, round_, block_hash, rng.choice((-1, 0, 3)), KEY_OF[proposer], proposer)
    return rlp.encode([proposal.encode()] + list(items))


def _gossip_input(rng) -> bytes:
    r = rng.random()
    if r < 0.3:
        return b"v" + mutate.mutant(rng, VOTE_SEEDS)
    if r < 0.55:
        return rng.choice((b"p", b"s")) + mutate.mutant(rng, GOSSIP_PROPOSAL_SEEDS)
    if r < 0.75:
        return rng.choice((b"p", b"s")) + _resigned_proposal(rng)
    if r < 0.8:
        return b"t" + rlp.encode([_tx_input(rng) for _ in range(rng.randrange(1, 4))])
    if r < 0.9:
        return b"e" + mutate.mutant(rng, EVIDENCE_SEEDS)
    return b"t" + mutate.mutant(rng, GOSSIP_TX_SEEDS)


# --- sync ---------------------------------------------------------------------------------------

SYNC_SEEDS = [
    sync.PeerStatus(HEIGHT, BLOCKS[0].hash, b"\x55" * 32).encode(),
    sync.encode_blocks_request(1, 64),
    sync.encode_blocks_response([(BLOCKS[0].encode(), CERTIFICATES[0].encode())]),
    sync.encode_blocks_response([(BLOCKS[1].encode(), CERTIFICATES[1].encode()), (BLOCKS[2].encode(), b"")]),
]


def _sync(data: bytes) -> None:
    """Every sync decoder on the same bytes, then what the syncer does with each served pair."""
    for decode in (sync.PeerStatus.decode, sync.decode_blocks_request):
        try:
            decode(data)
        except InvalidBlock:
            pass
    for block_bytes, certificate_bytes in sync.decode_blocks_response(data):
        try:
            block = Block.decode(block_bytes, CHAIN_ID)
            CommitCertificate.decode(certificate_bytes).verify(CHAIN_ID, VALIDATORS, block.number, block.hash)
        except (InvalidBlock, InvalidTransaction):  # InvalidCertificate is an InvalidBlock
            pass


# --- WAL ----------------------------------------------------------------------------------------

def _frame(payload: bytes) -> bytes:
    return len(payload).to_bytes(4, "big") + keccak256(payload)[:4] + payload


WAL_RECORDS = [
    rlp.encode([wal_module.PROPOSAL, [PROPOSALS[1][0].encode(), PROPOSALS[1][1].encode()]]),
    rlp.encode([wal_module.VOTE, [VOTE_SEEDS[0]]]),
    rlp.encode([wal_module.TIMEOUT, [int(Step.PREVOTE), HEIGHT, 0]]),
]
WAL_SEEDS = [b"".join(_frame(r) for r in WAL_RECORDS), _frame(WAL_RECORDS[1]) + _frame(WAL_RECORDS[2])[:-3]]


class _WalFile:
    """A WriteAheadLog over one temporary directory, its height file rewritten per input."""

    def __init__(self) -> None:
        self.dir = tempfile.TemporaryDirectory(prefix="sidechain-fuzz-wal-")
        self.wal = wal_module.WriteAheadLog(self.dir.name, CHAIN_ID)
        self.path = self.wal._path(HEIGHT)

    def __call__(self, data: bytes) -> None:
        """What the driver calls on a restart (`open_height`: decode every record, stop at the
        first unreadable one and cut it off); a second replay must then read the same records."""
        self.path.write_bytes(data)
        records = self.wal.open_height(HEIGHT)
        self.wal.close()
        if self.wal.replay(HEIGHT) != records or self.path.stat().st_size > len(data):
            raise Crash("the WAL cut at an unreadable record does not replay the same records")


def _wal_input(rng) -> bytes:
    """Framed files mutated at the byte level (torn, flipped) or framed mutated records (a record
    whose checksum holds but whose content is not what this version writes)."""
    if rng.random() < 0.5:
        return mutate.mutant(rng, WAL_SEEDS)
    records = [mutate.mutant(rng, WAL_RECORDS) if rng.random() < 0.7 else rng.choice(WAL_RECORDS)
               for _ in range(rng.randrange(1, 4))]
    return b"".join(_frame(r) for r in records)


# --- the table ----------------------------------------------------------------------------------

def build(name: str) -> Target:
    """Each target on its own: building the RPC one opens a LevelDB chain."""
    if name == "rpc":
        from sidechain.devtools.fuzz.rpc_target import RpcTarget  # opens a LevelDB chain: only when asked for

        rpc = RpcTarget()
        return Target("rpc", rpc, (), generate=rpc.input)
    if name == "wal":
        return Target("wal", _WalFile(), (), WAL_SEEDS, _wal_input)
    return {
        "transaction": lambda: Target("transaction", lambda d: decode_transaction(d, CHAIN_ID, GAS_LIMIT),
                                      (InvalidTransaction,), TX_SEEDS, _tx_input),
        "block": lambda: Target("block", _decode_block, (InvalidBlock, InvalidTransaction), BLOCK_SEEDS),
        "vote": lambda: Target("vote", _decode_vote, (InvalidVote,), VOTE_SEEDS),
        "proposal": lambda: Target("proposal", _decode_proposal, (InvalidVote,), PROPOSAL_SEEDS),
        "certificate": lambda: Target("certificate", _decode_certificate, (InvalidCertificate,), CERTIFICATE_SEEDS),
        "gossip": lambda: Target("gossip", _gossip, (), generate=_gossip_input),
        "sync": lambda: Target("sync", _sync, (InvalidBlock,), SYNC_SEEDS),
    }[name]()


NAMES = ("transaction", "block", "vote", "proposal", "certificate", "gossip", "sync", "wal", "rpc")
