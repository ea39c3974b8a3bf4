"""The project's scorer agrees with the referee, and its counts add up across documents."""
from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from conftest import SHARED_CORPUS, need_shared
from speechledger import evaluate as ev

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "corpus"


def _referee():
    spec = importlib.util.spec_from_file_location("referee_score", ROOT / "scripts" / "referee" / "score.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _predict(texts: Path, dates: dict, out: Path) -> Path:
    from speechledger.api import Pipeline, records
    pipe = Pipeline(extractors="rules")
    with open(out, "w", encoding="utf-8") as f:
        for p in sorted(texts.glob("*.txt")):
            for rec in records(pipe.run_file(p, date=dates.get(p.stem))):
                f.write(json.dumps(rec, ensure_ascii=False) + "\n")
    return out


def _dates(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}


SETS = [
    (CORPUS / "texts", CORPUS / "gold" / "dev.jsonl", CORPUS / "none.json"),
    (SHARED_CORPUS / "train" / "texts", SHARED_CORPUS / "train" / "gold.jsonl", SHARED_CORPUS / "train" / "dates.json"),
]


@pytest.mark.parametrize("texts,gold,dates", SETS, ids=["dev", "train"])
def test_scorer_gives_the_referees_numbers_on_the_same_prediction_file(tmp_path, texts, gold, dates):
    if str(texts).startswith(str(SHARED_CORPUS)):
        need_shared("train")
    pred = _predict(texts, _dates(dates), tmp_path / "pred.jsonl")
    mine = ev.score(str(texts), str(gold), str(pred))
    theirs = _referee().score(str(texts), str(gold), str(pred))
    assert {k: v for k, v in mine.items() if k != "_errors"} == {k: v for k, v in theirs.items() if k != "_errors"}
    assert json.loads(json.dumps(mine["_errors"], ensure_ascii=False)) == \
        json.loads(json.dumps(theirs["_errors"], ensure_ascii=False))


def test_scorer_agrees_on_an_offset_error_and_a_multi_segment_task(tmp_path):
    texts = CORPUS / "texts"
    text = (texts / "speeches2024.txt").read_text(encoding="utf-8")
    tasks = [{"start": 412, "end": 520, "text": text[412:520], "modality": "should", "specific": False,
              "units": [], "deadlines": [], "targets": []},
             {"start": 0, "end": 5, "text": "wrong", "modality": "must", "specific": True,
              "units": [{"start": 0, "end": 2, "text": text[0:2], "role": "lead"}], "deadlines": [], "targets": []}]
    pred = tmp_path / "pred.jsonl"
    pred.write_text(json.dumps({"source": "speeches2024.txt", "speech": 0, "tasks": tasks}, ensure_ascii=False) + "\n",
                    encoding="utf-8")
    gold = CORPUS / "gold" / "dev.jsonl"
    mine = ev.score(str(texts), str(gold), str(pred))
    theirs = _referee().score(str(texts), str(gold), str(pred))
    assert mine["offset_errors"] == theirs["offset_errors"] == 1
    assert {k: v for k, v in mine.items() if k != "_errors"} == {k: v for k, v in theirs.items() if k != "_errors"}


def _gold_as_records(texts: Path, gold_path: Path) -> list[dict]:
    from speechledger.segment import split_segments
    recs = []
    for doc, by_seg in ev.read_gold(gold_path).items():
        text = (texts / f"{doc}.txt").read_text(encoding="utf-8")
        segs = split_segments(text)
        tasks = []
        for sid, g in sorted(by_seg.items()):
            s = segs[sid]
            t = {"start": s.start, "end": s.end, "text": s.text, "modality": g["modality"], "specific": g["specific"]}
            for kind in ("units", "deadlines", "targets"):
                t[kind] = []
                for item in g.get(kind, []):
                    a, b = ev.locate(s.text, s.start, item)
                    t[kind].append({**{k: v for k, v in item.items() if k != "occ"}, "start": a, "end": b})
            tasks.append(t)
        recs.append({"source": f"{doc}.txt", "speech": 0, "tasks": tasks})
    return recs


def test_gold_scored_as_prediction_is_perfect():
    need_shared("train")
    texts, gold = SHARED_CORPUS / "train" / "texts", SHARED_CORPUS / "train" / "gold.jsonl"
    r = ev.score_records(str(texts), str(gold), _gold_as_records(texts, gold))
    for field in ev.FIELDS:
        assert r[field]["f1"] == 1.0, field
    assert r["accuracy"]["modality"] == r["accuracy"]["specific"] == r["accuracy"]["unit_role"] == 1.0


def test_counts_of_each_speech_add_up_to_the_whole_file():
    from speechledger.api import Pipeline, records
    rules_pipeline = Pipeline(extractors="rules")
    from speechledger.segment import split_segments
    path = CORPUS / "texts" / "speeches2024.txt"
    text = path.read_text(encoding="utf-8")
    doc = rules_pipeline(text, source=str(path))
    recs = records(doc)
    gold = ev.read_gold(CORPUS / "gold" / "dev.jsonl")["speeches2024"]
    segs = split_segments(text)
    whole = ev.score_document("speeches2024", text, gold, [t for r in recs for t in r["tasks"]], segs=segs)
    parts = ev.Counts(docs=0)
    for sp, rec in zip(doc.speeches, recs):
        parts.add(ev.score_document("speeches2024", text, gold, rec["tasks"], segs=segs, only=(sp.start, sp.end)))
    a, b = whole.result(), parts.result()
    for field in ev.FIELDS:
        assert a[field] == b[field], field
    assert a["accuracy"] == b["accuracy"]


def test_folds_are_deterministic_and_cover_every_document():
    keys = [f"d{i}" for i in range(23)]
    f1, f2 = ev.fold_of(keys, 5, 13), ev.fold_of(keys, 5, 13)
    assert f1 == f2
    assert set(f1) == set(keys)
    sizes = sorted(list(f1.values()).count(k) for k in range(5))
    assert sizes[-1] - sizes[0] <= 1


def test_evaluate_command_prints_per_field_scores(capsys):
    need_shared("train")
    from speechledger.cli import main
    rc = main(["evaluate", "--texts", str(SHARED_CORPUS / "train" / "texts"), "--gold", str(SHARED_CORPUS / "train" / "gold.jsonl"),
               "--dates", str(SHARED_CORPUS / "train" / "dates.json"), "--extractors", "rules"])
    out = capsys.readouterr().out
    assert rc == 0
    for field in ev.FIELDS:
        assert field in out
    assert "macro F1" in out


def test_evaluate_command_without_gold_is_a_usage_error(capsys):
    from speechledger.cli import main
    assert main(["evaluate", "--texts", str(CORPUS / "texts")]) == 2
    assert "--gold" in capsys.readouterr().err
