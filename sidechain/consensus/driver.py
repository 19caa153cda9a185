"""The consensus driver: the one writer of the chain, owner of timers, signatures and the WAL.

It feeds checked messages into the pure `ConsensusMachine` and carries out the actions it returns:
build and sign proposals, sign votes (through the double-sign guard), start timers, commit decided
blocks with their certificates. The first vote of each validator per round and step counts; a
second one for another block, or a second proposal of a round, goes to the evidence pool
(evidence_pool.py) as proof of equivocation, to be gossiped and committed in a later block. A
one-validator network runs the very same path; its votes simply have no peer to travel to.

What is not the round's business lives beside it: the timers (timers.py), when the next height
starts (pacing.py), re-sending when nothing moves (watchdog.py), candidate blocks (candidates.py),
messages of later heights (future.py). The driver reads and commits the chain through
`interfaces.ChainWriter` and takes transactions from an `interfaces.TxPool`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from ..chain.blocks import Block
from ..errors import InvalidVote
from ..execution.executor import ExecutedBlock
from ..interfaces import ChainWriter, TxPool
from .broadcast import ConsensusNetwork, NoNetwork
from .candidates import Candidates
from .evidence import Evidence
from .evidence_pool import EvidencePool
from .future import FutureBuffer, refusal
from .machine import CommitAction, ConsensusMachine, ProposalEvent, ProposeAction, ScheduleTimeout, TimeoutEvent, VoteAction, VoteEvent
from .messages import CommitCertificate, Proposal, Step, ValidatorSet, Vote
from .pacing import START_NOW, BlockPacer, fit_size
from .signer import DoubleSignRefused, Signer
from .status import ConsensusStatus
from .timeouts import Timeouts
from .timers import Timers
from .wal import ProposalRecord, WalRecord, WriteAheadLog
from .watchdog import RebroadcastWatchdog

log = logging.getLogger("sidechain.consensus")


class ConsensusDriver:
    def __init__(
        self,
        chain: ChainWriter,
        mempool: TxPool,
        signer: Signer | None,
        wal: WriteAheadLog,
        *,
        network: ConsensusNetwork | None = None,
        timeouts: Timeouts = Timeouts(),
        block_time: float = 1.0,
        on_commit: Callable[[ExecutedBlock], None] = lambda executed: None,
        on_invalid_block: Callable[[Block, str], None] = lambda block, reason: None,
        on_evidence: Callable[[Evidence], None] = lambda evidence: None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.chain, self.mempool, self.signer, self.wal = chain, mempool, signer, wal
        self.network = network or NoNetwork()
        self.timeouts, self.on_commit, self.clock = timeouts, on_commit, clock
        self.chain_id = chain.genesis.chain_id
        self.machine: ConsensusMachine | None = None
        self.evidence = EvidencePool(self.chain_id, chain.evidence_index(), chain.validators_at, on_new=on_evidence)
        self._candidates = Candidates(chain, self.evidence, clock, on_invalid_block)
        self._votes: dict[tuple[int, int, bytes], Vote] = {}
        self._proposals: dict[int, Proposal] = {}
        """The proposal taken for each round of this height (a second one is evidence, not news)."""
        self._future = FutureBuffer(chain)
        """Messages for a later height, bounded per signer (sidechain.consensus.future)."""
        self._timers = Timers()
        self._height_started = 0.0
        self._first_proposal_at: float | None = None
        """When the first proposal of this height reached this node (pacing's anchor)."""
        self._replaying = False
        self.last_commit_latency = 0.0
        self._pacer = BlockPacer(block_time, lambda: mempool.pending_count > 0, clock)
        self._watchdog = RebroadcastWatchdog(timeouts.rebroadcast, self._position, self.network, self._timers.guarded)

    # --- lifecycle ------------------------------------------------------------------------------

    def start(self) -> None:
        self._start_height(self.chain.height + 1)
        self._watchdog.start()

    def stop(self) -> None:
        self._timers.stop()
        self._watchdog.stop()
        self.wal.close()

    def _position(self) -> tuple | None:
        m = self.machine
        return (m.height, m.round, m.step) if m is not None else None

    @property
    def height(self) -> int:
        """The height being decided (the next one, between a commit and its start)."""
        return self.machine.height if self.machine is not None else self.chain.height + 1

    @property
    def height_started(self) -> float:
        return self._height_started

    @property
    def validators(self) -> ValidatorSet:
        """The set voting on the height being decided (it changes after a checkpoint range's last block)."""
        return self.chain.validators_at(self.chain.height + 1)

    def status(self) -> ConsensusStatus:
        m = self.machine
        validators = self.validators
        height = m.height if m else self.chain.height + 1
        return ConsensusStatus(
            height=height,
            round=m.round if m else 0,
            step=Step(m.step) if m else Step.PROPOSE,
            locked_round=m.locked_round if m else -1,
            valid_round=m.valid_round if m else -1,
            proposer=validators.proposer(height, max(m.round, 0) if m else 0),
            validators=tuple(validators.addresses),
            is_validator=bool(self.signer and validators.power_of(self.signer.address)),
            pending_evidence=len(self.evidence),
            last_commit_seconds=self.last_commit_latency,
        )

    def _start_height(self, height: int) -> None:
        self._timers.cancel()
        me = self.signer.address if self.signer else None
        self.machine = ConsensusMachine(height, self.validators, me)
        self._candidates.clear()
        self._votes, self._proposals = {}, {}
        self._watchdog.new_height()
        self._height_started = self.clock()
        self._first_proposal_at = None
        logged = self.wal.open_height(height)
        self._replaying = True
        try:
            self._run(self.machine.start_round(0))
            self._replay_wal(logged)
        finally:
            self._replaying = False
        if self.machine is not None and self.machine.height == height:
            self._resume()
        for message in self._future.drain():
            self._dispatch(*message)

    def _resume(self) -> None:
        """After a (re)start: carry out what replay held back for the current round and step."""
        m = self.machine
        if m.step == Step.PROPOSE and self._is_mine(self.validators.proposer(m.height, m.round)) and m.round not in m.proposals:
            self._run([ProposeAction(m.height, m.round, m.valid_value, m.valid_round if m.valid_value else -1)])
        else:
            self._schedule(ScheduleTimeout(m.step, m.height, m.round))

    def _replay_wal(self, records: list[WalRecord]) -> None:
        """Rebuild this height's round state from what was logged before a restart (the WAL has
        already stopped at the first record it could not read)."""
        self._replaying = True
        try:
            for record in records:
                if isinstance(record, ProposalRecord):
                    self.receive_proposal(record.proposal, record.block, verified=True)  # checked before it was logged
                elif isinstance(record, Vote):
                    self.receive_vote(record, verified=True)  # checked before it was logged
                else:
                    self._on_timeout(record)
        finally:
            self._replaying = False

    # --- inputs ---------------------------------------------------------------------------------

    def receive_proposal(self, proposal: Proposal, block: Block, *, verified: bool = False) -> None:
        """A proposal with its block, from a peer or from this node; checked, then handed in.
        `verified`: its signature was checked already (gossip validation, our own, the WAL)."""
        size = 1024 + sum(len(tx.raw) for tx in block.transactions) + sum(len(e) for e in block.evidence)
        self._dispatch(proposal.height, proposal.round, proposal.proposer, size, self._on_proposal,
                       (proposal, block, self.clock(), verified))

    def receive_vote(self, vote: Vote, *, verified: bool = False) -> None:
        """`verified`: gossip validation already checked the signature and the signer."""
        self._dispatch(vote.height, vote.round, vote.validator, 256, self._on_vote, (vote, verified))

    def receive_duplicate_proposal(self, proposal: Proposal) -> None:
        """A proposal for a round of this height that already has one (gossip IGNOREs it, never
        executed): evidence if its proposer signed another block there."""
        m = self.machine
        first = self._proposals.get(proposal.round) if m is not None and proposal.height == m.height else None
        if first is not None and not self._timers.stopped:
            try:
                self._gossip_evidence(self.evidence.second_proposal(first, proposal, m.height))
            except InvalidVote as exc:
                log.warning("rejected consensus message: %s", exc, extra={"height": m.height, "round": m.round})

    def receive_evidence(self, evidence: Evidence) -> None:
        """Evidence a peer gossiped, verified by the gossip check (consensus.gossip.check_evidence)."""
        self.evidence.add(evidence, self.height)

    def knows_evidence(self, offence: bytes) -> bool:
        """Whether evidence of this offence is pending here or in a final block (gossip IGNOREs it)."""
        return self.evidence.knows(offence)

    def _gossip_evidence(self, evidence: Evidence | None) -> None:
        if evidence is not None:
            self.network.broadcast_evidence(evidence)

    def refusal(self, height: int, round_: int, signer: bytes, size: int, *, proposal: bool = False) -> str | None:
        """Why a message would not be kept now (gossip IGNOREs it rather than relay it), or None."""
        return refusal(self.machine, self.height, self._future, height, round_, signer, size, proposal=proposal)

    def _dispatch(self, height: int, round_: int, signer: bytes, size: int, handler: Callable, args: tuple) -> None:
        """Hand a message of `height` to `handler` now, keep it for later, or drop it."""
        m = self.machine
        if self._timers.stopped or height < self.height:
            return
        try:
            if height > self.height or m is None:
                if self.refusal(height, round_, signer, size) is None:
                    if not args[-1]:  # a forger must not use up a validator's quota (verified: checked already)
                        args[0].verify(self.chain_id)
                    self._future.add(signer, size, (height, round_, signer, size, handler, args))
                return
            handler(*args)
        except InvalidVote as exc:
            log.warning("rejected consensus message: %s", exc, extra={"height": self.height, "round": m.round if m else "-"})

    def _on_proposal(self, proposal: Proposal, block: Block, arrived: float, verified: bool) -> None:
        m = self.machine
        if proposal.proposer != m.validators.proposer(m.height, proposal.round):
            raise InvalidVote(f"proposal of round {proposal.round} from 0x{proposal.proposer.hex()}, not its proposer")
        if proposal.round in m.proposals or not m.admits(proposal.round, proposal.proposer):
            self.receive_duplicate_proposal(proposal)
            return  # one proposal per (height, round, proposer), executed and logged once; far rounds dropped
        if not verified:
            proposal.verify(self.chain_id)
        if proposal.block_hash != block.hash:
            raise InvalidVote("proposal signs a different block than the one it carries")
        self._proposals[proposal.round] = proposal
        if self._first_proposal_at is None or arrived < self._first_proposal_at:
            self._first_proposal_at = arrived  # a proposal kept for this height before it started counts from its arrival
        if self._is_mine(proposal.proposer):
            self._watchdog.took_proposal(proposal, block)
        if not self._replaying:
            self.wal.append(ProposalRecord(proposal, block), sync=self._is_mine(proposal.proposer))
        valid = self._candidates.is_valid(block, self.validators, self.height)
        timely = valid and self._candidates.is_timely(block, self.height)
        self._run(self.machine.handle(
            ProposalEvent(proposal.round, block.hash, proposal.pol_round, proposal.proposer, valid, timely)))

    def _on_vote(self, vote: Vote, verified: bool) -> None:
        if not verified and self.validators.power_of(vote.validator) == 0:
            raise InvalidVote(f"vote from 0x{vote.validator.hex()}, which is not a validator")
        key = (vote.round, int(vote.step), vote.validator)
        if key in self._votes:  # the first vote counts; another for a different block is evidence
            self._gossip_evidence(self.evidence.second_vote(self._votes[key], vote, self.machine.height, verified=verified))
            return
        if not self.machine.admits(vote.round, vote.validator):
            return  # a round beyond the window and the signer's catch-up rounds is dropped
        if not verified:
            vote.verify(self.chain_id)
        self._votes[key] = vote
        if self._is_mine(vote.validator):
            self._watchdog.took_vote(vote)
        if not self._replaying:
            self.wal.append(vote, sync=self._is_mine(vote.validator))
        self._run(self.machine.handle(VoteEvent(vote.step, vote.round, vote.block_hash, vote.validator)))

    def _on_timeout(self, event: TimeoutEvent) -> None:
        if self.machine is None or event.height != self.machine.height or self._timers.stopped:
            return
        if not self._replaying:
            self.wal.append(event)
        self._run(self.machine.handle(event))

    def _is_mine(self, address: bytes) -> bool:
        return self.signer is not None and address == self.signer.address

    # --- actions --------------------------------------------------------------------------------

    def _run(self, actions: list) -> None:
        for action in actions:
            if isinstance(action, ProposeAction):
                self._propose(action)
            elif isinstance(action, VoteAction):
                self._vote(action)
            elif isinstance(action, ScheduleTimeout):
                self._schedule(action)
            elif isinstance(action, CommitAction):
                self._commit(action)

    def _propose(self, action: ProposeAction) -> None:
        if self._replaying:
            return  # the logged proposal follows in the replay, or _resume proposes afresh
        executed = self._candidates.get(action.block_hash) if action.block_hash is not None else None
        if executed is None:
            candidates = self.mempool.select(self.chain.state(), self.chain.next_base_fee(), self.chain.genesis.gas_limit)
            executed = self._candidates.build(self.signer.address, int(self.clock()), fit_size(candidates))
        try:
            proposal = self.signer.sign_proposal(action.height, action.round, executed.block.hash, action.pol_round)
        except DoubleSignRefused as exc:
            # Signed another block here before a crash: sit this round out; the timeout moves on.
            log.error("%s", exc, extra={"height": action.height, "round": action.round})
            self._schedule(ScheduleTimeout(Step.PROPOSE, action.height, action.round))
            return
        block = executed.block
        self._loop_back(lambda: (self.receive_proposal(proposal, block, verified=True), self.network.broadcast_proposal(proposal, block)))

    def _vote(self, action: VoteAction) -> None:
        try:
            vote = self.signer.sign_vote(action.step, action.height, action.round, action.block_hash)
        except DoubleSignRefused as exc:
            # Replaying the WAL after a crash re-derives votes the signer already signed past: expected.
            log.log(logging.INFO if self._replaying else logging.ERROR, "%s", exc,
                    extra={"height": action.height, "round": action.round})
            return
        if self._replaying:
            self.receive_vote(vote, verified=True)
        else:
            self._loop_back(lambda: (self.receive_vote(vote, verified=True), self.network.broadcast_vote(vote)))

    def _loop_back(self, deliver_then_send: Callable[[], object]) -> None:
        """Take our own message in (the WAL logs it) and then send it, on the next loop turn rather
        than inside this call chain, so proposing, voting and committing a big block leave room for
        the RPC server between steps."""
        self._timers.soon(deliver_then_send)

    def _schedule(self, action: ScheduleTimeout) -> None:
        if self._replaying:
            return
        self._timers.later(self.timeouts.duration(action.step, action.round), self._on_timeout,
                    TimeoutEvent(action.step, action.height, action.round))

    def _commit(self, action: CommitAction) -> None:
        executed = self._candidates.get(action.block_hash)
        votes = [self._votes[(action.round, int(Step.PRECOMMIT), v)] for v in action.precommitters]
        self._finalize(executed, CommitCertificate.from_votes(votes).encode(), action.round)
        now = self.clock()
        self.last_commit_latency = now - self._height_started
        if self._replaying:
            self._start_height_soon(action.height + 1, 0.0)
        else:
            self._pace_next_height(action.height + 1)

    def import_synced(self, executed: ExecutedBlock, certificate: bytes) -> None:
        """A block final elsewhere, proven by its certificate (the syncer checked it): commit it and
        leave the height it closes."""
        self._finalize(executed, certificate, None)
        if not self._timers.stopped:
            self._start_height_soon(executed.block.number + 1, 0.0)

    def _finalize(self, executed: ExecutedBlock, certificate: bytes, round_: int | None) -> None:
        self.evidence.index_block(executed.block)
        self.chain.commit(executed, certificate)
        self.evidence.committed(executed.block)
        self.mempool.on_block(executed.block.transactions, self.chain.state(), self.chain.next_base_fee(), time.monotonic())
        log.info(
            "committed block %d 0x%s txs=%d%s", executed.block.number, executed.block.hash.hex()[:16],
            len(executed.block.transactions), "" if round_ is not None else " (synced)",
            extra={"height": executed.block.number, "round": round_ if round_ is not None else "-"},
        )
        try:
            self.on_commit(executed)
        except Exception:
            log.exception("commit listener failed")

    def _pace_next_height(self, height: int) -> None:
        """Start `height` when the pacer says (consensus.pacing): early if transactions wait."""
        def check() -> None:
            delay = self._pacer.next_check(self._height_started)
            if delay is START_NOW:
                self._start_height(height)
            else:
                self._timers.later(delay, check)

        self._timers.cancel()
        self.machine = None
        self._timers.later(self._pacer.first_check(self._height_started, self._first_proposal_at), check)

    def _start_height_soon(self, height: int, delay: float) -> None:
        self._timers.cancel()
        self.machine = None
        self._timers.later(delay, self._start_height, height)
