"""Engines: where `process_partition` runs. Each yields (partition index, results) as done.

- serial: this process (one pipeline, built here).
- processes: `--jobs N` worker processes on this machine (spawned, one pipeline each).
- dask: a LocalCluster of N worker processes, or an existing cluster (`--scheduler`);
  a WorkerPlugin builds each worker's pipeline once, and Dask reschedules the
  partitions of a lost worker.
"""
from __future__ import annotations

import logging
import uuid
from collections import defaultdict, deque
from concurrent.futures import FIRST_COMPLETED, wait
from dataclasses import dataclass
from typing import Iterator

from speechledger.batch.work import FileResult, FileTask, PipelineSpec, get_pipeline, partition, process_partition

ENGINES = ("local", "dask")
MAX_POOL_RESTARTS = 3
DEFAULT_CLUSTER_WORKERS = 16     # partition sizing on an existing cluster of unknown size

Results = Iterator[tuple[int, list[FileResult]]]


def _failed(part: list[FileTask], reason: str) -> list[FileResult]:
    return [FileResult(t.path, t.source_key, error=f"{t.path}: {reason}") for t in part]


@dataclass
class Engine:
    """Which engine, how many workers, and for Dask an optional scheduler address."""
    kind: str = "local"            # local (serial for jobs=1, processes otherwise) or dask
    jobs: int = 1
    scheduler: str | None = None

    @property
    def is_dask(self) -> bool:
        return self.kind == "dask" or bool(self.scheduler)

    def partitions(self, tasks: list[FileTask]) -> list[list[FileTask]]:
        """One file per task on this machine (a local task costs little, and small tasks keep
        every finished file written early); grouped files for Dask, whose tasks cost more."""
        if not self.is_dask:
            return [[t] for t in tasks]
        return partition(tasks, self.jobs if not self.scheduler else DEFAULT_CLUSTER_WORKERS)

    def run(self, parts: list[list[FileTask]], spec: PipelineSpec, date: str | None) -> Results:
        if self.is_dask:
            return dask_results(parts, spec, date, self.jobs, self.scheduler)
        if self.jobs <= 1:
            return serial_results(parts, spec, date)
        return process_results(parts, spec, date, self.jobs)


def serial_results(parts, spec: PipelineSpec, date) -> Results:
    pipe = spec.build()
    for i, part in enumerate(parts):
        yield i, process_partition(part, spec, date, pipe)


# ---------------------------------------------------------------- --jobs N on this machine

def _init_worker(spec: PipelineSpec) -> None:
    import signal
    signal.signal(signal.SIGINT, signal.SIG_IGN)   # Ctrl-C is the parent's to handle
    get_pipeline(spec)


def process_results(parts, spec: PipelineSpec, date, jobs: int) -> Results:
    """Partitions on `jobs` spawned processes; a dead worker's partitions are retried once on a
    fresh pool, then reported as failed."""
    # here, not at module level: a serial run need not import the process pool (~20 ms)
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    ctx = mp.get_context("spawn")   # no fork of a parent that holds DB connections and threads
    tries: dict[int, int] = defaultdict(int)
    todo: deque[int] = deque(range(len(parts)))
    restarts = 0
    while todo:
        pool = ProcessPoolExecutor(max_workers=jobs, mp_context=ctx, initializer=_init_worker,
                                   initargs=(spec,))
        inflight: dict = {}
        broken = False
        try:
            while todo or inflight:
                while todo and len(inflight) < jobs * 2:   # enough queued that no worker idles
                    i = todo.popleft()
                    tries[i] += 1
                    inflight[pool.submit(process_partition, parts[i], spec, date)] = i
                done, _ = wait(inflight, return_when=FIRST_COMPLETED)
                for fut in done:
                    i = inflight.pop(fut)
                    try:
                        results = fut.result()
                    except BrokenProcessPool:
                        broken = True
                        if tries[i] > 1:
                            yield i, _failed(parts[i], "a worker process died twice while extracting it; skipped")
                        else:
                            todo.appendleft(i)
                        continue
                    yield i, results
                if broken:
                    todo.extendleft(sorted(inflight.values(), reverse=True))
                    inflight.clear()
                    break
        finally:
            pool.shutdown(wait=not broken, cancel_futures=True)
        if broken:
            restarts += 1
            if restarts > MAX_POOL_RESTARTS:
                for i in todo:
                    yield i, _failed(parts[i], "not extracted (worker processes keep dying)")
                return


# ---------------------------------------------------------------- Dask

def dask_client(jobs: int, scheduler: str | None):
    """A client on `scheduler`, or on a new LocalCluster of `jobs` single-threaded processes."""
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise RuntimeError("the Dask engine needs the [dask] extra: pip install 'speechledger[dask]'") from None
    if scheduler:
        try:
            return Client(scheduler, timeout="20s"), None
        except (OSError, TimeoutError) as e:
            raise RuntimeError(f"cannot reach the Dask scheduler at {scheduler}: {e}") from None
    # the extraction is pure Python: one thread per process, or workers only contend for the GIL
    cluster = LocalCluster(n_workers=jobs, threads_per_worker=1, processes=True,
                           dashboard_address=None, silence_logs=logging.ERROR)
    return Client(cluster), cluster


def dask_results(parts, spec: PipelineSpec, date, jobs: int, scheduler: str | None) -> Results:
    from distributed import as_completed
    client, cluster = dask_client(jobs, scheduler)
    try:
        # install the package's own plugin so workers build the pipeline before the first task
        from speechledger.batch.dask_plugin import PipelinePlugin
        client.register_plugin(PipelinePlugin(spec))
        # pure=False: a rerun must really run; keys are unique per submission
        run = uuid.uuid4().hex      # a cluster may serve several commands at once
        futures = {client.submit(process_partition, part, spec, date, pure=False,
                                 key=f"speechledger-{run}-{i}"): i
                   for i, part in enumerate(parts)}
        for fut in as_completed(futures):
            i = futures.pop(fut)
            try:
                results = fut.result()
            except Exception as e:   # KilledWorker after Dask's retries, or a lost scheduler
                results = _failed(parts[i], f"not extracted: {e.__class__.__name__}: {e}")
            fut.release()            # the driver holds the results now; free the worker's copy
            yield i, results
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
