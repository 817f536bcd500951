"""The turnstile that spreads a burst of first requests over turns of the event loop."""

from __future__ import annotations

import asyncio

from airflow_provider_tasks.common.pacing import Turnstile, turnstile


async def _turn_of_each_passage(gate: Turnstile, callers: int) -> list[int]:
    """Start ``callers`` coroutines at once; return, for each, the loop turn it got through in."""
    turn = [0]
    stop = asyncio.Event()

    async def count_turns() -> None:
        while not stop.is_set():
            await asyncio.sleep(0)
            turn[0] += 1

    passed_in: list[int] = []

    async def caller() -> None:
        await gate.wait_turn()
        passed_in.append(turn[0])

    counter = asyncio.create_task(count_turns())
    await asyncio.gather(*(caller() for _ in range(callers)))
    stop.set()
    await counter
    return passed_in


def test_a_burst_passes_a_few_per_turn_in_arrival_order():
    async def main() -> list[int]:
        return await _turn_of_each_passage(Turnstile(asyncio.get_running_loop(), per_turn=3), 10)

    turns = asyncio.run(main())
    assert len(turns) == 10
    assert turns == sorted(turns)  # first come, first through
    per_turn = {t: turns.count(t) for t in set(turns)}
    assert max(per_turn.values()) <= 3
    assert len(per_turn) >= 4  # 10 callers at 3 a turn need at least four turns


def test_callers_that_find_room_do_not_wait_a_turn():
    async def main() -> list[int]:
        gate = Turnstile(asyncio.get_running_loop(), per_turn=5)
        return await _turn_of_each_passage(gate, 5)

    assert len(set(asyncio.run(main()))) == 1  # all five in the first turn


def test_a_cancelled_waiter_gives_its_place_up():
    async def main() -> tuple[bool, bool, bool]:
        gate = Turnstile(asyncio.get_running_loop(), per_turn=1)
        first, stuck, behind = (asyncio.create_task(gate.wait_turn()) for _ in range(3))
        await asyncio.sleep(0)  # first took this turn's place; the other two wait
        stuck.cancel()
        await asyncio.sleep(0)  # the next turn: its one place goes to the waiter behind
        await asyncio.sleep(0)
        return first.done(), stuck.cancelled(), behind.done()

    assert asyncio.run(main()) == (True, True, True)


def test_each_event_loop_has_its_own_turnstile():
    async def get() -> Turnstile:
        return turnstile()

    async def twice() -> tuple[Turnstile, Turnstile]:
        return turnstile(), turnstile()

    first, again = asyncio.run(twice())
    assert first is again
    assert asyncio.run(get()) is not first
