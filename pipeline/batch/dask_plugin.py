"""The Dask WorkerPlugin (imported only by the Dask engine: it needs `distributed`)."""
from __future__ import annotations

from distributed.diagnostics.plugin import WorkerPlugin

from speechledger.batch.work import PipelineSpec, get_pipeline


class PipelinePlugin(WorkerPlugin):
    """Builds the worker's pipeline once, when the worker joins, not with each task."""

    def __init__(self, spec: PipelineSpec):
        self.spec = spec
        self.name = f"speechledger-pipeline-{spec.extractors}-{spec.tokenizer}"

    def setup(self, worker):
        get_pipeline(self.spec)
