"""The batch layer: every engine gives the same ledger and the same records; Parquet = JSONL.

A module-scoped LocalCluster(n_workers=2, processes=True) serves the Dask tests;
the test with real `dask scheduler` / `dask worker` processes and a killed worker
is marked slow.
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from speechledger.batch import FileTask, PipelineSpec, extract, ingest, process_file
from speechledger.batch.engines import Engine
from speechledger.batch.work import file_tasks, partition
from speechledger.cli import main
from speechledger.ledger.db import open_ledger
from speechledger.ledger.models import Deadline, Speech, Target, Task, TaskUnit

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "corpus" / "texts" / "speeches2024.txt"
TABLES = ("speeches", "tasks", "units", "deadlines", "targets")


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    """Variants of the compilation (so every file is new content) and one bad file."""
    d = tmp_path_factory.mktemp("batch") / "in"
    (d / "sub").mkdir(parents=True)
    text = CORPUS.read_text(encoding="utf-8")
    for i in range(3):
        (d / ("sub" if i % 2 else ".") / f"s{i}.txt").write_text(text + "\n" * (i + 1), encoding="utf-8")
    (d / "empty.txt").write_bytes(b"")
    return d


@pytest.fixture(scope="module")
def dask_cluster():
    distributed = pytest.importorskip("distributed")
    import logging
    with distributed.LocalCluster(n_workers=2, processes=True, threads_per_worker=1,
                                  dashboard_address=None, silence_logs=logging.ERROR) as cluster:
        yield cluster


def snapshot(url: str) -> list[tuple]:
    """The ledger's content without its ids: what every engine must agree on."""
    with open_ledger(url) as led, led.session() as s:
        out = []
        for sp in s.scalars(select(Speech).order_by(Speech.source_key, Speech.speech_index, Speech.version)):
            tasks = s.scalars(select(Task).where(Task.speech_id == sp.id).order_by(Task.position)).all()
            items = []
            for t in tasks:
                n = [len(s.scalars(select(m).where(m.task_id == t.id)).all()) for m in (TaskUnit, Deadline, Target)]
                items.append((t.start, t.end, t.text, t.modality, t.specific, *n))
            out.append((sp.source_key, sp.speech_index, sp.version, sp.current, sp.content_hash, tuple(items)))
        return out


def _ingest(url: str, folder: Path, **kw):
    with open_ledger(url) as led:
        return ingest(led, [folder], extractors="rules", progress=False, report=lambda m: None, **kw)


@pytest.fixture(scope="module")
def single(folder, tmp_path_factory) -> tuple[str, list]:
    url = f"sqlite:///{tmp_path_factory.mktemp('single') / 'ledger.sqlite'}"
    summary = _ingest(url, folder)
    assert len(summary.errors) == 1 and "empty.txt" in summary.errors[0]
    return url, snapshot(url)


# ---------------------------------------------------------------- one per-file function

def test_the_per_file_function_reports_a_bad_file_instead_of_raising(tmp_path, rules_pipeline):
    bad = tmp_path / "bad.docx"
    bad.write_bytes(b"not a zip")
    r = process_file(FileTask(str(bad), str(bad)), None, rules_pipeline)
    assert r.error and r.error.startswith(str(bad)) and not r.speeches
    good = process_file(FileTask(str(CORPUS), str(CORPUS)), None, rules_pipeline)
    assert good.error is None and good.speeches
    for sp in good.speeches:
        for t in sp["tasks"]:
            assert good.text[t["start"]:t["end"]] == t["text"]


def test_partitions_keep_every_file_once_in_order():
    tasks = [FileTask(f"f{i}", f"f{i}", size=1000 * (i % 7 + 1)) for i in range(200)]
    parts = partition(tasks, workers=2)
    assert [t for p in parts for t in p] == tasks
    assert 4 <= len(parts) < len(tasks)          # grouped, but enough to balance 2 workers
    assert all(len(p) <= 64 for p in parts)
    assert Engine("local", jobs=2).partitions(tasks) == [[t] for t in tasks]


# ---------------------------------------------------------------- engines agree

@pytest.mark.slow
def test_jobs_2_gives_the_single_process_ledger(folder, single, tmp_path):
    url = f"sqlite:///{tmp_path / 'j2.sqlite'}"
    summary = _ingest(url, folder, jobs=2)
    assert len(summary.errors) == 1
    assert snapshot(url) == single[1]


@pytest.mark.slow
def test_dask_local_cluster_gives_the_single_process_ledger_and_reruns_add_nothing(folder, single, tmp_path,
                                                                                    dask_cluster):
    url = f"sqlite:///{tmp_path / 'dask.sqlite'}"
    summary = _ingest(url, folder, engine="dask", scheduler=dask_cluster.scheduler_address)
    assert len(summary.errors) == 1 and "empty.txt" in summary.errors[0]
    assert snapshot(url) == single[1]
    again = _ingest(url, folder, engine="dask", scheduler=dask_cluster.scheduler_address)
    assert again.speeches == 0 and again.unchanged == 3
    assert snapshot(url) == single[1]


def test_dask_workers_build_the_pipeline_once_each(folder, tmp_path, dask_cluster):
    from distributed import Client
    extract([folder], fmt="jsonl", output=str(tmp_path / "x.jsonl"), scheduler=dask_cluster.scheduler_address,
            spec=PipelineSpec("rules"), progress=False, report=lambda m: None)

    def pipelines():
        from speechledger.batch.work import _PIPELINES
        return [(spec.extractors, id(p)) for spec, p in _PIPELINES.items()]
    with Client(dask_cluster.scheduler_address) as client:
        per_worker = client.run(pipelines)
    assert len(per_worker) == 2
    assert all(len(v) == 1 and v[0][0] == "rules" for v in per_worker.values())


def test_dask_engine_jsonl_equals_single_process_jsonl(folder, tmp_path, dask_cluster):
    outs = []
    for name, kw in (("one", {}), ("dask", {"scheduler": dask_cluster.scheduler_address})):
        out = tmp_path / f"{name}.jsonl"
        stats = extract([folder], fmt="jsonl", output=str(out), spec=PipelineSpec("rules"), progress=False,
                        report=lambda m: None, **kw)
        assert stats.ok == 3 and len(stats.errors) == 1
        outs.append(out.read_text(encoding="utf-8"))
    assert outs[0] == outs[1]          # same records, same (input) order


# ---------------------------------------------------------------- Parquet

def _jsonl_counts(path: Path) -> dict[str, int]:
    recs = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    tasks = [t for r in recs for t in r["tasks"]]
    return {"speeches": len(recs), "tasks": len(tasks),
            **{k: sum(len(t[k]) for t in tasks) for k in ("units", "deadlines", "targets")}}


@pytest.mark.parametrize("engine", ["local", "dask"])
def test_parquet_row_counts_equal_jsonl_and_read_as_is(folder, tmp_path, engine, request):
    kw = {"scheduler": request.getfixturevalue("dask_cluster").scheduler_address} if engine == "dask" else {}
    pq_dir, jl = tmp_path / "out.parquet", tmp_path / "out.jsonl"
    assert main(["extract", str(folder), "--format", "jsonl", "-o", str(jl), "--extractors", "rules"]) == 1
    args = ["extract", str(folder), "--format", "parquet", "-o", str(pq_dir), "--extractors", "rules"]
    assert main(args + (["--scheduler", kw["scheduler"]] if kw else [])) == 1   # empty.txt fails
    expected = _jsonl_counts(jl)
    assert expected["tasks"] and expected["units"] and expected["targets"]

    import pandas as pd
    import pyarrow.dataset as ds
    for t in TABLES:
        assert len(pd.read_parquet(pq_dir / t)) == expected[t], t
        assert ds.dataset(pq_dir / t, format="parquet").count_rows() == expected[t], t
    import duckdb
    import polars as pl
    con = duckdb.connect()
    for t in TABLES:
        glob = str(pq_dir / t / "*.parquet")
        assert con.execute(f"SELECT count(*) FROM read_parquet('{glob}')").fetchall()[0][0] == expected[t]
        assert pl.read_parquet(glob).height == expected[t]
    # ids link the tables, and offsets point into the source text
    joined = con.execute(f"""SELECT count(*) FROM read_parquet('{pq_dir}/units/*.parquet') u
        JOIN read_parquet('{pq_dir}/tasks/*.parquet') t USING (task_id)
        JOIN read_parquet('{pq_dir}/speeches/*.parquet') s ON s.speech_id = t.speech_id""").fetchall()[0][0]
    assert joined == expected["units"]
    tasks = pd.read_parquet(pq_dir / "tasks")
    texts = {src: Path(src).read_text(encoding="utf-8") for src in tasks["source"].unique()}
    assert all(texts[r.source][r.start:r.end] == r.text for r in tasks.itertuples())


def test_parquet_is_split_into_parts_for_large_batches(folder, tmp_path):
    from speechledger.batch import sinks
    sink = sinks.ParquetSink(tmp_path / "p", speeches_per_part=4)
    from speechledger.batch.engines import serial_results
    parts = [[t] for t in file_tasks([folder])]
    for i, res in serial_results(parts, PipelineSpec("rules"), None):
        sink.write(i, res)
    sink.commit()
    import pandas as pd
    files = sorted((tmp_path / "p" / "speeches").glob("part-*.parquet"))
    assert len(files) > 1
    assert len(pd.read_parquet(tmp_path / "p" / "speeches")) == sink.rows["speeches"] == 15


# ---------------------------------------------------------------- outputs and options

@pytest.mark.parametrize("fmt", ["jsonl", "parquet"])
def test_a_batch_that_fails_entirely_leaves_the_existing_output(tmp_path, fmt, capsys):
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"")
    out = tmp_path / ("out.jsonl" if fmt == "jsonl" else "out.parquet")
    if fmt == "jsonl":
        out.write_text("previous\n", encoding="utf-8")
    else:
        (out / "speeches").mkdir(parents=True)
        (out / "speeches" / "part-00000.parquet").write_bytes(b"previous")
    assert main(["extract", str(bad), "--format", fmt, "-o", str(out), "--extractors", "rules"]) == 1
    assert "not written" in capsys.readouterr().err
    if fmt == "jsonl":
        assert out.read_text(encoding="utf-8") == "previous\n"
    else:
        assert (out / "speeches" / "part-00000.parquet").read_bytes() == b"previous"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []   # no temp left behind


def test_output_is_replaced_when_files_succeed(tmp_path):
    out = tmp_path / "out.jsonl"
    out.write_text("previous\n", encoding="utf-8")
    assert main(["extract", str(CORPUS), "--format", "jsonl", "-o", str(out), "--extractors", "rules"]) == 0
    assert out.read_text(encoding="utf-8").startswith('{"source"')


@pytest.mark.parametrize("cmd", ["extract", "ingest"])
@pytest.mark.parametrize("bad", ["2023-02-30", "2024-13-01", "20240101", "July 4"])
def test_impossible_dates_are_rejected_with_a_clear_message(cmd, bad, tmp_path, capsys):
    args = [cmd, str(CORPUS), "--date", bad] + (["--db", f"sqlite:///{tmp_path}/l.sqlite"] if cmd == "ingest" else [])
    assert main(args) == 2
    err = capsys.readouterr().err
    assert bad in err and "date" in err
    assert not (tmp_path / "l.sqlite").exists()


def test_parquet_without_an_output_folder_is_a_usage_error(capsys):
    assert main(["extract", str(CORPUS), "--format", "parquet"]) == 2
    assert "-o" in capsys.readouterr().err


# ---------------------------------------------------------------- a real cluster, a lost worker

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _dask_cli() -> list[str]:
    exe = Path(sys.executable).parent / "dask"
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "dask"]


@pytest.mark.slow
def test_a_worker_killed_mid_batch_on_a_real_cluster_loses_and_duplicates_nothing(single, folder, tmp_path):
    pytest.importorskip("distributed")
    big = tmp_path / "big"
    shutil.copytree(folder, big)
    text = CORPUS.read_text(encoding="utf-8")
    for i in range(6):       # more work, so the kill lands mid-batch
        (big / f"m{i}.txt").write_text(text + "\n" * (i + 10), encoding="utf-8")
    addr = f"tcp://127.0.0.1:{_free_port()}"
    procs = []
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    try:
        procs.append(subprocess.Popen(_dask_cli() + ["scheduler", "--host", "127.0.0.1",
                                                     "--port", addr.rsplit(":", 1)[1], "--no-dashboard"],
                                      env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        workers = [subprocess.Popen(_dask_cli() + ["worker", addr, "--nthreads", "1", "--no-nanny", "--no-dashboard",
                                                   "--host", "127.0.0.1", "--name", f"w{i}"],
                                    env=env, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                   for i in range(2)]
        procs += workers
        from distributed import Client
        with Client(addr, timeout="60s") as c:
            c.wait_for_workers(2, timeout=120)
        db = tmp_path / "cluster.sqlite"
        ing = subprocess.Popen([sys.executable, "-m", "speechledger", "ingest", str(big), "--scheduler", addr,
                                "--extractors", "rules", "--db", f"sqlite:///{db}", "--no-progress"],
                               cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        procs.append(ing)
        end = time.monotonic() + 180
        while _speeches(db) < 1:
            assert ing.poll() is None, ing.stderr.read()
            assert time.monotonic() < end, "the cluster ingest made no progress"
            time.sleep(0.05)
        workers[0].send_signal(signal.SIGKILL)
        at_kill = _speeches(db)
        _, err = ing.communicate(timeout=300)
        assert ing.returncode == 1, err             # only empty.txt fails
        assert "empty.txt" in err and err.count("error:") == 1
        assert at_kill < 5 * 9          # the kill landed mid-batch (9 good files of 5 speeches)
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait(timeout=30)
    # the same batch on one process: identical ledger content, nothing lost or twice
    ref = f"sqlite:///{tmp_path / 'ref.sqlite'}"
    _ingest(ref, big)
    got = snapshot(f"sqlite:///{db}")
    assert got == snapshot(ref)
    assert len({(s[0], s[1]) for s in got}) == len(got)


def _speeches(db: Path) -> int:
    import sqlite3
    if not db.exists():
        return 0
    try:
        with sqlite3.connect(db, timeout=5) as c:
            return c.execute("SELECT count(*) FROM speeches").fetchone()[0]
    except sqlite3.OperationalError:
        return 0
