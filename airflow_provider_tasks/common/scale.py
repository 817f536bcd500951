"""One switch for the machinery that lets one triggerer hold thousands of waiting runs (docs/performance.md).

``[airflow_provider_tasks] triggerer_scale_machinery`` (default True) turns on the shared sessions (``http.py``,
``internals.py``), the connection cache (``connection_cache.py``) and the turnstile (``pacing.py``). Off, each
trigger goes alone, to rule the machinery out when chasing a problem; results are the same either way.
"""

from __future__ import annotations


def scale_machinery() -> bool:
    """Whether the switch is on (read each time, so a test or a restarted triggerer sees a change)."""
    from airflow_provider_tasks.common.compat import conf

    return bool(conf.getboolean("airflow_provider_tasks", "triggerer_scale_machinery", fallback=True))
