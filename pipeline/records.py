"""The typed record of one speech, from extraction to everything downstream.

`api.records()` produces these (the §6 extract contract of ANNOTATION.md plus
provenance); the ledger stores every field and gives them back
(`ledger.api.speech_record`); diff, evaluation, training and exports read them.
They are TypedDicts: plain JSON-ready dicts at run time, checked types for readers.
All offsets are `str` indices into the decoded source text.
"""
from __future__ import annotations

from typing import Literal, Optional, TypedDict, Union


class UnitRecord(TypedDict):
    start: int
    end: int
    text: str
    role: Literal["lead", "support"]
    rules: list[str]                 # ids of the rule rows (pipeline/data/) that produced it


class DeadlineRecord(TypedDict):
    start: int
    end: int
    text: str
    due: Optional[str]               # YYYY-MM-DD, None when it cannot be resolved
    placeholder: bool
    rules: list[str]


class TargetRecord(TypedDict):
    start: int
    end: int
    text: str
    metric: str
    value: Union[int, float, None]
    unit: str
    comparator: str                  # = >= <= > < ~
    placeholder: bool
    rules: list[str]


class HeadingRecord(TypedDict):
    start: int
    end: int
    text: str
    level: int
    marker: str                      # the numbering as written: 一、 （二） 3. 第一，
    parent: Optional[int]            # index into SpeechRecord.headings


class TaskRecord(TypedDict):
    start: int
    end: int
    text: str
    modality: str
    specific: bool
    segment: int                     # id of the segment the task starts in
    heading: Optional[int]           # index into SpeechRecord.headings
    units: list[UnitRecord]
    deadlines: list[DeadlineRecord]
    targets: list[TargetRecord]
    extractor: str                   # rules | ml | hybrid
    confidence: float
    rules: list[str]


class SpeechRecord(TypedDict):
    source: str
    speech: int                      # 0-based index of the speech in its file
    title: str
    date: Optional[str]
    year: Optional[int]
    start: int                       # the speech's span in the file's text
    end: int
    headings: list[HeadingRecord]
    tasks: list[TaskRecord]


# field names, for checks that a consumer keeps every one of them
FIELDS = {name: tuple(cls.__annotations__) for name, cls in
          (("speech", SpeechRecord), ("heading", HeadingRecord), ("task", TaskRecord),
           ("unit", UnitRecord), ("deadline", DeadlineRecord), ("target", TargetRecord))}

__all__ = ["SpeechRecord", "HeadingRecord", "TaskRecord", "UnitRecord", "DeadlineRecord",
           "TargetRecord", "FIELDS"]


def content_sha(*parts: str) -> str:
    """The ledger's content hash (sha256 of the NUL-separated parts): idempotent ingest keys on it."""
    import hashlib
    h = hashlib.sha256()
    for p in parts:
        h.update(p.encode("utf-8", "surrogatepass"))
        h.update(b"\0")
    return h.hexdigest()
