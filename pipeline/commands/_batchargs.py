"""Engine options shared by `extract` and `ingest`."""
from __future__ import annotations


def add_engine_arguments(p) -> None:
    p.add_argument("--jobs", "-j", type=int, default=1,
                   help="worker processes (default 1); with --engine dask, the LocalCluster's workers")
    p.add_argument("--engine", choices=("local", "dask"), default="local",
                   help="local: this process, or --jobs worker processes (default); "
                        "dask: a Dask LocalCluster of --jobs processes (needs the [dask] extra)")
    p.add_argument("--scheduler", metavar="tcp://HOST:PORT",
                   help="run on an existing Dask cluster (implies --engine dask)")
    p.add_argument("--progress", action=_bool(), default=None,
                   help="show a progress bar (default: when standard error is a terminal)")


def _bool():
    import argparse
    return argparse.BooleanOptionalAction
