"""Scoring goes through the referee shipped in the package, which is the shared referee byte for byte;
cross-validation is by document, on real documents only."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import SHARED_CORPUS, need_shared

from speechledger import evaluate as ev
from speechledger.referee import referee

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "corpus"
PACKAGED = ROOT / "pipeline" / "referee"


@pytest.mark.parametrize("name", ["score.py", "segments.py", "validate_gold.py"])
def test_the_packaged_referee_is_the_shared_one_byte_for_byte(name):
    shared = SHARED_CORPUS.parent / "eval" / name
    if not shared.is_file():
        need_shared("../eval")
    assert (PACKAGED / name).read_bytes() == shared.read_bytes()


def test_loading_the_referee_leaves_sys_path_and_modules_alone():
    import sys
    before = list(sys.path)
    mod = referee()
    assert sys.path == before
    assert callable(mod.score) and callable(mod.match)


def test_evaluate_has_no_copy_of_the_matching_logic_and_does_not_import_training():
    src = (ROOT / "pipeline" / "evaluate.py").read_text(encoding="utf-8")
    assert "def _match" not in src and "def match" not in src and "def locate" not in src
    assert "speechledger.ml" not in src.replace("speechledger.ml_default", "").replace("speechledger.ml.cv", "")


def _dates(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}


def test_score_records_gives_the_referees_numbers_on_the_same_predictions(tmp_path):
    from speechledger.api import Pipeline, records
    texts, gold = CORPUS / "texts", CORPUS / "gold" / "dev.jsonl"
    pipe = Pipeline(extractors="rules")
    recs = [r for p in sorted(texts.glob("*.txt")) for r in records(pipe.run_file(p))]
    pred = tmp_path / "pred.jsonl"
    pred.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in recs), encoding="utf-8")
    mine = ev.score_records(str(texts), str(gold), recs)
    theirs = referee().score(str(texts), str(gold), str(pred))
    assert json.loads(json.dumps(mine, ensure_ascii=False)) == json.loads(json.dumps(theirs, ensure_ascii=False))
    assert mine["offset_errors"] == 0 and mine["tasks"]["f1"] > 0.9


def test_folds_are_deterministic_and_cover_every_document():
    from speechledger.ml.cv import fold_of
    keys = [f"d{i}" for i in range(23)]
    f1, f2 = fold_of(keys, 5, 13), fold_of(keys, 5, 13)
    assert f1 == f2
    assert set(f1) == set(keys)
    sizes = sorted(list(f1.values()).count(k) for k in range(5))
    assert sizes[-1] - sizes[0] <= 1


def test_default_training_data_is_real_gold_without_the_frozen_split_plus_composed_passages():
    need_shared("real")
    from speechledger.ml import training
    sets = training.default_sets(ROOT)
    frozen = training.frozen_docs(ROOT)
    names = {s.name: s for s in sets}
    assert {"seed", "train", "real", "long"} <= set(names)
    for s in sets:
        stems = {p.stem for p in s.paths()}
        assert not stems & frozen, s.name
        assert s.composed == s.name.startswith("extra")
        assert all(str(p.resolve()).startswith(str(ROOT.resolve())) or not s.name.startswith("extra")
                   for p in s.paths())
    assert len(names["real"].paths()) + len(names["long"].paths()) >= 60
    # our gold corrections are applied
    fixes = training.corrections(ROOT)
    for (doc, seg), g in fixes.items():
        for name in ("real", "long"):
            gold = names[name].gold
            if doc in gold and doc not in frozen:
                assert gold[doc].get(seg) == g, (doc, seg)


def test_cv_tests_real_documents_only_and_matches_the_referee(tmp_path):
    """Composed passages are in every training fold and never scored."""
    pytest.importorskip("sklearn")
    need_shared("train")
    from speechledger.ml import training
    from speechledger.ml.cv import cross_validate
    train = SHARED_CORPUS / "train"
    real = training.GoldSet("train", train / "texts", ev.read_gold(train / "gold.jsonl"), _dates(train / "dates.json"),
                            docs=["t01", "t02", "t03", "t05", "t08", "t12"])
    composed = training.GoldSet("extra", CORPUS / "extra" / "texts", ev.read_gold(CORPUS / "extra" / "gold.jsonl"),
                                _dates(CORPUS / "extra" / "dates.json"), docs=["e01", "e02"], composed=True)
    corpus = training.load_corpus([real, composed])
    cv = cross_validate(corpus, k=2, extractors=("rules",))
    assert cv["_documents"] == 6
    # the rules column is the referee's score of the rules on the six real passages alone
    texts = tmp_path / "texts"
    texts.mkdir()
    for s in real.docs:
        (texts / f"{s}.txt").symlink_to(train / "texts" / f"{s}.txt")
    whole = ev.evaluate_folder(str(texts), str(train / "gold.jsonl"), extractors="rules", dates=real.dates)
    for fld in ev.FIELDS:
        assert cv["rules"][fld] == whole[fld], fld


def test_evaluate_command_prints_per_field_scores(capsys):
    need_shared("train")
    from speechledger.cli import main
    rc = main(["evaluate", "--texts", str(SHARED_CORPUS / "train" / "texts"),
               "--gold", str(SHARED_CORPUS / "train" / "gold.jsonl"),
               "--dates", str(SHARED_CORPUS / "train" / "dates.json"), "--extractors", "rules"])
    out = capsys.readouterr().out
    assert rc == 0
    for field in ev.FIELDS:
        assert field in out
    assert "macro F1" in out


def test_evaluate_defaults_to_the_extractors_of_extract(capsys):
    from speechledger.cli import main
    from speechledger.ml_default import default_extractors
    rc = main(["evaluate", "--texts", str(CORPUS / "texts"), "--gold", str(CORPUS / "gold" / "dev.jsonl")])
    assert rc == 0
    assert f"extractors: {default_extractors()}" in capsys.readouterr().out


def test_evaluate_command_without_gold_is_a_usage_error(capsys):
    from speechledger.cli import main
    assert main(["evaluate", "--texts", str(CORPUS / "texts")]) == 2
    assert "--gold" in capsys.readouterr().err


def test_source_kinds_reads_the_kind_column_of_every_file_table(tmp_path):
    from speechledger.ml.cv import source_kinds
    f = tmp_path / "SOURCES.md"
    f.write_text("# Notes\n\n| kind | what |\n|---|---|\n| speech | 讲话 |\n\n"
                 "| file | kind | chars |\n|---|---|---|\n| a01.txt | speech | 500 |\n| a02.txt | minutes | 600 |\n\n"
                 "text between tables\n\n| file | level | kind |\n|---|---|---|\n"
                 "| B01.txt | national | opinions (policy with targets) |\n", encoding="utf-8")
    assert source_kinds(f) == {"a01": "speech", "a02": "minutes", "B01": "opinions"}


def _doc(set_, stem, composed=False):
    from types import SimpleNamespace
    fd = SimpleNamespace(set=set_, stem=stem, composed=composed)
    return SimpleNamespace(file=fd, key=f"{set_}/{stem}#0")


def test_kind_folds_hold_out_whole_kinds_and_never_split_one():
    """Leave-one-kind-out: every document of a kind is in the same test fold, and no fold tests two kinds."""
    need_shared("real")
    need_shared("train")
    from speechledger.ml import cv, training
    items = [_doc(s.name, p.stem, s.composed) for s in training.default_sets(ROOT) for p in s.paths()]
    kinds = cv.document_kinds(items, ROOT)
    real = [it for it in items if not it.file.composed]
    assert set(kinds) == {it.key for it in real}          # composed passages are never tested
    assert {kinds[it.key] for it in real if it.file.set == "seed"} == {"speech"}
    folds, names = cv.folds_for(real, 5, 13, "kind", kinds)
    assert names == sorted(set(kinds.values())) and "speech" in names and "task_breakdown" in names
    for f, name in enumerate(names):
        test = {k for k, g in folds.items() if g == f}
        assert test == {k for k, g in kinds.items() if g == name}
    # the random folds are unchanged by the option
    assert cv.folds_for(real, 5, 13)[0] == cv.fold_of([it.key for it in real], 5, 13)


def test_kind_folds_name_a_document_without_a_kind():
    need_shared("train")
    from speechledger.ml import cv
    with pytest.raises(ValueError, match="train/t99: no kind"):
        cv.document_kinds([_doc("train", "t99")], ROOT)


def test_cv_by_kind_scores_every_real_document_once():
    need_shared("train")
    from speechledger.ml import training
    from speechledger.ml.cv import cross_validate, document_kinds
    train = SHARED_CORPUS / "train"
    docs = ["t01", "t02", "t30", "t37"]          # speech, speech, notice (task_breakdown), news_report
    real = training.GoldSet("train", train / "texts", ev.read_gold(train / "gold.jsonl"), _dates(train / "dates.json"),
                            docs=docs)
    corpus = training.load_corpus([real])
    kinds = document_kinds(corpus.items, ROOT)
    assert sorted(kinds.values()) == ["news_report", "speech", "speech", "task_breakdown"]
    by_kind = cross_validate(corpus, extractors=("rules",), by="kind", kinds=kinds)
    assert by_kind["_k"] == 3 and by_kind["_by"] == "kind"
    assert by_kind["rules"] == cross_validate(corpus, k=2, extractors=("rules",))["rules"]
