"""The watermark of run-finished watchers (pure bookkeeping, no I/O)."""

from __future__ import annotations

from airflow_provider_tasks.common.finished_runs import Listed, Mark, baseline, newly_finished


def ended(run_id: str, started: float, finished: float) -> Listed:
    return Listed(run_id, started, finished, terminal=True)


def going(run_id: str, started: float) -> Listed:
    return Listed(run_id, started, None, terminal=False)


def ids(steps: list[tuple[Listed, Mark]]) -> list[str]:
    return [run.id for run, _ in steps]


def test_baseline_makes_ended_runs_history_and_watches_the_ones_going() -> None:
    mark = baseline([going("c", 30), ended("b", 20, 25), ended("a", 10, 25)], now=99)
    assert mark == Mark(25, frozenset({"a", "b"}), {"c": 30})
    steps, _ = newly_finished(mark, [going("c", 30), ended("b", 20, 25), ended("a", 10, 25)])
    assert steps == []


def test_baseline_without_ended_runs_starts_at_now() -> None:
    assert baseline([], now=50) == Mark(50)


def test_new_runs_fire_in_finish_order_not_start_order() -> None:
    mark = Mark(10)
    listed = [ended("late-start", 40, 45), ended("early-start", 20, 60), ended("old", 1, 5)]
    steps, final = newly_finished(mark, listed)
    assert ids(steps) == ["late-start", "early-start"]
    assert final.finished == 60 and final.ids == frozenset({"early-start"})


def test_a_run_that_was_going_fires_when_it_ends_even_if_it_ended_before_the_mark() -> None:
    mark = Mark(100, frozenset({"x"}), {"slow": 5})
    steps, final = newly_finished(mark, [ended("x", 90, 100), ended("slow", 5, 99)])
    assert ids(steps) == ["slow"]
    assert "slow" not in final.open and final.finished == 100


def test_same_finish_instant_is_told_apart_by_id() -> None:
    mark = Mark(10, frozenset({"a"}))
    steps, final = newly_finished(mark, [ended("b", 5, 10), ended("a", 4, 10)])
    assert ids(steps) == ["b"]
    assert final.ids == frozenset({"a", "b"})
    assert newly_finished(final, [ended("b", 5, 10), ended("a", 4, 10)])[0] == []


def test_each_step_keeps_the_later_runs_of_the_look_open() -> None:
    """A restart that stored only the first step's mark still lists and fires the second run,
    even though that run started before the first one's finish."""
    steps, _ = newly_finished(Mark(10), [ended("two", 12, 30), ended("one", 15, 20)])
    (first, after_first), (second, _) = steps
    assert (first.id, second.id) == ("one", "two")
    assert after_first.open == {"two": 12}
    assert after_first.cutoff() == 12  # listing goes back far enough to see "two" again
    again, _ = newly_finished(after_first, [ended("two", 12, 30), ended("one", 15, 20)])
    assert ids(again) == ["two"]


def test_cutoff_reaches_back_to_the_oldest_open_run() -> None:
    assert Mark(100, open={"a": 40, "b": 70}).cutoff() == 40
    assert Mark(100).cutoff() == 100


def test_runs_seen_going_are_remembered_and_open_runs_not_listed_are_kept() -> None:
    _, final = newly_finished(Mark(10, open={"far": 1}), [going("new", 20)])
    assert final.open == {"far": 1, "new": 20}


def test_mark_round_trips_through_json_and_rejects_anything_else() -> None:
    mark = Mark(12.5, frozenset({"b", "a"}), {"c": 3.0})
    assert Mark.from_json(mark.to_json()) == mark
    assert Mark.from_json(None) is None
    assert Mark.from_json({"ids": []}) is None
    assert Mark.from_json("junk") is None
