"""The document object that flows through every stage, and the frozen result types.

Every extracted item carries `start`/`end` into `SpeechDoc.text`, the decoded
source; `SpeechDoc.norm` is a same-length normalised copy used only for matching.
"""
from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass, field, fields
from functools import lru_cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from speechledger.records import SpeechRecord, TaskRecord


@dataclass(frozen=True)
class Segment:
    id: int
    start: int
    end: int
    text: str


@dataclass(frozen=True)
class Heading:
    start: int
    end: int
    text: str
    level: int          # 1 = 第一，/一、  2 = （一）  3 = 1、  4 = 一要/一是
    marker: str
    parent: int | None  # index into Speech.headings


@dataclass(frozen=True)
class Unit:
    start: int
    end: int
    text: str
    role: str  # lead | support
    source: str = "rules"
    rules: tuple[str, ...] = ()     # ids of the rule rows (pipeline/data/) that produced it


@dataclass(frozen=True)
class Deadline:
    start: int
    end: int
    text: str
    due: str | None
    placeholder: bool
    source: str = "rules"
    rules: tuple[str, ...] = ()


@dataclass(frozen=True)
class Target:
    start: int
    end: int
    text: str
    metric: str
    value: float | int | None
    unit: str
    comparator: str
    placeholder: bool
    source: str = "rules"
    rules: tuple[str, ...] = ()


@dataclass
class Task:
    start: int
    end: int
    text: str
    modality: str
    specific: bool
    segment: int
    heading: int | None = None
    units: list[Unit] = field(default_factory=list)
    deadlines: list[Deadline] = field(default_factory=list)
    targets: list[Target] = field(default_factory=list)
    extractor: str = "rules"
    confidence: float = 1.0
    rules: list[str] = field(default_factory=list)   # ids of the rule rows that made it a task
    p_specific: float | None = None   # the learned layer's P(specific), read by the specific stage

    def to_json(self) -> "TaskRecord":
        """The §6 task object (ANNOTATION.md), plus provenance fields (records.TaskRecord)."""
        return {
            "start": self.start, "end": self.end, "text": self.text,
            "modality": self.modality, "specific": self.specific, "segment": self.segment,
            "units": [_public(u) for u in self.units],
            "deadlines": [_public(d) for d in self.deadlines],
            "targets": [_public(t) for t in self.targets],
            "heading": self.heading,
            "extractor": self.extractor,
            "confidence": round(self.confidence, 4),
            "rules": list(self.rules),
        }


def _public(item) -> dict[str, Any]:
    # the items are flat (scalars and a tuple of rule ids): a shallow copy is asdict without its
    # recursion; their __dict__ holds the fields in field order (__init__ sets them so)
    d = item.__dict__.copy()
    if len(d) != len(_field_names(type(item))):         # anything set beside the fields: by name
        d = {name: getattr(item, name) for name in _field_names(type(item))}
    d.pop("source", None)
    d["rules"] = list(d.get("rules", ()))
    return d


@lru_cache(maxsize=None)
def _field_names(cls) -> tuple[str, ...]:
    return tuple(f.name for f in fields(cls))


SECTION_KINDS = ("review", "plan", "goals", "breakdown", "procedure")


@dataclass(frozen=True)
class Section:
    """A stretch of a speech of one kind (SECTION_KINDS), from headings and discourse markers."""
    start: int
    end: int
    kind: str
    year: int | None = None         # the year a goals section's targets are for
    rules: tuple[str, ...] = ()


@dataclass
class Speech:
    index: int
    start: int
    end: int
    title: str
    date: str | None = None       # YYYY-MM-DD when known
    year: int | None = None       # known year when the full date is not
    body_start: int | None = None  # where the speech proper begins (after its title block)
    segments: list[Segment] = field(default_factory=list)
    headings: list[Heading] = field(default_factory=list)
    sections: list[Section] = field(default_factory=list)   # sorted, non-overlapping
    tasks: list[Task] = field(default_factory=list)

    @property
    def ref_year(self) -> int | None:
        return int(self.date[:4]) if self.date else self.year

    def section_at(self, pos: int) -> Section | None:
        """The section holding offset pos (the innermost when sections nest is the structure stage's call)."""
        i = bisect_right(self.sections, pos, key=lambda s: s.start) - 1   # sorted, non-overlapping
        if i >= 0 and pos < self.sections[i].end:
            return self.sections[i]
        return None

    def to_json(self, source: str) -> "SpeechRecord":
        """The §6 speech object with every extracted field (records.SpeechRecord)."""
        return {
            "source": source, "speech": self.index, "title": self.title,
            "date": self.date, "year": self.ref_year, "start": self.start, "end": self.end,
            "headings": [{"start": h.start, "end": h.end, "text": h.text, "level": h.level,
                          "marker": h.marker, "parent": h.parent} for h in self.headings],
            "tasks": [t.to_json() for t in self.tasks],
        }


@dataclass
class SpeechDoc:
    """One input file on its way through the pipeline."""

    source: str
    text: str                      # decoded source, never modified
    encoding: str = "utf-8"
    norm: str = ""                 # same length as text: simplified, half-width
    date: str | None = None        # --date override, YYYY-MM-DD
    speeches: list[Speech] = field(default_factory=list)
    tokens: dict[int, list[tuple[int, int, str]]] = field(default_factory=dict)  # segment start -> tokens
    stem: str = ""                 # file name without suffix ("" for text given directly): a fallback title
    # segment start -> {task cue rule id: weight}, left by the rule tasks stage for the learned layer
    task_evidence: dict[int, dict[str, float]] = field(default_factory=dict)
    # left by the rule deadlines / targets stages for ml_mentions, which re-runs their finders with the
    # filters off only where that can find more: "deadline_filtered", the (start, end) of the tasks where
    # a deadline filter row fired; "numbers", task (start, end) -> the spans of find_targets' number matches
    finder_notes: dict[str, Any] = field(default_factory=dict)

    def span(self, start: int, end: int) -> str:
        return self.text[start:end]
