"""Starting a remote run exactly once, even when the start request has to be retried.

Neither platform has an idempotency key: after a failure that may have reached the server, a blind retry could
create a second, billed run, so before each retry (and before giving up) we look for our run and adopt it.
:class:`AmbiguousStartError` (a run not provably ours) ends the start at once.
"""

from __future__ import annotations

import hashlib
import logging
import time
import uuid
from collections.abc import Callable
from typing import Any, TypeVar

from airflow_provider_tasks.common.errors import AmbiguousStartError, ProviderError, may_have_been_applied
from airflow_provider_tasks.common.retry import RetryPolicy

log = logging.getLogger(__name__)

T = TypeVar("T")

CLOCK_SKEW_SECONDS = 10.0
"""How far before our first attempt a run may appear to start (server and worker clocks differ)."""


def new_start_marker() -> str:
    """A token unique to one start operation, sent with every attempt so its run can be recognised."""
    return uuid.uuid4().hex[:20]


def task_instance_marker(ti: Any) -> str | None:
    """A token naming one task instance, the same for each try: sent with the start, it lets a new try recognise an
    earlier try's run on every Airflow line (not only with 3.3's ``task_state_store``). None without the ids."""
    try:
        map_index = getattr(ti, "map_index", -1)
        parts = (ti.dag_id, ti.task_id, ti.run_id, -1 if map_index is None else map_index)
    except AttributeError:
        return None
    digest = hashlib.sha256("\x1f".join(str(part) for part in parts).encode()).hexdigest()[:20]
    return f"ti-{digest}"


def start_once(
    send_start: Callable[[], T],
    find_started: Callable[[float], T | None],
    policy: RetryPolicy,
    *,
    what: str,
) -> T:
    """Call ``send_start`` with retries, never creating two runs.

    :param send_start: one start request (no retries of its own).
    :param find_started: given the epoch time before our first attempt (less clock skew), the run an earlier attempt
        created, or None; raises :class:`AmbiguousStartError` for a run that may or may not be ours.
    :param what: names the run, for log lines.
    """
    since = time.time() - CLOCK_SKEW_SECONDS
    uncertain = False
    try:
        for attempt in policy.sync():
            with attempt:
                if uncertain:
                    adopted = find_started(since)
                    if adopted is not None:
                        log.warning("Adopted the run an earlier start attempt of %s created", what)
                        return adopted
                try:
                    return send_start()
                except ProviderError as error:
                    if may_have_been_applied(error):
                        uncertain = True
                        log.warning("Starting %s may have failed after reaching the server: %s", what, error)
                    raise
    except AmbiguousStartError:
        raise
    except ProviderError:
        if uncertain:
            adopted = _find_quietly(find_started, since)
            if adopted is not None:
                log.warning("Adopted the run an earlier start attempt of %s created", what)
                return adopted
        raise
    raise AssertionError("unreachable: tenacity re-raises the last error")


def _find_quietly(find_started: Callable[[float], T | None], since: float) -> T | None:
    try:
        return find_started(since)
    except AmbiguousStartError:
        raise
    except ProviderError as error:
        log.warning("Could not check for a run created by an earlier attempt: %s", error)
        return None
