"""The private APIs of other projects that ``common/internals.py`` uses: each is still there on the
installed Airflow, Python and aiohttp (so the CI matrix names the release that drops one), and
each fallback does the public thing, with a warning, when it is gone."""

from __future__ import annotations

import asyncio
import logging
import sys

import aiohttp
import pytest
from yarl import URL

from airflow_provider_tasks.common import internals
from airflow_provider_tasks.common.compat import AIRFLOW_V_3_0_PLUS, EVENT_TRIGGER_ASSET_STATE


@pytest.fixture(autouse=True)
def _warn_again():
    internals._warned.clear()
    yield
    internals._warned.clear()


# -- still there ----------------------------------------------------------------------------------


def test_aiohttp_still_makes_connections_in_create_connection():
    assert callable(vars(aiohttp.TCPConnector).get("_create_connection"))
    assert isinstance(_connector(), internals.LeanConnector)


def _connector() -> aiohttp.TCPConnector:
    async def make() -> aiohttp.TCPConnector:  # aiohttp makes connectors inside a running loop
        connector = internals.shared_connector(limit=0)
        await connector.close()
        return connector

    return asyncio.run(make())


def test_aiohttp_still_reads_the_environments_proxy():
    from aiohttp.helpers import get_env_proxy_for_url

    assert callable(get_env_proxy_for_url)


@pytest.mark.skipif(sys.version_info < (3, 11), reason="asyncio's TLS layer preallocates no read buffer before 3.11")
def test_asyncio_tls_protocol_still_preallocates_its_read_buffer():
    from asyncio import sslproto

    protocol = sslproto.SSLProtocol(asyncio.new_event_loop(), asyncio.Protocol(), None, None)
    assert isinstance(getattr(protocol, "_ssl_buffer", None), bytearray)
    assert hasattr(protocol, "_ssl_buffer_view")


@pytest.mark.skipif(not EVENT_TRIGGER_ASSET_STATE, reason="event triggers get an asset state store from Airflow 3.3")
def test_the_asset_state_store_still_keeps_its_accessors_by_name_and_uri():
    from airflow.sdk import Asset
    from airflow.sdk.execution_time.context import AssetStateStoreAccessors

    store = AssetStateStoreAccessors(inlets=[Asset("apify://a"), Asset("apify://b")])
    accessors = list(internals.asset_state_accessors(store))
    assert len(accessors) == 2 and all(callable(getattr(a, "aset", None)) for a in accessors)


@pytest.mark.skipif(not AIRFLOW_V_3_0_PLUS, reason="the task SDK's supervisor channel is Airflow 3's")
def test_the_triggerer_still_gives_triggers_a_supervisor_channel():
    import inspect

    from airflow.jobs import triggerer_job_runner
    from airflow.sdk.execution_time import task_runner

    declared = vars(task_runner).get("__annotations__", {})
    assert "SUPERVISOR_COMMS" in declared or hasattr(task_runner, "SUPERVISOR_COMMS")
    assert "task_runner.SUPERVISOR_COMMS = " in inspect.getsource(triggerer_job_runner)
    assert callable(getattr(triggerer_job_runner.TriggerCommsDecoder, "asend", None))


# -- fallbacks ------------------------------------------------------------------------------------


def test_without_create_connection_the_shared_session_uses_aiohttps_connector(monkeypatch, caplog):
    monkeypatch.delattr(aiohttp.TCPConnector, "_create_connection")
    with caplog.at_level(logging.WARNING):
        connector = _connector()
    assert type(connector) is aiohttp.TCPConnector
    assert "TCPConnector._create_connection is not there any more" in caplog.text


@pytest.mark.parametrize(
    "env, url, expected",
    [
        ({"HTTPS_PROXY": "http://user:pw@proxy:3128"}, "https://api.apify.com", ("http://proxy:3128", "user")),
        ({"HTTPS_PROXY": "http://proxy:3128", "NO_PROXY": ".apify.com"}, "https://api.apify.com", None),
        ({"HTTPS_PROXY": "http://proxy:3128", "NO_PROXY": "*"}, "https://api.apify.com", None),
        ({"HTTP_PROXY": "http://proxy:3128"}, "https://api.apify.com", None),
    ],
    ids=["proxy-with-credentials", "no-proxy-domain", "no-proxy-all", "other-scheme"],
)
def test_without_aiohttps_proxy_reader_the_environment_is_read_by_requests_rules(monkeypatch, env, url, expected):
    for name in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy",
                 "NO_PROXY", "no_proxy"):  # fmt: skip
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    aiohttp_says = _aiohttp_proxy(url)
    monkeypatch.setitem(sys.modules, "aiohttp.helpers", None)  # the import fails as if it were gone
    fallback_says = _aiohttp_proxy(url, reader=internals.env_proxy_for_url)
    assert fallback_says == aiohttp_says  # the same answer as aiohttp's own reader
    if expected is None:
        assert fallback_says is None
    else:
        assert (str(fallback_says[0]), fallback_says[1].login) == expected


def _aiohttp_proxy(url: str, reader=None):
    reader = reader or internals.env_proxy_for_url
    try:
        proxy, auth = reader(URL(url))
    except LookupError:
        return None
    return proxy.with_user(None), auth


def test_without_the_asset_state_stores_accessors_no_watermark_is_kept_and_it_says_so(caplog):
    with caplog.at_level(logging.WARNING):
        assert list(internals.asset_state_accessors(object())) == []
    assert "_by_name/_by_uri is not there any more" in caplog.text
    assert "watchers keep no watermark" in caplog.text


@pytest.mark.skipif(not AIRFLOW_V_3_0_PLUS, reason="the task SDK's supervisor channel is Airflow 3's")
def test_without_a_supervisor_channel_the_state_read_fails_and_the_run_is_left(monkeypatch, caplog):
    from airflow.sdk.execution_time import task_runner

    monkeypatch.delattr(task_runner, "SUPERVISOR_COMMS", raising=False)
    monkeypatch.delitem(vars(task_runner).get("__annotations__", {}), "SUPERVISOR_COMMS", raising=False)
    with caplog.at_level(logging.WARNING), pytest.raises(internals.InternalsChangedError):
        internals.supervisor_comms()
    assert "SUPERVISOR_COMMS.asend is not there any more" in caplog.text
    assert "never aborts the run" in caplog.text


@pytest.mark.skipif(not AIRFLOW_V_3_0_PLUS, reason="the task SDK's supervisor channel is Airflow 3's")
def test_outside_a_triggerer_the_missing_supervisor_is_no_warning(monkeypatch, caplog):
    from airflow.sdk.execution_time import task_runner

    monkeypatch.setattr(task_runner, "SUPERVISOR_COMMS", None, raising=False)
    with caplog.at_level(logging.WARNING), pytest.raises(internals.InternalsChangedError, match="no triggerer"):
        internals.supervisor_comms()
    assert "not there any more" not in caplog.text
