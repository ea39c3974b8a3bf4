"""The literal gate in front of the structure rows must never hide a row match (it only saves time)."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from speechledger.lexicon import load_yaml
from speechledger.regex_gate import (
    AnyBranch,
    LiteralPlan,
    literal_bits,
    literal_gate,
    literal_trie,
    required_literals,
    searcher,
    top_branches,
)

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


def test_the_rarest_required_literal_set_is_chosen(monkeypatch):
    """Of the literal sets every match must hold, the gate takes the one that lets the fewest texts
    through (pipeline/data/char_freq.tsv): one rare character rather than many common verbs."""
    from speechledger import regex_gate
    pattern = r"(?:完成|实施|推进|建设|开展)[^，。]{0,6}龘"
    assert required_literals(pattern) == ["龘"]
    m = re.search(pattern, "今年要完成好龘")
    assert m and any(lit in m.group() for lit in required_literals(pattern))
    # without the table the length rules decide (the longer literals), and the gate is as sound
    monkeypatch.setattr(regex_gate, "_char_freq", lambda: {})
    got = regex_gate._required_literals(pattern)
    assert got == sorted(["完成", "实施", "推进", "建设", "开展"], key=lambda x: (len(x), x))


def test_the_frequency_table_is_what_its_script_writes(tmp_path):
    import subprocess
    import sys
    out = tmp_path / "char_freq.tsv"
    subprocess.run([sys.executable, str(ROOT / "scripts" / "char_freq.py"), "--out", str(out)],
                   check=True, capture_output=True)
    assert out.read_bytes() == (ROOT / "pipeline" / "data" / "char_freq.tsv").read_bytes(), \
        "the corpus texts changed: run python scripts/char_freq.py"


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


def test_literal_trie_finds_the_longest_word_at_each_position():
    rx = re.compile(literal_trie(["加快", "加快推进", "加强", "推进", "a.b"]))
    assert [rx.match("加快推进工作", i) and rx.match("加快推进工作", i).group() for i in range(4)] == \
        ["加快推进", None, "推进", None]
    assert rx.match("加快推动").group() == "加快"
    assert rx.search("xa.bx").group() == "a.b" and not rx.search("axb")


@pytest.mark.parametrize("text,start,end,want", [
    ("要加快推进项目", 0, 99, {"要", "加快", "加快推进", "推进"}),     # overlapping and nested literals
    ("要加快推进项目", 2, 5, {"推进"}),                            # a slice: only literals wholly inside
    ("加快推进行动", 0, 99, {"加快", "加快推进", "推进", "推进行动", "行动"}),  # one starting inside another
    ("", 0, 99, set()),
    ("无关的文字", 0, 99, set()),
])
def test_literal_bits_finds_every_literal_in_the_slice(text, start, end, want):
    import pickle
    words = ["要", "加快", "加快推进", "推进", "推进行动", "行动", "项目建设"]
    bits = {w: 1 << i for i, w in enumerate(words)}
    scan = literal_bits(bits)
    got = {w for w, b in bits.items() if scan(text, start, end) & b}
    assert got == want
    assert got == {w for w in words if w in text[start:end]}
    assert pickle.loads(pickle.dumps(scan))(text, start, end, 1 << 20) == scan(text, start, end) | 1 << 20
    plan = LiteralPlan([{"加快"}, None, {"行动", "项目建设"}])
    assert plan.rows(text, start, end) == 2 | ("加快" in text[start:end]) | \
        4 * any(w in text[start:end] for w in ("行动", "项目建设"))


def test_searcher_finds_the_same_matches_as_the_pattern():
    """Task cues, structure and deadline rows are searched through searcher(): it may only change speed."""
    cues = load_yaml("task_cues.yaml")["cues"]
    rows = [r for g in ("document", "heading", "marker") for r in load_yaml("structure.yaml").get(g, [])]
    texts = [ln for f in sorted((ROOT / "corpus" / "texts").glob("*.txt"))
             for ln in re.split(r"[\n。]", f.read_text(encoding="utf-8")) if ln.strip()]
    wrapped = 0
    for r in cues + rows:
        rx = re.compile(r["pattern"])
        fast = searcher(rx)
        wrapped += fast is not rx
        for t in [x for x in r.get("match", []) + r.get("no_match", [])] + texts:
            assert [m.span() for m in rx.finditer(t)] == [m.span() for m in fast.finditer(t)], (r["id"], t)
    assert wrapped          # some rows do get the look-ahead
    assert searcher(re.compile("必须|务必")).pattern == "必须|务必"     # re skips through these by itself


def test_top_branches_split_only_the_outer_alternation():
    assert top_branches(r"a(?:b|c)|[|(]d|\|e") == ["a(?:b|c)", "[|(]d", r"\|e"]
    assert top_branches(r"a(?:b|c)") is None
    assert top_branches(r"(a)|\1") is None and top_branches(r"(?i)a|b") is None
    assert top_branches(r"(?:a|b)|(?:c)d|(?:e|(?:f|g))") == ["a", "b", "(?:c)d", "e", "f", "g"]


def test_any_branch_matches_exactly_where_the_pattern_does():
    cues = load_yaml("task_cues.yaml")["cues"]
    joined = "|".join(f"(?:{c['pattern']})" for c in cues if c["id"] in ("past", "past_statistics", "achievement"))
    rx, any_branch = re.compile(joined), AnyBranch(joined)
    assert len(any_branch.alts) > 3
    texts = [ln for f in sorted((ROOT / "corpus" / "texts").glob("*.txt"))
             for ln in re.split(r"[\n，。]", f.read_text(encoding="utf-8")) if ln.strip()]
    for t in texts + [x for c in cues for x in c.get("match", []) + c.get("no_match", [])]:
        assert (rx.search(t) is None) == (any_branch.search(t) is None), t


def test_the_cue_plan_selects_every_cue_a_segment_holds():
    """Each segment is searched only for the cue alternatives whose literals it holds: a cue the
    plan leaves out, or cuts to some alternatives, must not match the segment."""
    from speechledger.extract.tasks import _cue_plan, cue_bits
    from speechledger.lexicon import Lexicon
    lex = Lexicon.load()
    always, scan, _, _, select = _cue_plan(lex)
    cues = lex.task_cues[1]
    texts = [ln for f in sorted((ROOT / "corpus" / "texts").glob("*.txt"))
             for ln in re.split(r"[\n。]", f.read_text(encoding="utf-8")) if ln.strip()]
    texts += [x for c in load_yaml("task_cues.yaml")["cues"] for x in c.get("match", []) + c.get("no_match", [])]
    cut = 0
    for t in texts:
        sel = {c.id: c for c in select(cue_bits(t, always, scan))}
        for c in cues:
            matched = c.pattern.search(t) is not None
            assert matched == (c.id in sel and sel[c.id].pattern.search(t) is not None), (c.id, t)
            cut += c.id in sel and sel[c.id].pattern.pattern != searcher(c.pattern).pattern
    assert cut      # some cues are searched for part of their alternatives only


def test_the_cue_plan_finds_the_same_once_its_compiled_combinations_are_full(monkeypatch):
    """Past PARTIAL_CUES_MAX combinations a cue is searched whole: the same matches, no more compiling."""
    from speechledger.extract import tasks
    from speechledger.lexicon import Lexicon
    texts = [ln for f in sorted((ROOT / "corpus" / "texts").glob("*.txt"))
             for ln in re.split(r"[\n。]", f.read_text(encoding="utf-8")) if ln.strip()]

    def matches(lex):
        always, scan, _, _, select = tasks._cue_plan(lex)
        out = []
        for t in texts:
            sel = select(tasks.cue_bits(t, always, scan))
            out.append([(c.id, m.span()) for c in sel for m in c.pattern.finditer(t)])
        return out

    bounded = matches(Lexicon.load())
    monkeypatch.setattr(tasks, "PARTIAL_CUES_MAX", 0)
    assert matches(Lexicon.load()) == bounded
