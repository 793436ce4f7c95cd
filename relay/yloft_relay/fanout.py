"""Ordered fan-out: every space's updates reach this process's peers in seq order.

With one process every commit is this process's own and seqs arrive in order.
With several processes on one PostgreSQL log, other processes commit seqs in
between: a commit of seq S here means every seq below S is already committed
(the per-space counter row), but not yet delivered here. So each loaded space
keeps a cursor ``delivered`` and the highest seq ``known`` to exist (own commits,
NOTIFY hints, polls). :meth:`Fanout.pump` walks from the cursor: the next seq is
delivered from this process's own results when it has it (no read: the common
case), otherwise the missing rows are read from the log. An own push is ACKed
at its place in that order, so a client never gets an ACK ahead of a lower
UPDATE. Rows merged by compaction come back as one row with the highest merged
seq, a superset of the ones it replaced.

Example (inside a running relay)::

    fanout.committed(results)   # from the writer, on the loop
    fanout.hint("team", 42)     # another process committed up to 42
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from yloft.sync import protocol as p
from yloft.sync.closecodes import CloseCode

from . import ysync
from .logbase import PushJob, Result
from .peer import Peer, deliver

if TYPE_CHECKING:
    from .storage import Reader

log = logging.getLogger("yloft_relay")


@dataclass(eq=False)
class Space:
    """Who is connected to one space on this process, and its fan-out cursor."""

    name: str
    peers: set[Peer] = field(default_factory=set)
    rooms: dict[tuple[str, str], set[Peer]] = field(default_factory=dict)
    delivered: int | None = None
    """Highest seq fanned out here; None until read from the log."""
    known: int = 0
    """Highest seq known to be committed."""
    waiting: dict[int, Result] = field(default_factory=dict)
    """This process's own committed pushes not yet delivered, by seq."""
    after: dict[int, list[tuple[Peer, bytes]]] = field(default_factory=dict)
    """ACKs of duplicate pushes, sent right after the delivery of the seq they wait for."""
    pumping: bool = False
    hinted_at: float = 0.0

    def idle(self) -> bool:
        return not self.peers and not self.rooms


class Fanout:
    """The per-process fan-out over ``spaces``; all methods run on the event loop."""

    def __init__(
        self,
        spaces: dict[str, Space],
        reader: Callable[[], Reader],
        on_lag: Callable[[float], None] | None = None,
        inflight: Callable[[str, int], bool] = lambda space, seq: False,
    ) -> None:
        self.spaces = spaces
        self.reader = reader
        self.inflight = inflight
        """True for a seq this process committed whose result has not reached us yet."""
        self.on_lag = on_lag
        self._tasks: set[asyncio.Task[None]] = set()

    async def ensure_cursor(self, space: Space) -> None:
        """Set ``space.delivered`` to the committed head if it is unknown yet.

        Called after a peer or room registers and before it reads its catch-up, so
        everything committed later reaches it live (held back until its catch-up
        is sent, see :meth:`Peer.live`).
        """
        if space.delivered is not None:
            return
        heads = await asyncio.to_thread(self.reader().heads, [space.name])
        if space.delivered is None:
            head = space.delivered = heads[space.name]
            space.known = max(space.known, head)
            for seq in sorted(s for s in space.waiting if s <= head):  # before any catch-up
                job = space.waiting.pop(seq).job
                if job.origin is not None and job.msg_id:
                    job.origin.send(p.encode(p.Ack(job.msg_id, seq)))
                self._send_after(space, seq)
            self._kick(space)

    def committed(self, results: list[Result]) -> None:
        """This process's pushes are durable: duplicates are ACKed now, the rest in order."""
        touched: list[Space] = []
        for res in results:
            job = res.job
            origin: Peer | None = job.origin
            if res.seq < 0:
                if origin is not None:
                    origin.fail(
                        CloseCode.INTERNAL_ERROR,
                        "the relay could not store the update; retry later",
                    )
                failed = self.spaces.get(job.space)
                if failed is not None:  # its rows may exist after all (a lost COMMIT reply)
                    touched.append(failed)
                continue
            if res.seq == 0:
                if origin is not None and job.msg_id:
                    ack = p.encode(p.Ack(job.msg_id, 0))
                    dup_space = self.spaces.get(job.space)
                    if dup_space is not None and dup_space.waiting:  # ACKs stay in order
                        dup_space.after.setdefault(max(dup_space.waiting), []).append((origin, ack))
                    else:
                        origin.send(ack)
                continue
            space = self.spaces.get(job.space)
            if space is None:
                continue
            space.waiting[res.seq] = res
            space.known = max(space.known, res.seq)
            touched.append(space)
        for space in touched:
            self._kick(space)

    def hint(self, name: str | None, head: int) -> None:
        """Another process committed ``name`` up to ``head`` (None: poll every space)."""
        if name is None:
            self._spawn(self.poll())
            return
        space = self.spaces.get(name)
        if space is not None and head > space.known:
            space.known = head
            space.hinted_at = space.hinted_at or time.monotonic()
            self._kick(space)

    async def poll(self) -> None:
        """Read every loaded space's head (covers lost NOTIFYs)."""
        names = list(self.spaces)
        if not names:
            return
        try:
            heads = await asyncio.to_thread(self.reader().heads, names)
        except Exception as exc:
            log.info("fan-out poll failed: %s", exc)
            return
        for name, head in heads.items():
            self.hint(name, head)

    def lag(self) -> int:
        """Seqs committed but not yet fanned out here, summed over loaded spaces."""
        return sum(max(0, s.known - (s.delivered or s.known)) for s in self.spaces.values())

    def _spawn(self, coro: Any) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _kick(self, space: Space) -> None:
        if space.pumping or space.delivered is None:
            return
        while (res := space.waiting.pop(space.delivered + 1, None)) is not None:
            job = res.job  # the common case, delivered at once: our own next seq
            self._deliver(space, res.seq, job)
        if space.delivered < space.known:
            space.pumping = True
            self._spawn(self._pump(space))

    def _send_after(self, space: Space, seq: int) -> None:
        for peer, frame in space.after.pop(seq, ()):
            peer.send(frame)

    async def _pump(self, space: Space) -> None:
        try:
            while space.delivered is not None and space.delivered < space.known:
                nxt = space.delivered + 1
                res = space.waiting.pop(nxt, None)
                if res is not None:
                    self._deliver(space, nxt, res.job)
                    continue
                try:
                    rows, _head = await asyncio.to_thread(
                        self.reader().since, space.name, space.delivered
                    )
                except Exception as exc:
                    log.warning("fan-out of %s waits: reading the log failed: %s", space.name, exc)
                    await asyncio.sleep(0.5)
                    if self.spaces.get(space.name) is not space:
                        break  # unloaded meanwhile
                    continue
                if not rows:  # a stale hint: nothing more is committed yet
                    if not space.waiting:
                        space.known = space.delivered
                    break
                stalled = False
                for seq, collection, doc_id, data in rows:
                    if space.delivered is None or seq <= space.delivered:
                        continue
                    if seq not in space.waiting and self.inflight(space.name, seq):
                        stalled = True  # our own commit: its result (and ACK) is on its way
                        break
                    self._flush_waiting_below(space, seq)
                    mine = space.waiting.pop(seq, None)
                    if mine is not None:
                        self._deliver(space, seq, mine.job)
                    else:
                        foreign = PushJob(space.name, "", 0, collection, doc_id, bytes(data), None)
                        self._deliver(space, seq, foreign)
                if stalled:
                    break
            if space.hinted_at and space.delivered is not None and space.delivered >= space.known:
                if self.on_lag is not None:
                    self.on_lag(time.monotonic() - space.hinted_at)
                space.hinted_at = 0.0
        finally:
            space.pumping = False

    def _flush_waiting_below(self, space: Space, seq: int) -> None:
        """Own pushes whose rows a compaction merged into ``seq``: ACK them first."""
        for s in sorted(k for k in space.waiting if k < seq):
            job = space.waiting.pop(s).job
            self._deliver(space, s, job)

    def _deliver(self, space: Space, seq: int, job: PushJob) -> None:
        """Fan out one committed row: ACK its pusher, send it to the space's peers that
        see it (with its seq) and to its room's peers, except those a room push was
        already written to on arrival (``job.early``; see :meth:`~.server.Relay`)."""
        space.delivered = max(space.delivered or 0, seq)
        origin: Peer | None = job.origin
        collection, doc_id = job.collection, job.doc_id
        if origin is not None and job.msg_id:
            origin.send(p.encode(p.Ack(job.msg_id, seq)))
        if space.after:
            self._send_after(space, seq)
        if space.peers:  # encoded once, written to every receiver (none held in catch-up)
            frame = p.encode_update(seq, collection, doc_id, job.update)
            deliver(
                [
                    peer
                    for peer in space.peers
                    if peer is not origin
                    and peer.sees(collection, doc_id)
                    and not peer.live(seq, frame)
                ],
                frame,
            )
        room = space.rooms.get((collection, doc_id))
        if room:
            late = [peer for peer in room if peer is not origin and (peer.joined > job.early
                    or not peer.may_write(collection, doc_id))]  # fmt: skip
            if late:
                deliver(late, ysync.sync_update(job.update))
