"""The library entry points: build a pipeline, run it on files or text, get §6 records.

Stages are plain functions `stage(doc, config) -> doc`, composed by name from
STAGES in the order given by `stage_names()`; nothing registers on import.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

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
            self._cache["models"] = load_models(self.model_dir)
        return self._cache["models"]


def _stages() -> dict[str, Callable[[SpeechDoc, Config], SpeechDoc]]:
    from speechledger.extract import deadlines, targets, tasks, units
    from speechledger.normalize import normalize
    from speechledger.speeches import split_speeches
    from speechledger.structure import find_sections
    from speechledger.tokenize import tokenize
    stages = {
        "normalize": normalize,
        "speeches": split_speeches,
        "structure": find_sections,
        "tokenize": tokenize,
        "tasks": tasks.extract_tasks,
        "units": units.extract_units,
        "deadlines": deadlines.extract_deadlines,
        "targets": targets.extract_targets,
        "join_labels": tasks.join_labels,
        "specific": tasks.decide_specific,
    }
    try:
        from speechledger.ml import hybrid
        stages["ml_tasks"] = hybrid.ml_tasks
        stages["ml_units"] = hybrid.ml_units
    except ImportError:
        pass
    return stages


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
    names += ["deadlines", "targets", "join_labels", "specific"]
    return names


class Pipeline:
    """Reusable extraction pipeline; holds its own tokenizer, normaliser and models."""

    def __init__(self, extractors: str = "rules", tokenizer: str = "jieba",
                 model_dir: str | None = None, tokenize: bool = False):
        if extractors not in EXTRACTORS:
            raise ValueError(f"extractors must be one of {', '.join(EXTRACTORS)}, not {extractors!r}")
        self.config = Config(extractors=extractors, tokenizer_backend=tokenizer,
                             model_dir=model_dir, tokenize=tokenize)
        self._stages = _stages()
        self.names = stage_names(self.config)
        missing = [n for n in self.names if n not in self._stages]
        if missing:
            raise RuntimeError(f"pipeline stages not available: {', '.join(missing)}")
        if tokenize:
            self.config.tokenizer._load()   # fail now, with the backend's own message, not mid-batch

    def __call__(self, text: str, source: str = "<text>", date: str | None = None,
                 encoding: str = "utf-8") -> SpeechDoc:
        if date is not None and not _DATE.match(date):
            raise ValueError(f"--date must be YYYY-MM-DD, got {date!r}")
        doc = SpeechDoc(source=source, text=text, encoding=encoding, date=date)
        doc.meta["stem"] = Path(source).stem if source and not source.startswith("<") else ""
        for name in self.names:
            doc = self._stages[name](doc, self.config)
        return doc

    def run_file(self, path: str | Path, date: str | None = None) -> SpeechDoc:
        text, enc = read_file(path)
        return self(text, source=str(path), date=date, encoding=enc)


def extract_file(path: str | Path, date: str | None = None, pipeline: Pipeline | None = None) -> SpeechDoc:
    """Read and extract one file (raises InputError for unreadable input)."""
    return (pipeline or Pipeline()).run_file(path, date=date)


def records(doc: SpeechDoc) -> list[SpeechRecord]:
    """The §6 JSON objects (one per speech, speechledger.records.SpeechRecord) of a processed document."""
    return [sp.to_json(doc.source) for sp in doc.speeches]


def extract_records(path: str | Path, date: str | None = None,
                    pipeline: Pipeline | None = None) -> list[SpeechRecord]:
    return records(extract_file(path, date=date, pipeline=pipeline))


__all__ = ["Pipeline", "Config", "extract_file", "extract_records", "records", "iter_files", "discover", "InputError"]
