"""What the code under test logged, read the same way on every Airflow line.

Airflow 3 hook and trigger loggers are structlog loggers that print; Airflow 2.11's are stdlib
loggers whose records pytest captures *and* whose console handler prints them too. Counting
lines in both would count every 2.11 message twice, so :meth:`Logged.lines` counts the records
when there are any and the printed lines otherwise.
"""

from __future__ import annotations

import pytest


class Logged:
    """Everything logged since the last read (reading clears both captures)."""

    def __init__(self, caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]) -> None:
        captured = capfd.readouterr()
        self.records = [record.getMessage() for record in caplog.records]
        self.printed = captured.out + captured.err
        self.text = caplog.text + self.printed  # for "never appears anywhere" checks
        caplog.clear()

    def lines(self, needle: str) -> list[str]:
        """Each logged message containing ``needle``, once."""
        in_records = [message for message in self.records if needle in message]
        return in_records or [line for line in self.printed.splitlines() if needle in line]

    def __contains__(self, needle: str) -> bool:
        return needle in self.text
