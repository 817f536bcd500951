"""A remote log as lines, sans-IO: splitting bytes as they arrive, tails, what is safe to show."""

from __future__ import annotations

import pytest

from airflow_provider_tasks.common.errors import ConfigurationError
from airflow_provider_tasks.common.log_lines import LineSplitter, iter_lines, last_within, safe_line, tail
from airflow_provider_tasks.common.run_log import require_log_tail_lines


def test_lines_come_out_as_soon_as_they_are_complete_whatever_the_chunks():
    splitter = LineSplitter(100)
    assert splitter.feed(b"first li") == []
    assert splitter.feed(b"ne\r\nsecond\nthi") == ["first line", "second"]
    assert splitter.feed(b"rd\n") == ["third"]
    assert splitter.feed(b"no newline at the end") == []
    assert splitter.end() == ["no newline at the end"]


def test_a_character_split_across_chunks_is_decoded_whole_and_a_bad_byte_is_replaced():
    text = "café ✓\n".encode()
    assert list(iter_lines([text[:4], text[4:8], text[8:]], 100)) == ["café ✓"]
    assert list(iter_lines([b"bad \xff byte\n"], 100)) == ["bad \ufffd byte"]


def test_a_long_line_keeps_its_start_and_says_how_much_was_left_out():
    chunks = [b"a" * 30, b"b" * 30 + b"\nshort\n"]
    assert list(iter_lines(chunks, 40)) == ["a" * 30 + "b" * 10 + " … [20 more characters]", "short"]


def test_tail_keeps_only_the_last_lines():
    log = b"".join(f"line {i}\n".encode() for i in range(1000))
    chunks = [log[i : i + 7] for i in range(0, len(log), 7)]
    assert tail(chunks, 3, 100) == ["line 997", "line 998", "line 999"]
    assert tail(chunks, 0, 100) == []
    assert tail([b""], 5, 100) == []


def test_a_secret_is_redacted_before_the_line_is_cut_so_no_part_of_it_shows():
    secret = "apify_api_SECRET123"
    line = "x" * 15 + secret + " and again " + secret
    shown = safe_line(line, [secret], 20)
    assert shown == "x" * 15 + "***" + " a … [12 more characters]"
    assert "SECRET" not in shown and "apify_api" not in shown
    assert safe_line("no secret here", ["", secret], 100) == "no secret here"


def test_terminal_control_sequences_are_taken_out():
    assert safe_line("\x1b[31mERROR\x1b[0m red\r overwritten\x07\tend", [], 100) == "ERROR red overwritten   end"


def test_a_tail_past_the_total_keeps_its_last_lines_and_counts_the_others():
    assert last_within(["aaaa", "bbbb", "cc", "dd"], 9) == (["bbbb", "cc", "dd"], 1)
    assert last_within(["a" * 50], 9) == (["a" * 50], 0)  # the last line is always shown
    assert last_within([], 9) == ([], 0)


@pytest.mark.parametrize("value", [-1, 10_001, 2.5, "50", True, None])
def test_log_tail_lines_must_be_an_integer_from_0_to_10000(value):
    with pytest.raises(ConfigurationError, match=r"log_tail_lines must be an integer from 0 \(no log lines\) to"):
        require_log_tail_lines(value)
    assert require_log_tail_lines(0) == 0 and require_log_tail_lines(10_000) == 10_000
