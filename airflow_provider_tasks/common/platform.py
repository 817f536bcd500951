"""The one way an operator, sensor or download gets its platform's hook.

:class:`UsesHook` caches the hook for the life of the task and closes its HTTP session when the
task is done. Each platform's :class:`Connected` mixin (``apify/platform.py``,
``lobstr/platform.py``) owns the connection id parameter and names the hook and trigger classes,
imported when a task runs so DAG parsing does not pay for HTTP clients.
"""

from __future__ import annotations

import importlib
from abc import abstractmethod
from functools import cached_property
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar

from airflow_provider_tasks.common.compat import BaseOperator

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


def _load(path: str) -> Any:
    module, _, name = path.rpartition(".")
    return getattr(importlib.import_module(module), name)


class Connected(BaseOperator):
    """Base of a platform's mixin, listed before the common base so ``default_args`` can set the
    connection: the mixin's ``__init__`` takes the connection id under the hook's
    ``conn_name_attr``, and its class attributes name the hook and trigger classes by import path."""

    platform: ClassVar[str]
    """The platform's name in log lines and messages (``Apify``, ``Lobstr.io``)."""
    platform_key: ClassVar[str]
    """The platform in asset-event extras and lineage namespaces: a contract, never rename."""
    hook_path: ClassVar[str]
    trigger_path: ClassVar[str]

    def make_hook(self) -> Any:
        hook_class = _load(self.hook_path)
        return hook_class(getattr(self, hook_class.conn_name_attr))

    def trigger_class(self) -> Any:
        return _load(self.trigger_path)
