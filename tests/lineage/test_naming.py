"""The OpenLineage names (common/lineage.py and the platforms' choices): pure functions, no
OpenLineage needed; turning them into the provider's OperatorLineage needs it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from airflow_provider_tasks.apify.operators import lineage_dataset as apify_dataset
from airflow_provider_tasks.common.lineage import (
    Lineage,
    LineageDataset,
    platform_namespace,
    storage_dataset,
)
from airflow_provider_tasks.lobstr.operators import lineage_dataset as lobstr_dataset


@pytest.mark.parametrize(
    ("base_url", "namespace"),
    [
        ("https://api.apify.com", "apify://api.apify.com"),
        ("https://API.Apify.com:443/", "apify://api.apify.com"),
        ("http://127.0.0.1:8765", "apify://127.0.0.1:8765"),
        ("https://gateway.internal:8443/apify", "apify://gateway.internal:8443"),
        ("https://user:secret@api.apify.com", "apify://api.apify.com"),
    ],
)
def test_platform_namespace_is_the_api_host(base_url, namespace):
    assert platform_namespace("apify", base_url) == namespace


def test_platform_datasets_are_named_by_collection_and_id():
    assert apify_dataset("https://api.apify.com", "WkzbQMuFYuamGv3YF") == LineageDataset(
        "apify://api.apify.com", "datasets/WkzbQMuFYuamGv3YF"
    )
    assert lobstr_dataset("https://api.lobstr.io", "runs", "abc123") == LineageDataset(
        "lobstr://api.lobstr.io", "runs/abc123"
    )
    assert lobstr_dataset("https://api.lobstr.io", "squids", "sq1") == LineageDataset(
        "lobstr://api.lobstr.io", "squids/sq1"
    )


@pytest.mark.parametrize(
    ("path", "namespace", "name"),
    [
        ("s3://bucket/dir/items.jsonl", "s3://bucket", "dir/items.jsonl"),
        ("s3://aws_default@bucket/dir/items.jsonl", "s3://bucket", "dir/items.jsonl"),
        ("s3a://bucket/k.csv", "s3://bucket", "k.csv"),
        ("gs://bucket/k.json", "gs://bucket", "k.json"),
        ("gcs://bucket/k.json", "gs://bucket", "k.json"),
        ("hdfs://namenode:8020/data/k.jsonl", "hdfs://namenode:8020", "data/k.jsonl"),
        ("file:///tmp/out/items.jsonl", "file", "/tmp/out/items.jsonl"),
        ("/tmp/out/items.jsonl", "file", "/tmp/out/items.jsonl"),
    ],
)
def test_storage_dataset_follows_the_naming_spec(path, namespace, name):
    assert storage_dataset(path) == LineageDataset(namespace, name)


def test_relative_and_pathlike_local_paths_are_absolute(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert storage_dataset("out/items.jsonl", 3) == LineageDataset("file", str(tmp_path / "out/items.jsonl"), 3)
    assert storage_dataset(Path("x.csv")).name == os.path.join(str(tmp_path), "x.csv")


def test_object_storage_path_is_named_like_its_url():
    from airflow_provider_tasks.common.compat import object_storage_path_class

    path = object_storage_path_class()("s3://aws_default@bucket/dir/items.jsonl")
    assert storage_dataset(path) == LineageDataset("s3://bucket", "dir/items.jsonl")


def test_operator_lineage_carries_datasets_row_count_and_the_remote_run():
    from airflow.providers.openlineage.extractors import OperatorLineage

    from airflow_provider_tasks.common.lineage import to_operator_lineage

    lineage = to_operator_lineage(
        Lineage(
            inputs=[LineageDataset("apify://api.apify.com", "datasets/d1")],
            outputs=[LineageDataset("s3://bucket", "k.jsonl", row_count=12)],
            run_id="r1",
            source="apify://api.apify.com",
        )
    )
    assert isinstance(lineage, OperatorLineage)
    assert [(d.namespace, d.name) for d in lineage.inputs] == [("apify://api.apify.com", "datasets/d1")]
    (output,) = lineage.outputs
    statistics = output.outputFacets["outputStatistics"]
    assert (output.namespace, output.name, statistics.rowCount) == ("s3://bucket", "k.jsonl", 12)
    query = lineage.run_facets["externalQuery"]
    assert (query.externalQueryId, query.source) == ("r1", "apify://api.apify.com")


def test_operators_import_no_openlineage_module():
    """DAG parsing pays nothing: importing the operators loads no OpenLineage module that Airflow
    itself had not loaded (it lists installed providers), whether or not the provider is installed."""
    import subprocess
    import sys

    probe = (
        "import sys\n"
        "from airflow.providers.common.compat.sdk import DAG, BaseOperator\n"
        "before = {m for m in sys.modules if 'openlineage' in m}\n"
        "import airflow_provider_tasks.apify.operators, airflow_provider_tasks.lobstr.operators\n"
        "print(sorted({m for m in sys.modules if 'openlineage' in m} - before))\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().splitlines()[-1] == "[]"
