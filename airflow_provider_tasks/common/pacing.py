"""Pacing a burst of coroutines through the event loop: at most so many per turn of the loop.

Thousands of triggers woken together (say, by one shared connection read) would all run in one turn, before any
timer or answer: at 10,000 HTTPS long-polls that stalled the loop over a second (benchmarks/README.md). Free when
no burst is on: a caller that finds room passes without suspending.
"""

from __future__ import annotations

import asyncio
import weakref
from collections import deque

PER_TURN = 64
"""Callers let through per turn of the event loop (each then builds and sends a request: ~0.1 ms)."""


class Turnstile:
    """At most ``per_turn`` callers of :meth:`wait_turn` per loop turn; the rest queue in arrival order."""

    def __init__(self, loop: asyncio.AbstractEventLoop, per_turn: int = PER_TURN) -> None:
        self._loop = loop
        self._per_turn = per_turn
        self._passed = 0
        self._waiting: deque[asyncio.Future[None]] = deque()
        self._turn_scheduled = False

    async def wait_turn(self) -> None:
        if not self._waiting and self._passed < self._per_turn:
            self._passed += 1
            self._schedule_turn()
            return
        waiter = self._loop.create_future()
        self._waiting.append(waiter)
        self._schedule_turn()
        await waiter

    def _schedule_turn(self) -> None:
        if not self._turn_scheduled:
            self._turn_scheduled = True
            self._loop.call_soon(self._next_turn)

    def _next_turn(self) -> None:
        """Runs once per turn while anyone passed or waits: opens the next ``per_turn`` places."""
        self._turn_scheduled = False
        self._passed = 0
        while self._waiting and self._passed < self._per_turn:
            waiter = self._waiting.popleft()
            if not waiter.done():  # a cancelled waiter frees its place
                waiter.set_result(None)
                self._passed += 1
        if self._waiting or self._passed:
            self._schedule_turn()


_TURNSTILES: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Turnstile] = weakref.WeakKeyDictionary()


def turnstile() -> Turnstile:
    """The running loop's turnstile for first requests (one per loop, made on first use)."""
    loop = asyncio.get_running_loop()
    if (gate := _TURNSTILES.get(loop)) is None:
        gate = _TURNSTILES[loop] = Turnstile(loop)
    return gate
