"""Connection hygiene over real HTTP, both platforms, sync and async: a token that cannot travel in
a header, TLS (untrusted certificate, ``verify`` = CA bundle or false), proxies and plain http.

The token never appears in a log line or an exception, whatever goes wrong.
"""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass
from typing import Any

import pytest

from airflow_provider_tasks.apify.hooks import ApifyHook
from airflow_provider_tasks.common.errors import ConfigurationError, TlsError
from airflow_provider_tasks.common.retry import RetryPolicy
from airflow_provider_tasks.lobstr.hooks import LobstrHook
from airflow_provider_tasks.testing.lobstr_state import SEED_HASHES
from tests.logs import Logged

FAST = RetryPolicy(max_attempts=3, initial_wait=0.01, max_wait=0.05, jitter=0)


@dataclass
class Platform:
    name: str
    hook_class: type
    start: Any  # (hook) -> run

    def conn(
        self, monkeypatch, emulator, *, password: str | None = None, host: str | None = None, **extra: Any
    ) -> None:
        value: dict[str, Any] = {
            "conn_type": self.name,
            "password": emulator.token if password is None else password,
            "host": host or emulator.base_url,
        }
        if extra:
            value["extra"] = json.dumps(extra)
        monkeypatch.setenv(f"AIRFLOW_CONN_{self.name.upper()}_DEFAULT", json.dumps(value))

    def hook(self):
        return self.hook_class(retry_policy=FAST)


PLATFORMS = [
    Platform("apify", ApifyHook, lambda hook: hook.run_task("demo~succeeds-with-items")),
    Platform("lobstr", LobstrHook, lambda hook: hook.start_run(SEED_HASHES["demo-squid"]["hash"])),
]


@pytest.fixture(params=PLATFORMS, ids=[p.name for p in PLATFORMS])
def platform(request) -> Platform:
    return request.param


@pytest.fixture
def emulator(platform, request):
    return request.getfixturevalue(f"{platform.name}_emulator")


@pytest.fixture
def tls_emulator(platform, request):
    return request.getfixturevalue(f"{platform.name}_emulator_tls")


def whoami(hook) -> Any:
    return hook.send(hook.auth_check_request())


def awhoami(hook) -> Any:
    async def call():
        try:
            return await hook.asend(hook.auth_check_request())
        finally:
            await hook.aclose()

    return asyncio.run(call())


def assert_secret_absent(secret: str, text: str, *errors: BaseException) -> None:
    for error in errors:
        assert secret not in str(error) and secret not in repr(error.args)
    assert secret not in text


# -- token hygiene ------------------------------------------------------------------------------


def test_surrounding_whitespace_is_stripped_and_said_once_without_the_token(
    platform, emulator, monkeypatch, caplog, capfd
):
    caplog.set_level(logging.DEBUG)
    platform.conn(monkeypatch, emulator, password=f" {emulator.token}\r\n")
    hook = platform.hook()
    assert whoami(hook).status == 200
    assert awhoami(hook).status == 200
    logged = Logged(caplog, capfd)
    notes = logged.lines("removed whitespace")
    assert len(notes) == 1 and f"{platform.name}_default" in notes[0]
    assert emulator.token not in logged


@pytest.mark.parametrize(
    "bad",
    ["\n", "\r", " ", "\t", "\x00", "\x7f", "\u2019", "\u00a0"],
    ids=["newline", "cr", "space", "tab", "nul", "del", "non-latin-1", "nbsp"],
)
def test_a_token_that_cannot_be_a_header_fails_at_once_naming_the_connection(
    platform, emulator, monkeypatch, caplog, capfd, bad
):
    caplog.set_level(logging.DEBUG)
    secret_head, secret_tail = "SECRETHEAD1234", "SECRETTAIL5678"
    platform.conn(monkeypatch, emulator, password=f"{secret_head}{bad}{secret_tail}\n")
    errors = []
    for call in (whoami, platform.start, awhoami):
        with pytest.raises(ConfigurationError, match=f"connection '{platform.name}_default'.*cannot be sent") as caught:
            call(platform.hook())
        errors.append(caught.value)
    assert emulator.stats()["total"] == 0, "nothing may be sent (nor retried, nor looked up) with such a token"
    text = Logged(caplog, capfd).text
    for secret in (secret_head, secret_tail):
        assert_secret_absent(secret, text, *errors)


# -- TLS ----------------------------------------------------------------------------------------


def test_an_untrusted_certificate_is_a_clear_tls_error_naming_the_host(
    platform, tls_emulator, monkeypatch, caplog, capfd
):
    platform.conn(monkeypatch, tls_emulator)
    netloc = tls_emulator.base_url.split("://", 1)[1]
    errors = []
    for call in (whoami, platform.start, awhoami):
        with pytest.raises(TlsError, match=rf"TLS certificate problem with {netloc}: .*verify") as caught:
            call(platform.hook())
        errors.append(caught.value)
    assert tls_emulator.stats()["total"] == 0  # no request got through, none was retried or looked up
    assert_secret_absent(tls_emulator.token, Logged(caplog, capfd).text, *errors)


def test_verify_with_the_ca_bundle_works_on_both_paths(platform, tls_emulator, monkeypatch):
    platform.conn(monkeypatch, tls_emulator, verify=tls_emulator.tls_files.ca_path)
    hook = platform.hook()
    assert whoami(hook).status == 200 and awhoami(hook).status == 200


@pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning")
def test_verify_false_works_and_warns_on_every_use(platform, tls_emulator, monkeypatch, caplog, capfd):
    platform.conn(monkeypatch, tls_emulator, verify="false")
    for _ in range(2):
        hook = platform.hook()
        assert whoami(hook).status == 200 and awhoami(hook).status == 200
    logged = Logged(caplog, capfd)
    assert len(logged.lines("NOT verified")) == 4  # each hook, each path
    warning = logged.lines("NOT verified")[0]
    assert f"TLS certificates of {tls_emulator.base_url} are NOT verified" in warning
    assert "from this machine" in warning and f"{platform.name}_default" not in warning  # any process; no conn id
    assert tls_emulator.token not in logged


def test_verify_false_on_plain_http_warns_of_no_tls(platform, emulator, monkeypatch, caplog, capfd):
    platform.conn(monkeypatch, emulator, verify="false")
    hook = platform.hook()
    assert whoami(hook).status == 200 and awhoami(hook).status == 200
    assert not Logged(caplog, capfd).lines("NOT verified")  # there is no certificate on http://


def test_the_connection_test_names_a_host_where_nothing_answers(platform, emulator, monkeypatch):
    from tests.integration.harness import free_port

    host = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    platform.conn(monkeypatch, emulator, host=host)
    ok, message = platform.hook().test_connection()
    assert not ok
    assert message.startswith(f"Nothing answered at {host}: ")
    assert "check the connection's host and port" in message
    assert emulator.token not in message


def test_the_connection_test_of_a_form_without_a_token_says_to_type_it(platform, emulator, monkeypatch):
    """The form's Test button tests under an id Airflow makes up; the message must not name it."""
    platform.conn(monkeypatch, emulator, password="")
    ok, message = platform.hook().test_connection()
    assert not ok
    assert message.startswith("this connection has no API token: put it in the connection's password field")
    assert "type the token in the form" in message
    assert f"{platform.name}_default" not in message


def test_a_missing_ca_bundle_is_a_configuration_error(platform, tls_emulator, monkeypatch, tmp_path):
    platform.conn(monkeypatch, tls_emulator, verify=str(tmp_path / "nope.pem"))
    with pytest.raises(ConfigurationError, match=f"'{platform.name}_default'.*CA bundle that does not exist"):
        whoami(platform.hook())


def test_async_sessions_are_shared_per_tls_setting(platform, tls_emulator, monkeypatch):
    from airflow_provider_tasks.common.connection_cache import RECENT_CONNECTIONS
    from airflow_provider_tasks.common.http import _SHARED_SESSIONS

    async def two_settings():
        hooks = []
        for verify in (tls_emulator.tls_files.ca_path, "false"):
            platform.conn(monkeypatch, tls_emulator, verify=verify)
            RECENT_CONNECTIONS._by_loop.clear()  # a read serves the loop's other triggers for 5 s: this edit is instant
            hook = platform.hook()
            await hook.asend(hook.auth_check_request())
            hooks.append(hook)
        opened = len(_SHARED_SESSIONS._entries)
        for hook in hooks:
            await hook.aclose()
        return opened

    assert asyncio.run(two_settings()) == 2


# -- proxies and plain http ---------------------------------------------------------------------


@pytest.fixture
def no_proxy_env(monkeypatch):
    for name in (
        "HTTPS_PROXY", "HTTP_PROXY", "NO_PROXY", "ALL_PROXY", "https_proxy", "http_proxy", "no_proxy", "all_proxy"
    ):  # fmt: skip
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_https_proxy_is_used_by_both_paths_and_no_proxy_bypasses_it(platform, tls_emulator, no_proxy_env):
    from tests.http.tiny_proxy import TinyProxy

    platform.conn(no_proxy_env, tls_emulator, verify=tls_emulator.tls_files.ca_path)
    netloc = tls_emulator.base_url.split("://", 1)[1]
    with TinyProxy() as proxy:
        no_proxy_env.setenv("HTTPS_PROXY", proxy.url)
        assert whoami(platform.hook()).status == 200
        assert proxy.count("CONNECT") == 1 and proxy.seen[f"CONNECT {netloc}"] == 1
        assert awhoami(platform.hook()).status == 200
        assert proxy.count("CONNECT") == 2
        no_proxy_env.setenv("NO_PROXY", "127.0.0.1")
        assert whoami(platform.hook()).status == 200 and awhoami(platform.hook()).status == 200
        assert proxy.count("CONNECT") == 2


def test_plain_http_to_a_remote_host_works_through_http_proxy_and_warns_once_per_hook(
    platform, emulator, no_proxy_env, caplog, capfd
):
    from tests.http.tiny_proxy import TinyProxy

    host, port = emulator.base_url.split("://", 1)[1].split(":")
    with TinyProxy(upstream=(host, int(port))) as gateway:
        no_proxy_env.setenv("HTTP_PROXY", gateway.url)
        platform.conn(no_proxy_env, emulator, host="http://api.example.test:8080")
        hook = platform.hook()
        statuses = [whoami(hook).status, whoami(hook).status, awhoami(hook).status]
        assert statuses == [200, 200, 200]
        forwarded = gateway.count("GET api.example.test:8080")
        assert forwarded >= 2, gateway.seen  # the sync and the async session
    warnings = Logged(caplog, capfd).lines("plain http://")
    assert len(warnings) == 1 and "http://api.example.test:8080" in warnings[0]
    no_proxy_env.delenv("HTTP_PROXY")
    platform.conn(no_proxy_env, emulator)  # 127.0.0.1: no warning
    assert whoami(platform.hook()).status == 200
    assert "plain http://" not in Logged(caplog, capfd)


def test_streamed_dataset_pages_take_the_same_tls_setting(apify_emulator_tls, monkeypatch):
    apify = PLATFORMS[0]
    dataset = apify_emulator_tls.add_dataset(5)["id"]
    apify.conn(monkeypatch, apify_emulator_tls)
    with pytest.raises(TlsError, match=r"TLS certificate problem with 127\.0\.0\.1"):
        list(apify.hook().iter_dataset_jsonl(dataset))
    apify.conn(monkeypatch, apify_emulator_tls, verify=apify_emulator_tls.tls_files.ca_path)
    assert sum(chunk.count(b"\n") for chunk in apify.hook().iter_dataset_jsonl(dataset)) == 5


def test_triggerer_tls_connections_keep_a_small_read_buffer(platform, tls_emulator, monkeypatch):
    """asyncio gives each TLS connection a 256 KiB buffer (Python 3.11+): 2.6 GB for 10,000 waiting
    runs. The shared session's connections are cut to 4 KiB, and still read whole answers."""
    import sys

    from airflow_provider_tasks.common.connection_cache import RECENT_CONNECTIONS
    from airflow_provider_tasks.common.internals import TLS_READ_BUFFER

    platform.conn(monkeypatch, tls_emulator, verify=tls_emulator.tls_files.ca_path)
    RECENT_CONNECTIONS._by_loop.clear()

    async def two_calls():
        hook = platform.hook()
        try:
            first = await hook.asend(hook.auth_check_request())
            second = await hook.asend(hook.auth_check_request())  # on the same, cut connection
            transport = await hook.async_transport()
            connector = transport._session.connector
            protocols = [proto for conns in connector._conns.values() for proto, _ in conns]
            buffers = [len(getattr(p.transport._ssl_protocol, "_ssl_buffer", b"")) for p in protocols]
            return first, second, buffers
        finally:
            await hook.aclose()

    first, second, buffers = asyncio.run(two_calls())
    assert first.ok and second.ok and first.body == second.body
    if sys.version_info >= (3, 11):
        assert buffers and all(size == TLS_READ_BUFFER for size in buffers)
