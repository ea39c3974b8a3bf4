"""No third-party text from ../shared/corpus in the project's tracked files (scripts/provenance.py)."""
from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest
from conftest import need_shared

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("provenance", ROOT / "scripts" / "provenance.py")
provenance = importlib.util.module_from_spec(_spec)
sys.modules["provenance"] = provenance  # its dataclass looks itself up there
_spec.loader.exec_module(provenance)


@pytest.fixture(scope="module")
def index():
    for sub in provenance.SOURCES:
        need_shared(sub)
    return provenance.Index(need_shared().parent)


def test_tracked_files_hold_no_shared_text(index):
    if not (ROOT / ".git").exists():
        pytest.skip("not a git checkout: no tracked files to scan")
    hits = provenance.scan_files(index, provenance.tracked_files())
    assert not hits, ("text copied from ../shared/corpus (replace it with a composed example; "
                      "never commit the long documents):\n" + "\n".join(map(str, hits)))


def _copied(index, sub: str, n: int) -> tuple[str, str]:
    """n Chinese characters of a shared text that the index flags (kept in memory and tmp only)."""
    for path in sorted(need_shared(sub).glob("*.txt")):
        for line in path.read_text(encoding="utf-8-sig").splitlines():
            han = "".join(c for c in line if "\u4e00" <= c <= "\u9fff")
            for i in range(0, len(han) - n + 1, n):
                if index.scan_text("probe", han[i:i + n]):
                    return han[i:i + n], f"{sub}/{path.name}"
    raise AssertionError(f"no span of {sub} to probe with")


def test_a_copied_phrase_is_found_despite_spacing_punctuation_and_script(index, tmp_path):
    phrase, source = _copied(index, "real/long", 18)
    disguised = " ".join(phrase[:6]) + "，" + phrase[6:]  # spaces and a comma inserted
    (tmp_path / "rules.yaml").write_text(f"# composed\nexamples: [加快建设, '{disguised}']\n", encoding="utf-8")
    hits = provenance.scan_files(index, ["rules.yaml"], root=tmp_path)
    assert [(h.path, h.line, h.source, h.length) for h in hits] == [("rules.yaml", 2, source, 18)]
    import opencc
    words, source = _copied(index, "train/texts", 24)
    (tmp_path / "t.py").write_text("x = '" + opencc.OpenCC("s2t").convert(words) + "'\n", encoding="utf-8")
    assert [h.source for h in provenance.scan_files(index, ["t.py"], root=tmp_path)] == [source]


def test_short_annotation_strings_in_gold_lines_are_exempt_but_task_text_is_not(index, tmp_path):
    span, _ = _copied(index, "real/texts", 30)
    gold = tmp_path / "corpus" / "gold.jsonl"
    gold.parent.mkdir()
    line = {"doc": "r001", "seg": 1, "start": 0, "end": 30, "units": [{"text": span, "role": "lead"}],
            "deadlines": [], "targets": []}
    gold.write_text(json.dumps(line, ensure_ascii=False) + "\n", encoding="utf-8")
    assert provenance.scan_files(index, ["corpus/gold.jsonl"], root=tmp_path) == []
    line["why"] = span  # anything but the unit/deadline/target strings is scanned
    gold.write_text(json.dumps(line, ensure_ascii=False) + "\n", encoding="utf-8")
    assert len(provenance.scan_files(index, ["corpus/gold.jsonl"], root=tmp_path)) == 1
    other = tmp_path / "tests" / "golden.jsonl"  # outside corpus/ nothing is exempt
    other.parent.mkdir()
    other.write_text(json.dumps(line, ensure_ascii=False) + "\n", encoding="utf-8")
    assert len(provenance.scan_files(index, ["tests/golden.jsonl"], root=tmp_path)) == 2
