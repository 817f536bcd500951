"""Walking a paginated list lazily, whatever the platform's paging scheme.

A platform's ``api`` parses a page into a :class:`Page` carrying the request for the next one, and
decides where the list ends; the shared loop checks that every item the platform counted came.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Generic, TypeVar

from airflow_provider_tasks.common.errors import ProviderError
from airflow_provider_tasks.common.sansio import ApiRequest

log = logging.getLogger(__name__)

T = TypeVar("T")


class IncompleteDataError(ProviderError):
    """The platform delivered fewer items than it said it holds (not retried: every page answered)."""


@dataclass(frozen=True)
class Page(Generic[T]):
    """The items of one page and the request for the next one (None on the last page).

    :param expected_total: the items the whole walk must deliver, as this page reports; None when
        it cannot be checked (Apify's ``clean`` drops items).
    :param count: items this page holds when ``items`` are not one per item; None: ``len(items)``.
    :param warning: the platform's notice on the page (an export limit), quoted when short.
    """

    items: list[T]
    next_request: ApiRequest | None
    expected_total: int | None = None
    count: int | None = None
    warning: str | None = None

    @property
    def size(self) -> int:
        return len(self.items) if self.count is None else self.count


def iterate_pages(
    fetch: Callable[[ApiRequest], Page[T]], first: ApiRequest, *, what: str = "the list"
) -> Iterator[Page[T]]:
    """Yield pages lazily; after the last, :class:`IncompleteDataError` if fewer items came than
    its ``expected_total`` (``what`` names the source)."""
    page = fetch(first)
    seen = page.size
    yield page
    while page.next_request is not None:
        page = fetch(page.next_request)
        seen += page.size
        yield page
    if page.expected_total is not None and seen < page.expected_total:
        notice = f"; the platform said: {page.warning!r}" if page.warning else ""
        raise IncompleteDataError(
            f"{what}: received {seen} items but the platform reports {page.expected_total}{notice}. "
            "Refusing to report success with missing data"
        )
    if page.warning:
        log.warning("%s: the platform attached a warning: %s", what, page.warning)


def iterate_items(fetch: Callable[[ApiRequest], Page[T]], first: ApiRequest) -> Iterator[T]:
    """Yield every item of every page, lazily."""
    for page in iterate_pages(fetch, first):
        yield from page.items
