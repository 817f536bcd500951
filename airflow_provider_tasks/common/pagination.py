"""Walking a paginated list lazily, whatever the platform's paging scheme.

Each platform's ``api`` module parses one page into a :class:`Page` that carries the request for
the next page (offset-based for Apify, page numbers for Lobstr.io), so the loop itself is shared.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Generic, TypeVar

from airflow_provider_tasks.common.messages import ApiRequest

T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    """The items of one page and the request for the next one (None on the last page)."""

    items: list[T]
    next_request: ApiRequest | None


def iterate_pages(fetch: Callable[[ApiRequest], Page[T]], first: ApiRequest) -> Iterator[Page[T]]:
    """Yield pages one at a time, fetching the next only when the caller asks for it."""
    request: ApiRequest | None = first
    while request is not None:
        page = fetch(request)
        yield page
        request = page.next_request if page.items else None


def iterate_items(fetch: Callable[[ApiRequest], Page[T]], first: ApiRequest) -> Iterator[T]:
    """Yield every item of every page, lazily."""
    for page in iterate_pages(fetch, first):
        yield from page.items
