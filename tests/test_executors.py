"""Executors: a real Dask LocalCluster gives the same facts as the local pool, and loses
no paper when a worker dies."""

from __future__ import annotations

import os
import signal
import threading

import pytest
from infra_helpers import SMALL, fact_set, fill_store, slow_extract, statuses

from db import open_store
from dlcompute.executors import DaskExecutor, ExecutorError, LocalExecutor, make_executor
from extract.runner import run_extraction

distributed = pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def cluster():
    with distributed.LocalCluster(n_workers=2, processes=True, threads_per_worker=1,
                                  dashboard_address=None, memory_limit="2GiB") as c, \
            distributed.Client(c) as client:
        yield c, client


def _local_reference(tmp_path, corpus, papers):
    db, data = tmp_path / "local.db", tmp_path / "local"
    fill_store(db, data, corpus, papers)
    with open_store(db) as store:
        with LocalExecutor(2) as pool:
            run_extraction(store, data, executor=pool)
        return fact_set(store), statuses(store)


@pytest.mark.slow
@pytest.mark.timeout(120)
@pytest.mark.parametrize("send", ["paths", "bytes"])
def test_dask_gives_the_same_facts_as_local(tmp_path, corpus, cluster, send):
    papers = dict(list(SMALL.items())[:4])
    expected, expected_status = _local_reference(tmp_path, corpus, papers)
    _, client = cluster
    db, data = tmp_path / "dask.db", tmp_path / "dask"
    fill_store(db, data, corpus, papers)
    with open_store(db) as store:
        ex = DaskExecutor(client, timeout=60, send=send)
        summary = run_extraction(store, data, executor=ex)
        assert summary.executor == "dask"
        assert statuses(store) == expected_status
        assert fact_set(store) == expected
        assert len(expected) > 0


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_dask_worker_killed_mid_run_loses_no_paper(tmp_path, corpus, cluster):
    _, client = cluster
    client.wait_for_workers(2, timeout=30)
    db, data = tmp_path / "kill.db", tmp_path / "kill"
    ids = fill_store(db, data, corpus, SMALL)
    pids = client.run(os.getpid)
    killed = threading.Event()

    def kill_one(_result):
        if not killed.is_set():
            killed.set()
            os.kill(next(iter(pids.values())), signal.SIGKILL)

    with open_store(db) as store:
        run_extraction(store, data, executor=DaskExecutor(client, timeout=60, retries=1),
                       fn=slow_extract, on_result=kill_one)
        st = statuses(store)
    assert killed.is_set()
    assert sorted(st) == ids  # every paper ends with a recorded status
    assert all(st[a] == "ok" for a in SMALL)
    client.wait_for_workers(2, timeout=30)  # the nanny restarts the killed worker


def test_make_executor_errors():
    with pytest.raises(ExecutorError, match="--scheduler"):
        make_executor("dask")
    with pytest.raises(ExecutorError, match="one of"):
        make_executor("slurm")
    with pytest.raises(ExecutorError, match="Cannot reach the Dask scheduler"):
        make_executor("dask", scheduler="tcp://127.0.0.1:1", connect_timeout=2)
    assert make_executor("local", workers=3).workers == 3


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_extract_command_on_a_scheduler_address(cli_run, tmp_path, corpus, cluster):
    c, _ = cluster
    db, data = tmp_path / "cli.db", tmp_path / "cli"
    ids = fill_store(db, data, corpus, dict(list(SMALL.items())[:2]))
    r = cli_run("extract", "--db", db, "--data-dir", data, "--executor", "dask",
                "--scheduler", c.scheduler_address, "--send", "bytes", "--silent")
    assert r.exit_code == 0, r.output
    assert f"{len(ids)} papers extracted" in r.output and "on dask" in r.output
    with open_store(db) as store:
        assert sorted(statuses(store)) == ids
