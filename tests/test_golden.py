"""Golden extractor output on real text, and quality floors on the bundled gold."""
from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("update_golden", ROOT / "scripts" / "update_golden.py")
update_golden = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(update_golden)
from conftest import need_shared  # noqa: E402

from speechledger.referee import referee  # noqa: E402  (the contract's referee, shipped verbatim)

score = referee().score


@pytest.mark.parametrize("path", update_golden.FILES)
def test_rules_output_matches_golden(path, rules_pipeline):
    if path.startswith("shared:"):
        need_shared()
    golden = ROOT / "tests" / "golden" / (Path(path).stem + ".rules.jsonl")
    want = [json.loads(line) for line in golden.read_text(encoding="utf-8").splitlines()]
    got = update_golden.golden_records(path, rules_pipeline)
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert g["title"] == w["title"] and g["date"] == w["date"]
        for gt, wt in zip(g["tasks"], w["tasks"]):
            assert gt == wt, "extraction changed; if on purpose run scripts/update_golden.py and review the diff"
        assert len(g["tasks"]) == len(w["tasks"])


def _predict(pipeline, texts: Path, dates: dict, out: Path) -> Path:
    with out.open("w", encoding="utf-8") as f:
        for p in sorted(texts.glob("*.txt")):
            doc = pipeline.run_file(p, date=dates.get(p.stem))
            for sp in doc.speeches:
                f.write(json.dumps(sp.to_json(str(p)), ensure_ascii=False) + "\n")
    return out


# Floors: the dev figures are the acceptance bar of the extraction issue; the other
# sets sit a little under what the rules score today, so a regression fails.
FLOORS = {
    "dev": ("texts", "gold/dev.jsonl", None, {"tasks": 0.96, "units": 0.93, "deadlines": 0.95, "targets": 0.95}),
    "train": ("shared:train/texts", "shared:train/gold.jsonl", "shared:train/dates.json",
              {"tasks": 0.95, "units": 0.93, "deadlines": 0.60, "targets": 0.80}),
    "extra": ("extra/texts", "extra/gold.jsonl", "extra/dates.json",
              {"tasks": 0.97, "units": 0.92, "deadlines": 0.92, "targets": 0.90}),
    "extra2": ("extra2/texts", "extra2/gold.jsonl", "extra2/dates.json",
               {"tasks": 0.93, "units": 0.90, "deadlines": 0.90, "targets": 0.88}),
}


@pytest.mark.parametrize("name", FLOORS)
def test_rules_quality_floor(name, rules_pipeline, corpus_dir, tmp_path):
    texts, gold, dates, floors = FLOORS[name]
    if texts.startswith("shared:"):
        corpus_dir = need_shared()
        texts, gold, dates = (x[len("shared:"):] for x in (texts, gold, dates))
    d = json.loads((corpus_dir / dates).read_text(encoding="utf-8")) if dates else {}
    pred = _predict(rules_pipeline, corpus_dir / texts, d, tmp_path / "pred.jsonl")
    r = score(str(corpus_dir / texts), str(corpus_dir / gold), str(pred))
    assert r["offset_errors"] == 0
    for field, floor in floors.items():
        assert r[field]["f1"] >= floor, f"{name} {field} F1 {r[field]['f1']} < {floor}"


# The real development sets (scripts/real_sets.py: ../shared minus the frozen test split,
# with our gold corrections). Never add the frozen real-test/long-test sets here.
REAL_FLOORS = {
    "real-dev": {"tasks": 0.84, "units": 0.83, "deadlines": 0.70, "targets": 0.89},
    "long-dev": {"tasks": 0.97, "units": 0.94, "deadlines": 0.90, "targets": 0.92},
}


@pytest.fixture(scope="module")
def real_sets(tmp_path_factory):
    need_shared("real")
    spec = importlib.util.spec_from_file_location("real_sets", ROOT / "scripts" / "real_sets.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.lay_out(tmp_path_factory.mktemp("sets"))


@pytest.mark.slow
@pytest.mark.parametrize("name", REAL_FLOORS)
def test_rules_quality_floor_on_real_dev_sets(name, real_sets, rules_pipeline, tmp_path):
    d = real_sets[name]
    dates = json.loads((d / "dates.json").read_text(encoding="utf-8"))
    pred = _predict(rules_pipeline, d / "texts", dates, tmp_path / "pred.jsonl")
    r = score(str(d / "texts"), str(d / "gold.jsonl"), str(pred))
    assert r["offset_errors"] == 0
    for field, floor in REAL_FLOORS[name].items():
        assert r[field]["f1"] >= floor, f"{name} {field} F1 {r[field]['f1']} < {floor}"
