"""Per-key serial execution: one asyncio task per busy conversation key.

Inbox entries of one key run one at a time in inbox ``seq`` order; different keys run
concurrently. A key's slot (queue + worker task) exists only while the key has work: it is
created on demand and removed when its queue empties, so nothing grows with the number of
conversations ever seen (STYLE.md: no lock dictionaries that grow forever).

Ordering across concurrent submits: two ``submit`` calls of one key may finish their inbox
appends in either order. Each append takes a *ticket* when it starts and the entry a *ready*
mark when its append returns (one monotonic counter). The head of a queue only runs when every
append of that key still in flight started after the head's append returned — those will get a
larger seq, so nothing can be inserted ahead of a running entry. Entries are inserted by seq.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from statbot.engine.stores.base import InboxEntry

log = logging.getLogger(__name__)

T = TypeVar("T")
RunEntry = Callable[[InboxEntry], Awaitable[None]]


@dataclass(slots=True)
class _Job:
    ready: int
    entry: InboxEntry | None = None
    op: Callable[[], Awaitable[Any]] | None = None
    future: asyncio.Future[Any] | None = None


@dataclass(slots=True)
class _Slot:
    queue: deque[_Job] = field(default_factory=deque)
    inflight: set[int] = field(default_factory=set)  # tickets of appends in progress
    seqs: set[int] = field(default_factory=set)  # inbox seqs queued or running
    worker: asyncio.Task[None] | None = None
    wake: asyncio.Event = field(default_factory=asyncio.Event)


# Waits between attempts at an entry whose application raised (store outage, engine bug).
RETRY_DELAYS = (0.05, 0.25, 1.0, 4.0, 15.0)


class KeyedRunner:
    def __init__(
        self, run_entry: RunEntry, *, retry_delays: tuple[float, ...] = RETRY_DELAYS
    ) -> None:
        self._run_entry = run_entry
        self.retry_delays = retry_delays
        self._slots: dict[str, _Slot] = {}
        self._clock = itertools.count(1)
        self._quiet = asyncio.Event()
        self._quiet.set()

    def __len__(self) -> int:
        """Keys with work queued, running, or an append in flight."""
        return len(self._slots)

    def busy(self, key: str) -> bool:
        """Whether ``key`` has work here (queued, running, or an append in flight)."""
        return key in self._slots

    # submitting -----------------------------------------------------------------------------
    def begin_append(self, key: str) -> int:
        ticket = next(self._clock)
        self._slot(key).inflight.add(ticket)
        return ticket

    def end_append(self, key: str, ticket: int, entry: InboxEntry | None) -> None:
        """The append of ``ticket`` returned (``entry``) or failed / was a duplicate (None)."""
        slot = self._slots.get(key)
        if slot is None or ticket not in slot.inflight:
            return  # cancel() ran meanwhile (a stop timed out): the entry waits for a restart
        slot.inflight.discard(ticket)
        slot.wake.set()
        if entry is not None:
            self.schedule(entry)
        else:
            self._release(key, slot)

    def schedule(self, entry: InboxEntry) -> bool:
        """Queue an inbox entry (e.g. replayed on start); False when it is already queued."""
        slot = self._slot(entry.key)
        if entry.seq in slot.seqs:
            self._release(entry.key, slot)
            return False
        slot.seqs.add(entry.seq)
        job = _Job(next(self._clock), entry=entry)
        position = len(slot.queue)
        while position > 0:
            before = slot.queue[position - 1].entry
            if before is None or before.seq < entry.seq:
                break
            position -= 1
        slot.queue.insert(position, job)
        self._ensure_worker(entry.key, slot)
        return True

    def post(self, key: str, op: Callable[[], Awaitable[T]]) -> asyncio.Future[T]:
        """Queue ``op`` for ``key``'s turn now (synchronously: ``drain`` waits for it) and
        return the future of its result."""
        slot = self._slot(key)
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        slot.queue.append(_Job(next(self._clock), op=op, future=future))
        self._ensure_worker(key, slot)
        return future

    async def call(self, key: str, op: Callable[[], Awaitable[T]]) -> T:
        """Run ``op`` in ``key``'s turn (after what is queued for it) and return its result."""
        return await self.post(key, op)

    # waiting and stopping -------------------------------------------------------------------
    async def drain(self) -> None:
        """Return once no key has work (queued, running or being appended)."""
        await self._quiet.wait()

    async def cancel(self) -> None:
        """Stop every worker now; queued entries stay in the inbox for the next start."""
        workers = [s.worker for s in self._slots.values() if s.worker is not None]
        for worker in workers:
            worker.cancel()
        for worker in workers:
            with contextlib.suppress(asyncio.CancelledError):
                await worker
        for slot in self._slots.values():
            for job in slot.queue:
                if job.future is not None and not job.future.done():
                    job.future.cancel()
        self._slots.clear()
        self._quiet.set()

    # internals ------------------------------------------------------------------------------
    def _slot(self, key: str) -> _Slot:
        slot = self._slots.get(key)
        if slot is None:
            slot = self._slots[key] = _Slot()
            self._quiet.clear()
        return slot

    def _release(self, key: str, slot: _Slot) -> None:
        if not slot.queue and not slot.inflight and slot.worker is None:
            if self._slots.get(key) is slot:
                del self._slots[key]
            if not self._slots:
                self._quiet.set()

    def _ensure_worker(self, key: str, slot: _Slot) -> None:
        if slot.worker is None:
            slot.worker = asyncio.create_task(self._work(key, slot), name=f"statbot-key-{key}")

    def _next(self, slot: _Slot) -> _Job | None:
        if not slot.queue:
            return None
        head = slot.queue[0]
        if slot.inflight and min(slot.inflight) < head.ready:
            return None  # an earlier append of this key may still get a smaller seq
        return slot.queue.popleft()

    async def _work(self, key: str, slot: _Slot) -> None:
        try:
            while True:
                job = self._next(slot)
                if job is None:
                    if slot.queue:  # waiting for an earlier append to land
                        slot.wake.clear()
                        await slot.wake.wait()
                        continue
                    return
                await self._run(job, slot)
        finally:
            slot.worker = None
            self._release(key, slot)

    async def _run(self, job: _Job, slot: _Slot) -> None:
        if job.entry is not None:
            try:
                await self._run_with_retries(job.entry)
            finally:
                slot.seqs.discard(job.entry.seq)
            return
        assert job.op is not None and job.future is not None
        try:
            result = await job.op()
        except asyncio.CancelledError:
            job.future.cancel()  # nobody may wait forever for an op a stop() interrupted
            raise
        except Exception as exc:
            if not job.future.done():
                job.future.set_exception(exc)
        else:
            if not job.future.done():
                job.future.set_result(result)

    async def _run_with_retries(self, entry: InboxEntry) -> None:
        """A failure here is the store or the engine, not a handler (those are answered in the
        chat): retry with backoff while the key's later entries wait, so order holds through a
        store outage; then leave the entry in the inbox for the next start and go on."""
        for delay in (*self.retry_delays, None):
            try:
                await self._run_entry(entry)
                return
            except Exception:
                if delay is None:
                    log.exception(
                        "giving up on inbox entry %d of %s for now; it stays in the inbox and is"
                        " replayed on the next start",
                        entry.seq,
                        entry.key,
                    )
                    return
                log.warning(
                    "applying inbox entry %d of %s failed; retrying in %.2f s",
                    entry.seq,
                    entry.key,
                    delay,
                    exc_info=True,
                )
                await asyncio.sleep(delay)
