"""A speech in traditional script gives the same ledger as in simplified script.

About a third of the real documents are traditional (Hong Kong, Taiwan, older notices). Every
bundled text (the seed compilation and the composed passages, our own) is converted with
OpenCC's character-level s2t / s2hk / s2tw, which keep the length, and extracted again: the
tasks, units (with roles), deadlines (with due dates) and targets (values, and units once folded
to simplified: ANNOTATION.md §5 keeps the unit as written) must be the same, offset for offset.
"""
from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TEXTS = sorted((ROOT / "corpus").glob("*/texts/*.txt"))


def _ledger(doc, t2s) -> list:
    out = []
    for sp in doc.speeches:
        for t in sp.tasks:
            out.append((t.start, t.end, t.modality,
                        tuple((u.start, u.end, u.role) for u in t.units),
                        tuple((d.start, d.end, d.due) for d in t.deadlines),
                        tuple((g.start, g.end, g.value, t2s.convert(g.unit), g.comparator) for g in t.targets)))
    return out


@pytest.mark.parametrize("variant", ["s2t", "s2hk", "s2tw"])
def test_traditional_script_gives_the_same_ledger(default_pipeline, variant):
    import opencc
    to_trad, t2s = opencc.OpenCC(variant), opencc.OpenCC("t2s")
    assert TEXTS, "no bundled texts under corpus/*/texts"
    checked = 0
    for f in TEXTS:
        text = f.read_text(encoding="utf-8")
        trad = to_trad.convert(text)
        if len(trad) != len(text) or trad == text:
            continue        # (a phrase conversion changed the length: offsets could not be compared)
        want = _ledger(default_pipeline(text, source=f.name), t2s)
        got = _ledger(default_pipeline(trad, source=f.name), t2s)
        assert got == want, f"{f.relative_to(ROOT)} in {variant}: {sorted(set(got) ^ set(want))[:3]}"
        checked += 1
    assert checked >= len(TEXTS) // 2, f"only {checked} of {len(TEXTS)} texts could be compared"
