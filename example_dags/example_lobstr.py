"""Feed a Lobstr.io squid its inputs, run it without holding a worker slot, download its results, use them.

    list_inputs ──▶ run_squid (adds the inputs, deferrable) ──▶ download_results (JSON Lines) ──▶ summarize

Offline it runs against the bundled emulator:
``.venv/bin/python -m airflow_provider_tasks.testing.run_example example_lobstr``. Against
Lobstr.io, create the ``lobstr_default`` connection with your API key, set ``LOBSTR_SQUID``
to one of your squids' hashes and ``LOBSTR_INPUTS`` to the URLs it should scrape (comma-separated).
"""

# --8<-- [start:lobstr_dag]
from __future__ import annotations

import json
import os

import pendulum
from airflow.providers.common.compat.sdk import DAG, XComArg, task  # airflow.sdk on Airflow 3; this works on 2.11 too

from airflow_provider_tasks.lobstr.operators import LobstrResultsOperator, LobstrRunSquidOperator

# Under this Airflow installation's home (Airflow's own default rule), not a shared /tmp path.
AIRFLOW_HOME = os.environ.get("AIRFLOW_HOME") or os.path.expanduser("~/airflow")
OUTPUT_DIR = os.environ.get("LOBSTR_EXAMPLE_OUTPUT_DIR") or os.path.join(AIRFLOW_HOME, "example-output")
DEMO_SQUID = "1a88c8c8d90d3cbbd068752ec21a9c09"  # the emulator's "demo-squid"
# the demo squid already has .../1 (Lobstr.io skips it as a duplicate) and not .../4
DEMO_INPUTS = "https://example.com/demo-squid/1,https://example.com/demo-squid/4"

with DAG(
    dag_id="example_lobstr",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    tags=["example", "lobstr"],
    doc_md=__doc__,
) as dag:
    # --8<-- [start:lobstr_inputs]
    @task
    def list_inputs() -> list[str]:
        """Where the inputs come from: a query, a file, an upstream scrape (here an environment variable)."""
        return [url.strip() for url in os.environ.get("LOBSTR_INPUTS", DEMO_INPUTS).split(",") if url.strip()]

    # --8<-- [start:lobstr_run]
    run_squid = LobstrRunSquidOperator(
        task_id="run_squid",
        squid_id=os.environ.get("LOBSTR_SQUID", DEMO_SQUID),
        tasks=list_inputs(),  # URLs or dicts of task params, added to the squid before the run
        deferrable=True,
        poll_interval=5,
        timeout=3600,
    )
    # --8<-- [end:lobstr_run]
    # --8<-- [end:lobstr_inputs]

    # --8<-- [start:lobstr_results]
    download_results = LobstrResultsOperator(
        task_id="download_results",
        # run_id defaults to run_squid's "run_id" XCom
        output_path=OUTPUT_DIR + "/{{ run_id | replace(':', '_') }}/lobstr-results.jsonl",
    )
    # --8<-- [end:lobstr_results]

    # --8<-- [start:lobstr_consume]
    @task
    def summarize(written: dict, total_results: int | None) -> dict:
        """A downstream step that consumes the file, as a loader or a transform would."""
        with open(written["path"], encoding="utf-8") as handle:
            rows = [json.loads(line) for line in handle]
        print(f"{len(rows)} results from run {written['run_id']} (run reported {total_results})")
        return {"rows": len(rows), "reported": total_results}

    run_squid >> download_results
    summarize(download_results.output, XComArg(run_squid, key="total_results"))
    # --8<-- [end:lobstr_consume]
# --8<-- [end:lobstr_dag]
