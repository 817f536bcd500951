"""Walking a paginated list lazily, whatever the platform's paging scheme.

Each platform's ``api`` module parses one page into a :class:`Page` that carries the request for
the next page (offset-based for Apify, page numbers for Lobstr.io), so the loop itself is shared.
Deciding where the list ends is the parser's job (a short or empty page is not always the end);
checking that the walk delivered every item the platform said it has is the loop's.
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
    """The platform delivered fewer items than it said it holds: the data would be silently short.

    Not retried by the request policy (every page answered fine); the download fails instead of
    writing a file that looks complete.
    """


@dataclass(frozen=True)
class Page(Generic[T]):
    """The items of one page and the request for the next one (None on the last page).

    :param expected_total: how many items the whole walk must have delivered when this page is
        the last one, as the platform reported it on this page; None when that cannot be checked
        (the platform drops items by request, e.g. Apify's ``clean``).
    :param count: items this page holds when ``items`` are not one per item (a JSON Lines
        chunk); None means ``len(items)``.
    :param warning: a notice the platform attached to the page (a plan's export limit), quoted
        when the walk comes up short.
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
    """Yield pages one at a time, fetching the next only when the caller asks for it.

    After the last page, :class:`IncompleteDataError` if fewer items came than the last page's
    ``expected_total`` (``what`` names the source in that message).
    """
    request: ApiRequest | None = first
    seen = 0
    page: Page[T] | None = None
    while request is not None:
        page = fetch(request)
        seen += page.size
        yield page
        request = page.next_request
    if page is None:
        return
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
