"""One switch for the machinery that lets one triggerer hold thousands of waiting runs.

``[airflow_provider_tasks] triggerer_scale_machinery`` in ``airflow.cfg``, or the environment
variable ``AIRFLOW__AIRFLOW_PROVIDER_TASKS__TRIGGERER_SCALE_MACHINERY`` (default ``True``). On,
the triggers of one event loop and connection share one aiohttp session
(``common/http.py``) with the lean connector (``common/internals.py``) and the proxy read once,
read their connection once (``common/connection_cache.py``), and send their first requests
through the turnstile (``common/pacing.py``). Off, each trigger has its own session with
aiohttp's own connector and proxy handling (``trust_env``), reads its connection itself and
queues for nothing: the plain shape, to rule the machinery out when chasing a problem. Waiting,
retries, timeouts and results are the same either way.
"""

from __future__ import annotations

SECTION = "airflow_provider_tasks"
OPTION = "triggerer_scale_machinery"


def scale_machinery() -> bool:
    """Whether the switch is on (read each time a trigger makes its session or reads its
    connection, so a test or a restarted triggerer sees a change)."""
    from airflow_provider_tasks.common.compat import conf

    return bool(conf.getboolean(SECTION, OPTION, fallback=True))
