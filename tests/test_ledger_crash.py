"""Crash safety of ingest: a killed worker, a killed ingest and Ctrl-C keep the ledger whole.

Each test runs `speechledger ingest --jobs 2` in a subprocess over copies of the
corpus compilation (whitespace variants, so the expected counts per file are
known from one pipeline run), interrupts it mid-batch, and checks that every
speech in the ledger is complete and that a second run finishes the batch.
"""
from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from speechledger.api import Pipeline

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "corpus" / "texts" / "speeches2024.txt"
N_FILES = 16


@pytest.fixture(scope="module")
def expected() -> list[int]:
    """Tasks per speech of the compilation (the same for every whitespace variant)."""
    return [len(sp.tasks) for sp in Pipeline(extractors="rules").run_file(CORPUS).speeches]


@pytest.fixture
def batch(tmp_path) -> Path:
    folder = tmp_path / "batch"
    folder.mkdir()
    text = CORPUS.read_text(encoding="utf-8")
    for i in range(N_FILES):
        (folder / f"s{i:02d}.txt").write_text(text + "\n" * (i + 1), encoding="utf-8")
    return folder


def _start(folder: Path, db: Path, jobs: int = 2) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "speechledger", "ingest", str(folder), "--jobs", str(jobs),
                             "--extractors", "rules", "--db", f"sqlite:///{db}", "--no-progress"],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _speeches_written(db: Path) -> int:
    if not db.exists():
        return 0
    try:
        with sqlite3.connect(db, timeout=5) as c:
            return c.execute("SELECT count(*) FROM speeches").fetchone()[0]
    except sqlite3.OperationalError:   # schema not there yet
        return 0


def _wait_for(pred, timeout: float = 60) -> None:
    end = time.monotonic() + timeout
    while not pred():
        if time.monotonic() > end:
            pytest.fail("timed out waiting for the ingest to make progress")
        time.sleep(0.02)


def _children(pid: int) -> list[int]:
    kids = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        kids += [int(x) for x in (task / "children").read_text().split()]
    return kids


def _check_whole(db: Path, expected: list[int]) -> int:
    """Every stored speech has all its tasks; returns the number of speeches."""
    with sqlite3.connect(db) as c:
        rows = c.execute("SELECT s.speech_index, count(t.id) FROM speeches s "
                         "LEFT JOIN tasks t ON t.speech_id = s.id GROUP BY s.id").fetchall()
        dup = c.execute("SELECT count(*) FROM (SELECT source_key, speech_index FROM speeches "
                        "WHERE current GROUP BY source_key, speech_index HAVING count(*) > 1)").fetchone()[0]
    assert dup == 0
    for index, n in rows:
        assert n == expected[index]
    return len(rows)


def _finish_and_check(folder: Path, db: Path, expected: list[int]) -> None:
    again = _start(folder, db, jobs=1)
    out, err = again.communicate(timeout=120)
    assert again.returncode == 0, err
    assert _check_whole(db, expected) == N_FILES * len(expected)


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="needs /proc to find worker processes")
def test_killing_a_worker_mid_batch_loses_nothing(batch, tmp_path, expected):
    db = tmp_path / "ledger.sqlite"
    proc = _start(batch, db)
    _wait_for(lambda: _speeches_written(db) >= 1 and _children(proc.pid))
    os.kill(_children(proc.pid)[0], signal.SIGKILL)
    out, err = proc.communicate(timeout=120)
    # the lost work is retried on a fresh pool, so the batch still completes
    assert proc.returncode == 0, err
    assert _check_whole(db, expected) == N_FILES * len(expected)
    _finish_and_check(batch, db, expected)


def test_killing_the_ingest_keeps_finished_speeches_and_drops_the_unfinished(batch, tmp_path, expected):
    db = tmp_path / "ledger.sqlite"
    proc = _start(batch, db)
    _wait_for(lambda: _speeches_written(db) >= 3)
    kids = _children_safe(proc.pid)
    proc.kill()                        # SIGKILL: no cleanup at all
    for kid in kids:                   # orphaned workers would keep the pipes open
        os.kill(kid, signal.SIGKILL)
    proc.communicate(timeout=30)
    written = _check_whole(db, expected)
    assert 3 <= written < N_FILES * len(expected)
    _finish_and_check(batch, db, expected)


def test_ctrl_c_stops_cleanly(batch, tmp_path, expected):
    db = tmp_path / "ledger.sqlite"
    proc = _start(batch, db)
    _wait_for(lambda: _speeches_written(db) >= 2)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "interrupted" in err
    _check_whole(db, expected)
    _finish_and_check(batch, db, expected)


def _children_safe(pid: int) -> list[int]:
    try:
        return _children(pid)
    except (FileNotFoundError, ProcessLookupError):
        return []
