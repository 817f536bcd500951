"""Putting a DAG's task inputs on a Lobstr.io squid before its run: a run covers the squid's active tasks.

With ``replace`` the squid's tasks that are not among the inputs are deleted one by one: Lobstr.io
documents no call that deactivates a task, and emptying the squid (``POST /v1/squids/{hash}/empty``)
would also delete the results of its earlier runs and the inputs just added.

Every step is safe to repeat, which makes a retried task instance harmless: Lobstr.io skips duplicate
tasks, a task deleted already answers 404, and an upload of tasks already there inserts none.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

from airflow_provider_tasks.common.errors import InputsRejectedError
from airflow_provider_tasks.lobstr.inputs import params_key

if TYPE_CHECKING:
    from airflow_provider_tasks.lobstr.hooks import LobstrHook

UPLOAD_THRESHOLD = 500
"""Above this many inputs they go as one CSV file through ``POST /v1/tasks/upload`` (one request
and a background insert on Lobstr.io's side) instead of a ``POST /v1/tasks`` JSON list."""


@dataclasses.dataclass(frozen=True)
class InputsOutcome:
    """What putting the inputs did: tasks created, duplicates skipped, earlier tasks deleted."""

    sent: int
    added: int
    duplicates: int
    removed: int = 0
    upload_id: str | None = None

    def describe(self) -> str:
        text = f"added {_count(self.added, 'task')}, {_count(self.duplicates, 'duplicate')} skipped"
        if self.upload_id:
            text += f" (bulk upload {self.upload_id})"
        if self.removed:
            text += f"; removed {_count(self.removed, 'earlier task')} not among the inputs"
        return text


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def put_tasks(
    hook: LobstrHook,
    squid_id: str,
    tasks: list[dict[str, Any]],
    *,
    replace: bool = False,
    upload_threshold: int = UPLOAD_THRESHOLD,
) -> InputsOutcome:
    """Add ``tasks`` (validated params objects) to the squid, in bulk above ``upload_threshold``;
    with ``replace``, then delete the squid's tasks that are not among them. Raises
    :class:`InputsRejectedError` when Lobstr.io did not take every input."""
    if len(tasks) > upload_threshold:
        outcome = _upload(hook, squid_id, tasks)
    else:
        added = hook.add_tasks(squid_id, tasks)
        accounted = len(added.created) + added.duplicates
        if accounted != len(tasks):
            raise InputsRejectedError(
                f"Lobstr.io accounted for {accounted} of the {len(tasks)} tasks sent to squid {squid_id} "
                f"({len(added.created)} created, {added.duplicates} duplicates); not starting a run over part of them"
            )
        outcome = InputsOutcome(len(tasks), len(added.created), added.duplicates)
    if replace:
        keep = {params_key(params) for params in tasks}
        others = [task["id"] for task in hook.iter_tasks(squid_id) if params_key(task.get("params") or {}) not in keep]
        outcome = dataclasses.replace(outcome, removed=sum(hook.delete_task(task_hash) for task_hash in others))
    return outcome


def _upload(hook: LobstrHook, squid_id: str, tasks: list[dict[str, Any]]) -> InputsOutcome:
    started = hook.upload_tasks(squid_id, tasks)
    hook.log.info("Uploading %d tasks to Lobstr.io squid %s as upload %s", len(tasks), squid_id, started.id)
    done = hook.wait_for_upload(started.id)
    invalid, valid = done.count("invalid"), done.count("valid")
    if invalid or valid != len(tasks):
        raise InputsRejectedError(
            f"Lobstr.io task upload {done.id} to squid {squid_id} took {valid} of the {len(tasks)} tasks sent "
            f"({invalid} invalid): {done.summary()}; not starting a run over part of them"
        )
    return InputsOutcome(len(tasks), done.count("inserted"), done.count("duplicates"), upload_id=done.id)

