"""The batch layer: files -> records on an engine (one process, --jobs, Dask) -> a sink.

`ingest` (into the ledger) and `extract` (JSONL, Parquet, table) are what the
commands call; `process_file` / `process_partition` are the one per-file function
every engine runs.
"""
from speechledger.batch.run import BatchStats, extract, ingest
from speechledger.batch.work import FileResult, FileTask, PipelineSpec, check_date, process_file, process_partition

__all__ = ["ingest", "extract", "BatchStats", "PipelineSpec", "FileTask", "FileResult", "process_file",
           "process_partition", "check_date"]
