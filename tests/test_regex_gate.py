"""The literal gate in front of the structure rows must never hide a row match (it only saves time)."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from speechledger.lexicon import load_yaml
from speechledger.regex_gate import literal_gate, required_literals

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("pattern, text", [
    (r"(?:主要|预期)目标(?:是)?[:：]", "今年主要目标是："),
    (r"^(?:到|至)(?:19|20)\d\d年(?:底|末)?[，,]", "到2027年底，"),
    (r"(?:今年|明年)[^，,。]{0,12}(?:抓好|做好)", "今年要着力做好"),
    (r"a+b|c{2,}", "aab"),
])
def test_every_match_holds_a_required_literal(pattern, text):
    m = re.search(pattern, text)
    assert m and any(lit in m.group() for lit in required_literals(pattern))


def test_patterns_without_a_certain_literal_get_no_gate():
    assert required_literals(r".+") is None
    assert required_literals(r"(?i)abc") is None
    assert literal_gate([r"解读如下", r"[^，]{2,}"]) is None


def test_the_structure_gates_pass_every_text_a_row_matches():
    data = load_yaml("structure.yaml")
    texts = [ln for f in sorted((ROOT / "corpus" / "texts").glob("*.txt"))
             for ln in re.split(r"[\n。；]", f.read_text(encoding="utf-8")) if ln.strip()]
    for group in ("document", "heading", "marker"):
        rows = data.get(group, [])
        gate = literal_gate([r["pattern"] for r in rows])
        examples = [x for r in rows for x in r.get("match", [])]
        for t in examples + texts:
            if any(re.search(r["pattern"], t) for r in rows):
                assert gate is None or gate.search(t), (group, t)
