"""What changed inside a pair of tasks: target, deadline, units, modality, wording.

Extractor fields (targets, deadlines, units, modality) are compared when the
extractor gives them; targets and deadlines are also read off the texts
themselves, number by number, so "增长15%" → "增长X%" is a target change even
when the extractor found no target there.
"""
from __future__ import annotations

import re
from collections import Counter
from difflib import SequenceMatcher
from typing import Any

from speechledger.diff.mask import MASK, Number, fold, fold_plain, fold_with_numbers
from speechledger.normalize import norm_text

CHANGE_TYPES = ("target", "deadline", "units", "modality", "wording")
MODALITY_RANK = {"should": 1, "strive": 2, "must": 3}
_TIME_WORDS = re.compile(
    r"年底|年末|年内|上半年|下半年|[一二三四1-4]季度|明年|后年"
    r"|(?:[Xx×*]+|\d{1,2}|[一二三四五六七八九十]{1,3})月(?:底|末|中旬|上旬|下旬|份)?"
    r"|(?:\d{1,2}|[一二三四五两])年内")


def _value(n: Number) -> str:
    return "X" if n.placeholder else norm_text(n.text).strip()


def _num_str(v) -> str:
    if v is None:
        return "X"
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def number_changes(old_text: str, new_text: str) -> list[dict[str, Any]]:
    """Numbers/placeholders that differ between two texts aligned on their masked form.

    Each change is {"kind": "date"|"quantity"|"other", "old": "9"|None, "new": "X"|None,
    "old_span": [s, e]|None, "new_span": [s, e]|None} with spans into the given texts.
    Numbers at the same place of the wording count whatever their kind; a number
    present on one side only counts when it is a quantity (a value with a unit), so
    a place name hidden as "XX" is wording, not a target.
    """
    ko, oo = fold_with_numbers(old_text)
    kn, on = fold_with_numbers(new_text)
    if MASK not in ko and MASK not in kn:
        return []
    out: list[dict[str, Any]] = []

    def pair(a: Number | None, b: Number | None) -> None:
        if a is not None and b is not None:
            if _value(a) == _value(b):
                return
            kind = "date" if "date" in (a.kind, b.kind) else ("quantity" if "quantity" in (a.kind, b.kind)
                                                             else "other")
        else:
            n = a or b
            if n.kind == "other":
                return
            kind = n.kind
        out.append({"kind": kind, "old": _value(a) if a else None, "new": _value(b) if b else None,
                    "old_span": [a.start, a.end] if a else None,
                    "new_span": [b.start, b.end] if b else None})

    sm = SequenceMatcher(None, ko, kn, autojunk=False)
    for op, i1, i2, j1, j2 in sm.get_opcodes():
        a = [oo[k] for k in range(i1, i2) if ko[k] == MASK]
        b = [on[k] for k in range(j1, j2) if kn[k] == MASK]
        if not a and not b:
            continue
        if op == "equal" or len(a) == len(b):
            for x, y in zip(a, b):
                pair(x, y)
        else:
            for x in a:
                pair(x, None)
            for y in b:
                pair(None, y)
    return out


def _target_key(t: dict) -> tuple:
    v = t.get("value")
    return (fold(t.get("metric") or ""), None if t.get("placeholder") else v,
            t.get("unit") or "", t.get("comparator") or "", bool(t.get("placeholder")))


def _target_str(t: dict) -> str:
    comp = {">=": "≥", "<=": "≤", "~": "≈"}.get(t.get("comparator") or "", "")
    return f"{comp}{'X' if t.get('placeholder') else _num_str(t.get('value'))}{t.get('unit') or ''}"


def target_changes(old: dict, new: dict) -> list[dict[str, Any]]:
    """Extractor targets that differ, matched by metric then by order: [{"metric", "old", "new"}]."""
    to, tn = list(old.get("targets") or []), list(new.get("targets") or [])
    if [_target_key(t) for t in to] == [_target_key(t) for t in tn]:
        return []
    out = []
    rest_new = list(tn)
    unmatched_old = []
    for t in to:
        m = fold(t.get("metric") or "")   # masked: a qualifier number in the metric may change too
        hit = next((u for u in rest_new if fold(u.get("metric") or "") == m), None)
        if hit is None:
            unmatched_old.append(t)
            continue
        rest_new.remove(hit)
        if _target_key(t) != _target_key(hit):
            out.append({"metric": t.get("metric") or hit.get("metric"), "old": _target_str(t),
                        "new": _target_str(hit)})
    for t in unmatched_old:
        u = rest_new.pop(0) if rest_new else None
        if u is None:
            out.append({"metric": t.get("metric"), "old": _target_str(t), "new": None})
        elif _target_key(t)[1:] != _target_key(u)[1:]:
            out.append({"metric": u.get("metric") or t.get("metric"), "old": _target_str(t),
                        "new": _target_str(u)})
    for u in rest_new:
        out.append({"metric": u.get("metric"), "old": None, "new": _target_str(u)})
    return out


def _deadline_key(d: dict) -> tuple:
    # Compared as written, not by `due`: "年底前" in this year's and last year's speech is the
    # same deadline wording, and a speech of unknown date has due None where the other has a date.
    return (re.sub(r"(?:以前|之前|前)$", "", fold_plain(d.get("text") or "")), bool(d.get("placeholder")))


def deadline_changes(old: dict, new: dict) -> dict[str, Any] | None:
    """Extractor deadlines that differ: {"old": [...], "new": [...]} or None."""
    do, dn = old.get("deadlines") or [], new.get("deadlines") or []
    if Counter(map(_deadline_key, do)) == Counter(map(_deadline_key, dn)):
        return None

    def show(d):   # 3月底前 (2025-03-31); render.py joins old and new with " → "
        due = d.get("due") or ("待定" if d.get("placeholder") else None)
        return f"{d.get('text')} ({due})" if due else f"{d.get('text')}"
    return {"old": [show(d) for d in do], "new": [show(d) for d in dn]}


def unit_changes(old: dict, new: dict) -> dict[str, Any] | None:
    """Responsible units added or removed (or whose role changed): {"added": [...], "removed": [...]}."""
    def keyset(t):
        return {(fold_plain(u.get("text") or ""), u.get("role")): u.get("text") for u in t.get("units") or []}
    uo, un = keyset(old), keyset(new)
    if uo.keys() == un.keys():
        return None

    def show(k, text):
        return text if k[1] == "lead" else f"{text}({k[1]})"
    return {"added": [show(k, v) for k, v in un.items() if k not in uo],
            "removed": [show(k, v) for k, v in uo.items() if k not in un]}


def modality_change(old: dict, new: dict) -> str | None:
    """"strengthened" / "weakened" when the modality moved between should < strive < must."""
    a = MODALITY_RANK.get(old.get("modality") or "", 0)
    b = MODALITY_RANK.get(new.get("modality") or "", 0)
    if a == b or not a or not b:
        return None
    return "strengthened" if b > a else "weakened"


def _covered(span, task: dict) -> bool:
    """Whether a number span (relative to the task text) lies inside one of the task's targets."""
    if not span:
        return False
    s, e = task.get("start", 0) + span[0], task.get("start", 0) + span[1]
    return any(t.get("start", -1) <= s and e <= t.get("end", -1) for t in task.get("targets") or [])


def classify(old: dict, new: dict) -> tuple[list[str], dict[str, Any]]:
    """The change types of a paired (old, new) §6 task, and their details."""
    details: dict[str, Any] = {}
    old_text, new_text = old.get("text") or "", new.get("text") or ""
    nums = number_changes(old_text, new_text)
    tgt = target_changes(old, new)
    tgt_text = [n for n in nums if n["kind"] != "date"]
    # numbers the extractor's targets already cover are reported through them (metric, unit, comparator)
    tgt_text = [n for n in tgt_text if not (_covered(n["old_span"], old) or _covered(n["new_span"], new))]
    if tgt or tgt_text:
        details["target"] = tgt + [{"metric": None, "old": n["old"], "new": n["new"]} for n in tgt_text]
    dl = deadline_changes(old, new)
    dl_text = [n for n in nums if n["kind"] == "date"]
    words_o = Counter(_TIME_WORDS.findall(fold_plain(old_text)))
    words_n = Counter(_TIME_WORDS.findall(fold_plain(new_text)))
    if dl or dl_text or words_o != words_n:
        details["deadline"] = dl or {"old": [n["old"] for n in dl_text] or sorted(words_o),
                                     "new": [n["new"] for n in dl_text] or sorted(words_n)}
    un = unit_changes(old, new)
    if un:
        details["units"] = un
    mod = modality_change(old, new)
    if mod:
        details["modality"] = {"old": old.get("modality"), "new": new.get("modality"), "direction": mod}
    if fold_with_numbers(old_text)[0] != fold_with_numbers(new_text)[0]:
        details["wording"] = True
    if nums:
        details["numbers"] = nums
    changes = [c for c in CHANGE_TYPES if c in details]
    return changes, details


def status(changes: list[str], details: dict[str, Any] | None = None) -> str:
    """A short label for a pair: unchanged, reworded, or the change types joined."""
    if not changes:
        return "unchanged"
    if changes == ["wording"]:
        return "reworded"
    parts = []
    for c in changes:
        if c == "modality" and details and "modality" in details:
            parts.append("modality " + details["modality"]["direction"])
        elif c != "wording":
            parts.append(c + " changed" if c != "units" else "units changed")
    return ", ".join(parts) + (" (reworded)" if "wording" in changes else "")
