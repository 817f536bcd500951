"""Download one Apify key-value store record: by default the ``OUTPUT`` record of the upstream
run's default store, where many Actors put their result instead of the dataset.

Re-exported from :mod:`airflow_provider_tasks.apify.operators`, the documented import path.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
from collections.abc import Iterator, Sequence
from itertools import islice
from typing import TYPE_CHECKING, Any

from airflow_provider_tasks.apify import api
from airflow_provider_tasks.apify.platform import XCOM_KEY_VALUE_STORE_ID, ApifyConnected
from airflow_provider_tasks.common.blobs import CappedBody
from airflow_provider_tasks.common.errors import (
    ConfigurationError,
    MalformedResponseError,
    NotFoundError,
    ResponseTooLargeError,
)
from airflow_provider_tasks.common.platform import UsesHook
from airflow_provider_tasks.common.upstream import UpstreamIds
from airflow_provider_tasks.common.validation import has_template, require_bool, require_id, require_number_at_least

if TYPE_CHECKING:
    from airflow_provider_tasks.apify.api import RecordHead
    from airflow_provider_tasks.apify.hooks import ApifyHook  # noqa: F401 - the UsesHook["ApifyHook"] base
    from airflow_provider_tasks.common.compat import Context

DEFAULT_MAX_JSON_BYTES = 64 * 1024
"""Largest record whose parsed value :class:`ApifyGetRecordOperator` pushes to XCom by default:
XCom lives in Airflow's metadata database, which is no place for large values."""
KEYS_SHOWN = 20
"""Keys named in the error when the record is missing but the store is there."""


class ApifyGetRecordOperator(ApifyConnected, UsesHook["ApifyHook"], UpstreamIds):
    """Downloads one record of an Apify key-value store, bytes exactly as stored (JSON, text, an
    image, any binary), streamed to a local file or object storage.

    The file is written under a temporary name beside the target and takes its final name only
    when the whole body arrived: as many bytes as the server's ``Content-Length`` announced (a
    short body is retried, then fails the task). No partial file is left behind on any failure.

    :param output_path: local path, or an Airflow ``ObjectStoragePath`` / URL such as
        ``s3://bucket/run/screenshot.png``. Templated. May be None only with ``push_json=True``.
    :param store_id: the key-value store (id or ``username~store-name``). Templated. When None,
        the ``default_key_value_store_id`` XCom of a direct upstream task (an
        :class:`~airflow_provider_tasks.apify.operators.ApifyRunTaskOperator` or
        ``ApifyRunActorOperator``): the run's default store.
    :param key: the record's key (default ``OUTPUT``). Templated. 1–256 characters of
        ``a-z A-Z 0-9 ! - _ . ' ( )``.
    :param push_json: also parse the record as JSON and return its value (XCom ``value``). The
        record must have a JSON ``Content-Type``, and be at most ``max_json_bytes``, checked
        before its body is read when the server announces the size, else while it arrives.
    :param max_json_bytes: size cap for ``push_json`` (default 64 KiB).
    :param apify_conn_id: the ``apify`` connection.

    Returns ``{"path", "store_id", "key", "content_type", "size"}`` (``size`` in bytes), plus
    ``value`` with ``push_json``; asset outlets get the same keys but ``value``, and ``platform``,
    in their event's ``extra``. A missing store or record fails the task with a 404 that names
    both, and, when the store is there, the keys it holds.
    """

    template_fields: Sequence[str] = ("store_id", "key", "output_path")

    def __init__(
        self,
        *,
        output_path: Any = None,
        store_id: str | None = None,
        key: str = api.OUTPUT_KEY,
        push_json: bool = False,
        max_json_bytes: int = DEFAULT_MAX_JSON_BYTES,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.push_json = require_bool("push_json", push_json)
        self.max_json_bytes = int(require_number_at_least("max_json_bytes", max_json_bytes, 1, integer=True))
        if output_path is None and not push_json:
            raise ConfigurationError(
                "output_path is not set: give the file to write the record to (a local path or an object storage "
                "URL), or set push_json=True to push a JSON record's value to XCom without a file"
            )
        if not has_template(key):  # a literal key is checked when the DAG is parsed
            api.require_record_key("key", key)
        self.output_path = output_path
        self.store_id = store_id
        self.key = key

    def execute(self, context: Context) -> dict[str, Any]:
        from airflow_provider_tasks.common.assets import annotate_outlets
        from airflow_provider_tasks.common.writers import check_output_path

        key = api.require_record_key("key", self.key)  # everything checked before any request
        if self.output_path is not None:
            check_output_path(self.output_path)
        store_id = self._store_id(context)
        try:
            written = self.hook.stream_record(store_id, key, self._write)
        except NotFoundError as error:
            raise self._not_found(error, store_id, key) from None
        finally:
            self.close_hook()
        where = f" to {written['path']}" if written["path"] is not None else ""
        self.log.info(
            "Downloaded record %r of key-value store %s (%s, %d bytes)%s",
            key, store_id, written["content_type"], written["size"], where,
        )  # fmt: skip
        extra = {name: value for name, value in written.items() if name != "value"}
        annotate_outlets(self, context, lambda: {"platform": self.platform_key, **extra})
        return written

    def _store_id(self, context: Context) -> str:
        if self.store_id:
            return require_id("store_id", self.store_id)
        missing = (
            f"reported no default key-value store (its XCom {XCOM_KEY_VALUE_STORE_ID!r} is empty): "
            "pass store_id=... to download from another store"
        )
        return self.id_from_upstream(context, "store_id", XCOM_KEY_VALUE_STORE_ID, missing)

    def _write(self, head: RecordHead, chunks: Iterator[bytes]) -> dict[str, Any]:
        """One attempt at the record (a retry calls it again): stream the body to a freshly staged
        file, and parse it when ``push_json``; the file is moved into place only after both."""
        from airflow_provider_tasks.common.blobs import copy_body
        from airflow_provider_tasks.common.writers import staged

        value = _JsonValue(head, self.max_json_bytes) if self.push_json else None
        target = staged(self.output_path) if self.output_path is not None else contextlib.nullcontext()
        with target as stream:

            def write(chunk: bytes) -> None:
                if stream is not None:
                    stream.write(chunk)
                if value is not None:
                    value.add(chunk)

            size = copy_body(head.body, chunks, write, what=head.describe())
            parsed = value.parsed() if value is not None else None
        written = {
            "path": None if self.output_path is None else str(self.output_path),
            "store_id": head.store_id,
            "key": head.key,
            "content_type": head.content_type,
            "size": size,
        }
        if value is not None:
            written["value"] = parsed
        return written

    def _not_found(self, error: NotFoundError, store_id: str, key: str) -> NotFoundError:
        """The 404 again, saying what is missing: the store, or the record (with the store's keys)."""
        try:
            keys = [item.get("key") for item in islice(self.hook.iter_keys(store_id), KEYS_SHOWN + 1)]
        except NotFoundError:
            hint = f"key-value store {store_id!r} does not exist (looking for record {key!r}); check store_id"
        except Exception:  # the original 404 is what matters; listing keys was a courtesy
            hint = f"record {key!r} of key-value store {store_id!r}"
        else:
            shown = ", ".join(map(str, keys[:KEYS_SHOWN])) + (", …" if len(keys) > KEYS_SHOWN else "")
            hint = (
                f"key-value store {store_id!r} has no record {key!r}; it holds "
                + (f"the keys {shown}: pass key=... to download one of them" if keys else "no records")
            )
        return dataclasses.replace(error, hint=hint)


class _JsonValue(CappedBody):
    """The body kept in memory for ``push_json``, refused unless its ``Content-Type`` is JSON and it
    is at most ``limit`` bytes (before reading when the announced length already says so), then parsed."""

    def __init__(self, head: RecordHead, limit: int) -> None:
        self.what, self.content_type = head.describe(), head.content_type
        if not head.body.is_json:
            raise ConfigurationError(
                f"push_json=True needs a JSON record, but {self.what} has Content-Type {head.content_type!r}: "
                "set push_json=False and read the file downstream"
            )
        super().__init__(limit, head.body.content_length, self._too_large)

    def parsed(self) -> Any:
        try:
            return json.loads(self.joined())
        except ValueError as error:
            raise MalformedResponseError(
                f"{self.what} has Content-Type {self.content_type!r} but is not valid JSON: {error}"
            ) from None

    def _too_large(self, size: int | None) -> ResponseTooLargeError:
        said = f"{size} bytes" if size is not None else f"more than {self.limit} bytes"
        return ResponseTooLargeError(
            f"{self.what} is {said}, over max_json_bytes={self.limit} for pushing its value to XCom: "
            "raise max_json_bytes, or set push_json=False and read the file (output_path) downstream"
        )
