"""Putting a remote run's log into a task log, with a scripted hook (no HTTP): the tail's header,
caps and redaction, and a failure to fetch that never raises; the follower thread's start and stop."""

from __future__ import annotations

import threading
from collections.abc import Iterator

from airflow_provider_tasks.common.run_log import MAX_TAIL_CHARS, LogFollower, log_tail

TOKEN = "apify_api_0123456789abcdef"


class Log:
    """A logger that keeps ``(level, message)``."""

    def __init__(self) -> None:
        self.records: list[tuple[str, str]] = []

    def info(self, message: str, *args: object) -> None:
        self.records.append(("info", message % args))

    def warning(self, message: str, *args: object) -> None:
        self.records.append(("warning", message % args))


class Hook:
    def __init__(self, lines: list[str] | None = None, error: Exception | None = None) -> None:
        self.lines, self.error = lines or [], error
        self.asked: list[tuple[str, int, int]] = []

    def get_run_log_tail(self, run_id: str, lines: int = 50, *, max_line_chars: int = 10_000) -> list[str]:
        self.asked.append((run_id, lines, max_line_chars))
        if self.error is not None:
            raise self.error
        return self.lines[-lines:]


def tail_of(hook: Hook, lines: int = 50) -> list[tuple[str, str]]:
    log = Log()
    log_tail(log, hook, platform="Apify", run_id="R1", url="https://console/R1", lines=lines, secrets=[TOKEN])
    return log.records


def test_the_tail_has_a_header_then_each_line_prefixed_and_the_token_redacted():
    records = tail_of(Hook(["first", f"token={TOKEN} used", "\x1b[31mERROR\x1b[0m boom"]))
    assert records == [
        ("info", "Last 3 lines of Apify run R1 log (https://console/R1):"),
        ("info", "[Apify run R1] first"),
        ("info", "[Apify run R1] token=*** used"),
        ("info", "[Apify run R1] ERROR boom"),
    ]


def test_the_hook_keeps_enough_of_each_line_to_redact_a_token_at_the_cut():
    hook = Hook(["x" * 990 + TOKEN])
    ((_, _), (_, line)) = tail_of(hook, 7)
    assert hook.asked == [("R1", 7, 1_000 + len(TOKEN) + 1)]
    assert line == "[Apify run R1] " + "x" * 990 + "***"


def test_a_long_tail_keeps_its_last_lines_within_the_total_and_says_how_many_were_left_out():
    records = tail_of(Hook([f"{i:04d}" + "y" * 996 for i in range(30)]))
    header, *lines = records
    assert len(lines) == MAX_TAIL_CHARS // 1000 == 20 and lines[-1][1].startswith("[Apify run R1] 0029")
    assert header == ("info", "Last 20 lines of Apify run R1 log (https://console/R1); 10 earlier lines left out, "
                              "over 20000 characters:")  # fmt: skip


def test_an_empty_log_says_so_and_a_failed_fetch_is_a_warning_not_an_error():
    assert tail_of(Hook([])) == [("info", "The log of Apify run R1 is empty (https://console/R1)")]
    records = tail_of(Hook(error=RuntimeError(f"503 from the server (token {TOKEN[:4]}…)")))
    assert records == [
        ("warning", "Could not fetch the log of Apify run R1 to show its last lines: 503 from the server (token apif…)")
    ]


class Stream:
    """A followed log: some lines, then a wait for more that only ``abort`` ends."""

    def __init__(self, lines: list[str]) -> None:
        self.lines = lines
        self.waiting = threading.Event()
        self.aborted = threading.Event()
        self.closed = False

    def __iter__(self) -> Iterator[str]:
        yield from self.lines
        self.waiting.set()
        self.aborted.wait(30)

    def abort(self) -> None:
        self.aborted.set()

    def close(self) -> None:
        self.closed = True


class StreamHook:
    def __init__(self, stream: Stream | Exception) -> None:
        self.stream = stream

    def open_run_log_stream(self, run_id: str, *, follow_secs: float, max_line_chars: int = 0) -> Stream:
        if isinstance(self.stream, Exception):
            raise self.stream
        return self.stream


def test_the_follower_logs_each_line_and_stop_ends_a_waiting_stream():
    stream = Stream(["one", f"secret {TOKEN}"])
    log = Log()
    follower = LogFollower(log, StreamHook(stream), platform="Apify", run_id="R1", follow_secs=60, secrets=[TOKEN])
    follower.start()
    assert stream.waiting.wait(30)
    assert not follower.finished(0)  # the stream has not ended by itself
    follower.stop()
    assert follower.finished(0) and stream.aborted.is_set() and stream.closed
    assert log.records == [
        ("info", "Following the log of Apify run R1 as it is written (stream_log=True)"),
        ("info", "[Apify run R1] one"),
        ("info", "[Apify run R1] secret ***"),
    ]


def test_a_stream_that_fails_is_a_warning():
    log = Log()
    follower = LogFollower(
        log, StreamHook(RuntimeError("refused")), platform="Apify", run_id="R1", follow_secs=60, secrets=[]
    ).start()
    assert follower.finished(30)
    assert log.records[-1] == ("warning", "Stopped following the log of Apify run R1: refused")


class Ended(Stream):
    """A stream that ends after its lines (the run ended, or nothing was logged yet)."""

    def __iter__(self) -> Iterator[str]:
        yield from self.lines


class Streams:
    """Answers its streams in turn, the last one again and again; counts how many were opened."""

    def __init__(self, *streams: Stream) -> None:
        self.streams = list(streams)
        self.opened = 0

    def open_run_log_stream(self, run_id: str, *, follow_secs: float, max_line_chars: int = 0) -> Stream:
        self.opened += 1
        return self.streams.pop(0) if len(self.streams) > 1 else self.streams[0]


def test_an_empty_stream_is_opened_again_until_lines_come():
    hook = Streams(Ended([]), Ended([]), Ended(["started", "done"]))
    log = Log()
    follower = LogFollower(log, hook, platform="Apify", run_id="R1", follow_secs=60, secrets=[]).start()
    assert follower.finished(30)
    assert hook.opened == 3 and follower.lines == 2
    assert [message for _, message in log.records[1:]] == ["[Apify run R1] started", "[Apify run R1] done"]


def test_once_the_run_ended_an_empty_stream_is_opened_once_more_then_left():
    hook = Streams(Ended([]))  # a run that never logged anything
    follower = LogFollower(Log(), hook, platform="Apify", run_id="R1", follow_secs=60, secrets=[]).start()
    follower.run_ended()
    assert follower.finished(30) and follower.lines == 0
    assert hook.opened <= 2
