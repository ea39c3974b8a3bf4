"""The library entry points: build a pipeline, run it on files or text, get §6 records.

Stages are plain functions `stage(doc, config) -> doc`, declared in STAGES with what
they require and provide, composed by name in the order given by `stage_names()` and
checked by `check_order()`; a stage's module is imported only when a pipeline uses it.
"""
from __future__ import annotations

import gc
import re
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from speechledger import rxcache
from speechledger.doc import SpeechDoc
from speechledger.read import InputError, discover, iter_files, read_file  # noqa: F401 (re-exported)
from speechledger.records import SpeechRecord

EXTRACTORS = ("rules", "ml", "hybrid")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass
class Config:
    extractors: str = "rules"
    tokenizer_backend: str = "jieba"
    model_dir: str | None = None
    tokenize: bool = False           # token layer is only built when asked (spaCy export, ML)
    _cache: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def normalizer(self):
        if "normalizer" not in self._cache:
            from speechledger.normalize import Normalizer
            self._cache["normalizer"] = Normalizer()
        return self._cache["normalizer"]

    @property
    def tokenizer(self):
        if "tokenizer" not in self._cache:
            from speechledger.tokenize import Tokenizer
            self._cache["tokenizer"] = Tokenizer(self.tokenizer_backend)
        return self._cache["tokenizer"]

    @property
    def lexicon(self):
        if "lexicon" not in self._cache:
            from speechledger.lexicon import Lexicon
            self._cache["lexicon"] = Lexicon.load()
        return self._cache["lexicon"]

    @property
    def models(self):
        """Learned models for ml/hybrid; None (with a warning) when absent."""
        if "models" not in self._cache:
            from speechledger.ml.loading import load_models
            self._cache["models"] = load_models(self.model_dir, lazy_ml=self.extractors == "hybrid")
        return self._cache["models"]


@dataclass(frozen=True)
class Stage:
    """A pipeline stage: the function that runs it and the document fields it reads and writes.

    `requires` must all be provided by earlier stages (or be "text", the input);
    `check_order` enforces this for every pipeline, so a reordering fails at construction.
    """
    name: str
    func: str                       # "module:function", imported only when the stage is used
    requires: tuple[str, ...]
    provides: tuple[str, ...]

    def load(self) -> Callable[[SpeechDoc, Config], SpeechDoc]:
        import importlib
        mod, fn = self.func.split(":")
        return getattr(importlib.import_module(mod), fn)


STAGES: dict[str, Stage] = {s.name: s for s in (
    Stage("normalize", "speechledger.normalize:normalize", ("text",), ("norm",)),
    Stage("speeches", "speechledger.speeches:split_speeches", ("text", "norm"),
          ("speeches", "segments", "headings")),
    Stage("structure", "speechledger.structure:find_sections", ("speeches", "segments", "headings"),
          ("sections",)),
    Stage("tokenize", "speechledger.tokenize:tokenize", ("segments",), ("tokens",)),
    Stage("tasks", "speechledger.extract.tasks:extract_tasks", ("segments", "headings", "sections"),
          ("tasks", "task.rules", "task_evidence")),
    Stage("ml_tasks", "speechledger.ml.hybrid:ml_tasks", ("tasks", "task.rules", "task_evidence"),
          ("tasks", "task.p_specific")),
    Stage("units", "speechledger.extract.units:extract_units", ("tasks",), ("units",)),
    Stage("ml_units", "speechledger.ml.hybrid:ml_units", ("tasks", "units"), ("units",)),
    Stage("deadlines", "speechledger.extract.deadlines:extract_deadlines", ("tasks",), ("deadlines",)),
    Stage("targets", "speechledger.extract.targets:extract_targets", ("tasks",), ("targets",)),
    Stage("ml_mentions", "speechledger.ml.mentions:ml_mentions", ("tasks", "deadlines", "targets"),
          ("deadlines", "targets")),
    Stage("tables", "speechledger.extract.tables:table_tasks", ("tasks", "units", "deadlines", "targets"),
          ("tasks", "table_rows")),
    Stage("join_labels", "speechledger.extract.tasks:join_labels", ("tasks", "units", "deadlines", "targets"),
          ("breakdown_items",)),
    Stage("specific", "speechledger.extract.tasks:decide_specific", ("tasks", "units", "deadlines", "targets"),
          ("task.specific",)),
)}


def check_order(names: list[str]) -> None:
    """Raise RuntimeError when a stage runs before a stage providing what it requires."""
    have = {"text"}
    for n in names:
        if n not in STAGES:
            raise RuntimeError(f"unknown pipeline stage {n!r}")
        missing = [r for r in STAGES[n].requires if r not in have]
        if missing:
            raise RuntimeError(f"stage {n!r} requires {', '.join(missing)}, not provided by the stages before it")
        have.update(STAGES[n].provides)


def stage_names(config: Config) -> list[str]:
    names = ["normalize", "speeches", "structure"]
    if config.tokenize:
        names.append("tokenize")
    names.append("tasks")
    if config.extractors in ("ml", "hybrid"):
        names.append("ml_tasks")
    names.append("units")
    if config.extractors in ("ml", "hybrid"):
        names.append("ml_units")
    names += ["deadlines", "targets"]
    if config.extractors in ("ml", "hybrid"):
        names.append("ml_mentions")
    names += ["tables", "join_labels", "specific"]
    return names


class Pipeline:
    """Reusable extraction pipeline; holds its own tokenizer, normaliser and models."""

    def __init__(self, extractors: str = "rules", tokenizer: str = "jieba",
                 model_dir: str | None = None, tokenize: bool = False):
        if extractors not in EXTRACTORS:
            raise ValueError(f"extractors must be one of {', '.join(EXTRACTORS)}, not {extractors!r}")
        self.config = Config(extractors=extractors, tokenizer_backend=tokenizer,
                             model_dir=model_dir, tokenize=tokenize)
        self.names = stage_names(self.config)
        check_order(self.names)
        with rxcache.compiling():
            self._stages = {n: STAGES[n].load() for n in self.names}
        if tokenize:
            self.config.tokenizer._load()   # fail now, with the backend's own message, not mid-batch

    def __call__(self, text: str, source: str = "<text>", date: str | None = None,
                 encoding: str = "utf-8") -> SpeechDoc:
        if date is not None and not _DATE.match(date):
            raise ValueError(f"--date must be YYYY-MM-DD, got {date!r}")
        stem = Path(source).stem if source and not source.startswith("<") else ""
        doc = SpeechDoc(source=source, text=text, encoding=encoding, date=date, stem=stem)
        # the stages compile their rules on first use: from the regex cache when it has them
        with rxcache.compiling(), gc_paused():
            for name in self.names:
                doc = self._stages[name](doc, self.config)
        rxcache.flush()
        return doc

    def run_file(self, path: str | Path, date: str | None = None) -> SpeechDoc:
        text, enc = read_file(path)
        return self(text, source=str(path), date=date, encoding=enc)


@contextmanager
def gc_paused():
    """Run a block without the cyclic garbage collector (restored after, unless it was off already).

    Extraction makes no reference cycles (everything it drops is freed by reference counting),
    but it allocates millions of objects, and each full collection the allocations trigger scans
    the whole heap, the growing document included: 5-10% of a 1 MB extraction, for nothing.
    """
    was_on = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_on:
            # what the block allocated and kept (a large file's records) would sit in the youngest
            # generation, and the next young collection would walk it all (~0.1 s after 1 MB): move
            # every tracked object to the oldest one (freeze + unfreeze), walked only by full collections
            gc.freeze()
            gc.unfreeze()
            gc.enable()


def extract_file(path: str | Path, date: str | None = None, pipeline: Pipeline | None = None) -> SpeechDoc:
    """Read and extract one file (raises InputError for unreadable input)."""
    return (pipeline or Pipeline()).run_file(path, date=date)


def records(doc: SpeechDoc) -> list[SpeechRecord]:
    """The §6 JSON objects (one per speech, speechledger.records.SpeechRecord) of a processed document."""
    return [sp.to_json(doc.source) for sp in doc.speeches]


def extract_records(path: str | Path, date: str | None = None,
                    pipeline: Pipeline | None = None) -> list[SpeechRecord]:
    return records(extract_file(path, date=date, pipeline=pipeline))



__all__ = ["Pipeline", "Config", "Stage", "STAGES", "check_order", "extract_file", "extract_records", "records",
           "iter_files", "discover", "InputError"]
