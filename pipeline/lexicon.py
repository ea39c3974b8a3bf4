"""Rule data (YAML/TSV in pipeline/data/), loaded and compiled once per pipeline."""
from __future__ import annotations

import csv
import hashlib
import re
from dataclasses import dataclass, field
from functools import cached_property
from importlib import resources
from typing import Any

from speechledger import rxcache
from speechledger.regex_gate import class_end

DATA = "speechledger.data"


def _parse_yaml(text: str) -> Any:
    import yaml
    # libyaml's parser when PyYAML was built with it: the rule files load ~10x faster at start-up
    return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


def _yaml_version() -> str:
    """Which PyYAML is installed (its module file and when it was written), without importing it."""
    import importlib.util
    import os
    spec = importlib.util.find_spec("yaml")
    try:
        st = os.stat(spec.origin)
        return f"{spec.origin}:{st.st_size}:{st.st_mtime_ns}"
    except (AttributeError, TypeError, OSError):
        return "?"


# a space a PDF copy puts between the characters of a label ("牵 头 单 位：", "完　成　时　限：")
_LABEL_SPACE = "[ \\u3000]?"


def spaced_label(pattern: str) -> str:
    """pattern with an optional space allowed before a Chinese character written outside a
    character class that follows a character, a group or a class: "牵头单位" also matches "牵 头 单 位"
    and "牵头 单位". For the label rows only (their alternatives are plain words; a look-behind
    would lose its fixed width)."""
    out: list[str] = []
    i, n, prev = 0, len(pattern), False
    while i < n:
        ch = pattern[i]
        if ch == "\\":
            out.append(pattern[i:i + 2])
            i, prev = i + 2, False
            continue
        if ch == "[":           # a class: copied as it is
            j = class_end(pattern, i)
            out.append(pattern[i:j + 1])
            i, prev = j + 1, True
            continue
        cjk = "\u4e00" <= ch <= "\u9fff"
        if cjk and prev:
            out.append(_LABEL_SPACE)
        out.append(ch)
        # after a Chinese character, a group or a class closed (with its repeat), the next Chinese
        # character may follow a space: 牵头(?:责任)?单位 → "牵 头 单 位"; not after (, | or ^
        i, prev = i + 1, cjk or (prev and ch in "?*+}") or ch == ")"
    return "".join(out)


def load_yaml(name: str) -> Any:
    text = resources.files(DATA).joinpath(name).read_text(encoding="utf-8")
    # parsed once per content (and PyYAML version): parsing is most of a rule file's load time, and
    # with the parse cached PyYAML itself need not be imported
    key = hashlib.sha256(text.encode("utf-8")).hexdigest()
    return rxcache.memo("yaml " + _yaml_version(), text, _parse_yaml, key=key)


def load_text(name: str) -> str:
    """A plain data file without its # comment lines."""
    text = resources.files(DATA).joinpath(name).read_text(encoding="utf-8")
    return "".join(ln for ln in text.splitlines() if not ln.startswith("#"))


def load_tsv(name: str) -> list[dict[str, str]]:
    text = resources.files(DATA).joinpath(name).read_text(encoding="utf-8")
    rows = [ln for ln in text.splitlines() if ln.strip() and not ln.startswith("#")]
    return list(csv.DictReader(rows, delimiter="\t"))


@dataclass(frozen=True)
class Cue:
    id: str
    pattern: re.Pattern
    weight: float
    clause: bool = False    # counted per clause rather than per segment


@dataclass
class Lexicon:
    """All rule data of one pipeline; each part is compiled on first use."""

    _raw: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def load(cls) -> "Lexicon":
        return cls()

    def _get(self, name: str):
        if name not in self._raw:
            self._raw[name] = load_yaml(name) if name.endswith(".yaml") else load_tsv(name)
        return self._raw[name]

    @cached_property
    def task_cues(self) -> tuple[float, list[Cue]]:
        data = self._get("task_cues.yaml")
        cues = [Cue(c["id"], re.compile(c["pattern"]), float(c["weight"]), c.get("scope") == "clause")
                for c in data["cues"]]
        return float(data["threshold"]), cues

    @cached_property
    def modality(self) -> dict[str, Any]:
        d = self._get("modality.yaml")

        def alt(xs):
            return re.compile("|".join(map(re.escape, sorted(xs, key=len, reverse=True))))

        return {
            "must": alt(d["must"]["markers"]), "strive": alt(d["strive"]["markers"]),
            "should_overrides": alt(d["should_overrides"]["markers"]),
            "strive_exceptions": alt(d["strive_exceptions"]), "must_exceptions": alt(d["must_exceptions"]),
        }

    def cached(self, key: str, build):
        """Compile something from the data once per lexicon (per pipeline)."""
        if key not in self._raw:
            self._raw[key] = build(self)
        return self._raw[key]

    def data(self, name: str):
        """Raw content of a data file (for extractors that compile their own patterns)."""
        return self._get(name)
