"""Runs one DAG file with ``dag.test()`` in a fresh interpreter, so the OpenLineage provider reads
the ``[openlineage]`` settings of this process's environment.

The provider reads its settings once per process and registers its listener when its plugin is
first imported; a DAG test in the pytest process would find both already decided by whatever
test ran first. Usage: ``python -m tests.lineage.dag_runner DAG_FILE DAG_ID STATE_FILE``; writes
the DAG run's final state to ``STATE_FILE``. Not to stdout: the OpenLineage provider logs from its
own thread there, and one of its lines once landed between the state and its newline.
"""

from __future__ import annotations

import sys
from pathlib import Path


def main(path: str, dag_id: str, state_file: str) -> int:
    from airflow_provider_tasks.testing.run_example import dag_bag

    dag = dag_bag(dag_folder=path).get_dag(dag_id)
    if dag is None:
        print(f"DAG {dag_id} did not load from {path}", file=sys.stderr)
        return 2
    dag_run = dag.test()
    Path(state_file).write_text(str(dag_run.state))
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:4]))
