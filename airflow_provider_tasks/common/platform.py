"""The one way an operator, sensor or download gets its platform's hook.

:class:`UsesHook` caches the hook for the life of the task and closes its HTTP session when the
task is done. Each platform supplies one small mixin (``apify/platform.py``,
``lobstr/platform.py``) that owns the connection id parameter, builds the hook and names the
trigger class, importing both lazily so DAG parsing does not pay for HTTP clients.
"""

from __future__ import annotations

from abc import abstractmethod
from functools import cached_property
from typing import TYPE_CHECKING, Any, Generic, TypeVar

if TYPE_CHECKING:
    from airflow_provider_tasks.common.hook import PlatformHook

HookT = TypeVar("HookT", bound="PlatformHook[Any]")


class UsesHook(Generic[HookT]):
    """A task's hook: built once by :meth:`make_hook`, cached, closed by :meth:`close_hook`."""

    @abstractmethod
    def make_hook(self) -> HookT:
        """Build the hook (the platform mixin does; a test may override it to tune retries)."""

    @cached_property
    def hook(self) -> HookT:
        return self.make_hook()

    def close_hook(self) -> None:
        """Close the hook's sync HTTP session, if one was opened; a later use opens a new one."""
        hook = self.__dict__.pop("hook", None)
        if hook is not None:
            hook.close()
