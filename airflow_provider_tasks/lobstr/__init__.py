"""Lobstr.io: squids, their runs, tasks and results."""

PLATFORM = "Lobstr.io"
"""The platform's name in messages and log lines."""
MIN_POLL_INTERVAL = 5.0
"""Lobstr.io has no long-poll and its quickstart asks not to poll more often than every 5 s."""
MAX_PAGE_SIZE = 100
"""The most items (tasks, runs, results) Lobstr.io sends per page."""
