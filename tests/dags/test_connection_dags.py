"""A pasted token inside real Airflow (``dag.test()``): a trailing newline is stripped (in the worker
and in the triggerer) and said once without the token; a token that cannot be a header fails the
task at once, naming the connection, with nothing sent and the token in no log."""

from __future__ import annotations

import json

SECRET = "apify_api_S3CRETtokenVALUE0123456789"


def use_token(monkeypatch, emulator, password: str) -> None:
    emulator.add_token(SECRET)
    value = {"conn_type": "apify", "password": password, "host": emulator.base_url}
    monkeypatch.setenv("AIRFLOW_CONN_APIFY_DEFAULT", json.dumps(value))


def test_a_trailing_newline_is_stripped_in_worker_and_triggerer(run_dag, apify_emulator, monkeypatch):
    apify_emulator.add_task("quick", duration_secs=4, item_count=1)
    use_token(monkeypatch, apify_emulator, SECRET + "\r\n")
    result = run_dag('ApifyRunTaskOperator(task_id="run", actor_task_id="demo~quick", deferrable=True)')
    assert result.state == "success", result.output[-3000:]
    assert "removed whitespace (such as a trailing newline) around the API token" in result.output
    assert SECRET not in result.output_for_secrets and SECRET not in repr(result.xcoms)


def test_a_token_with_a_line_break_inside_fails_at_once_naming_the_connection(run_dag, apify_emulator, monkeypatch):
    use_token(monkeypatch, apify_emulator, SECRET[:12] + "\n" + SECRET[12:])
    result = run_dag('ApifyRunTaskOperator(task_id="run", actor_task_id="demo~succeeds-with-items", retries=0)')
    assert result.state == "failed"
    assert "ConfigurationError" in result.output and "connection 'apify_default'" in result.output
    assert "contains a line break" in result.output
    assert apify_emulator.stats()["total"] == 0
    for part in (SECRET[:12], SECRET[12:]):
        assert part not in result.output_for_secrets
