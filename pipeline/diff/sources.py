"""Resolve OLD/NEW arguments of `diff`: FILE, FILE#N (N-th speech, 1-based), or a ledger speech id."""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any

_SPEC = re.compile(r"^(?P<path>.*?)#(?P<n>\d+)$")


class DiffError(ValueError):
    """A diff argument that cannot be used; the message says which and what to do."""


def parse_spec(spec: str) -> tuple[str, int | None]:
    """'a.txt#2' -> ('a.txt', 2); 'a.txt' -> ('a.txt', None)."""
    m = _SPEC.match(spec)
    if m and m.group("path") and not Path(spec).exists():
        return m.group("path"), int(m.group("n"))
    return spec, None


def is_ledger_id(spec: str, db: str | None) -> bool:
    """A bare integer names a ledger speech when --db is given or no such file exists."""
    return spec.isdigit() and (db is not None or not Path(spec).exists())


class Loader:
    """Loads speech records for diffing; extracts each file once (FILE#2 and FILE#5 share it)."""

    def __init__(self, pipeline=None, date: str | None = None, db: str | None = None):
        self._pipeline = pipeline
        self.date = date
        self.db = db
        self._docs: dict[str, Any] = {}

    @property
    def pipeline(self):
        if self._pipeline is None:
            from speechledger.api import Pipeline
            self._pipeline = Pipeline()
        return self._pipeline

    def load(self, spec: str) -> tuple[dict[str, Any], str]:
        """The §6 record of one speech and the full text its offsets point into."""
        if is_ledger_id(spec, self.db):
            return self._from_ledger(int(spec))
        path, n = parse_spec(spec)
        doc = self._doc(path)
        k = len(doc.speeches)
        if k == 0:
            raise DiffError(f"{path}: no speech found in this file")
        if n is None:
            if k > 1:
                listing = "; ".join(f"#{i + 1} {sp.title or '(untitled)'}" for i, sp in enumerate(doc.speeches))
                raise DiffError(f"{path} holds {k} speeches; name one as {path}#N (N = 1..{k}): {listing}")
            n = 1
        if not 1 <= n <= k:
            raise DiffError(f"{path}#{n}: the file holds {k} speech{'es' if k > 1 else ''}; use #1..#{k}")
        return doc.speeches[n - 1].to_json(path), doc.text

    def _doc(self, path: str):
        if path not in self._docs:
            from speechledger.reader import InputError
            if not Path(path).exists():
                hint = " (for a speech in the ledger, give its id with --db URL)" if not path.isdigit() else ""
                raise DiffError(f"{path}: no such file{hint}")
            try:
                self._docs[path] = self.pipeline.run_file(path, date=self.date)
            except InputError as e:
                raise DiffError(str(e)) from e
        return self._docs[path]

    def _from_ledger(self, speech_id: int) -> tuple[dict[str, Any], str]:
        try:
            from speechledger.ledger.api import load_speech_record
        except ImportError as e:
            raise DiffError(f"speech id {speech_id}: reading speeches from the ledger is not available in "
                            f"this install (speechledger.ledger.api.load_speech_record: {e}); "
                            "diff the speech files instead (FILE or FILE#N)") from e
        try:
            record = load_speech_record(self.db, speech_id)   # None: the ledger's default URL
        except Exception as e:  # the ledger's own error says which id and which database
            raise DiffError(f"speech id {speech_id}: {e}") from e
        record = dict(record)
        text = record.pop("text", None) or ""
        return record, text


def diff_sources(old_spec: str, new_spec: str, db: str | None = None, date: str | None = None,
                 pipeline=None, threshold: float | None = None):
    """Diff two speeches named as FILE, FILE#N or ledger speech ids (with db, a SQLAlchemy URL)."""
    from speechledger.diff.align import THRESHOLD
    from speechledger.diff.compare import diff_speeches
    loader = Loader(pipeline=pipeline, date=date, db=db)
    old, old_text = loader.load(old_spec)
    new, new_text = loader.load(new_spec)
    return diff_speeches(old, new, old_text, new_text,
                         threshold=THRESHOLD if threshold is None else threshold)
