"""The round-11 breakdown-notice battery (tests/data/bd11_probes.yaml), row by row: each item of a
分工方案 / 责任分解 / 督办清单 (label lines, flattened tables, .docx tables; both scripts) is ONE task
spanning the item and its label lines, with its units [text, role], deadlines [text, due] and
targets [value, unit, comparator]; no task is made of label lines only (ANNOTATION.md §3, §6, §8).
Run with the rules and with the default pipeline (hybrid when the models load)."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from speechledger.normalize import norm_text

DATA = yaml.safe_load((Path(__file__).parent / "data" / "bd11_probes.yaml").read_text(encoding="utf-8"))
ROWS = DATA["rows"]


def probe_text(row, tmp_path: Path) -> str:
    """The document of a row: its frame around `body`, or a real .docx read by speechledger.read."""
    if row["frame"] != "docx":
        return DATA["frames"][row["frame"]].format(body=row["body"])
    docx = pytest.importorskip("docx")
    from speechledger.read import read_file
    d = docx.Document()
    for p in row["paragraphs"]:
        d.add_paragraph(p)
    cells = row["table"]
    table = d.add_table(rows=len(cells), cols=len(cells[0]))
    for i, r in enumerate(cells):
        for j, c in enumerate(r):
            table.cell(i, j).text = c
    for r1, c1, r2, c2 in row.get("merge", []):
        keep = table.cell(r1, c1).text
        merged = table.cell(r1, c1).merge(table.cell(r2, c2))
        merged.text = keep
    path = tmp_path / f"{row['id']}.docx"
    d.save(path)
    return read_file(path)[0]


def label_only(norm: str, lex) -> bool:
    """Every line of the text is a label line of an item (牵头单位：…, （X牵头）)."""
    from speechledger.extract.tasks import label_of, structure_rules
    labels = [lb for lb in structure_rules(lex)[1] if lb.item]
    lines = [ln for ln in norm.split("\n") if ln.strip()]
    return bool(lines) and all(label_of(ln, labels) for ln in lines)


def outcome(pipeline, row, tmp_path):
    text = probe_text(row, tmp_path)
    body_at = text.index(row["body"][:4]) if row["frame"] != "docx" else 0
    if row["frame"] == "docx" or row["item"] not in row["body"]:
        body_at = 0                             # an item of the frame (address, preamble)
    at = text.index(row["item"], body_at)
    last = row.get("last") or (row["body"].rstrip().rsplit("\n", 1)[-1] if "body" in row else row["item"])
    end = text.index(last, at) + len(last)
    doc = pipeline(text, date=row.get("date"))
    tasks = [t for sp in doc.speeches for t in sp.tasks]
    bare = [doc.text[t.start:t.end] for t in tasks if label_only(doc.norm[t.start:t.end], pipeline.config.lexicon)]
    covering = [t for t in tasks if t.start < end and t.end > at]
    task = next((t for t in tasks if t.start <= at < t.end), None)
    return text, task, covering, at, end, bare



def _params():
    for row in ROWS:
        marks = [pytest.mark.xfail(reason=row["xfail"], strict=True)] if "xfail" in row else []
        yield pytest.param(row, id=row["id"], marks=marks)


def test_battery_is_broad():
    assert len(ROWS) >= 80 and len({r["id"] for r in ROWS}) == len(ROWS)
    assert sum(r["id"].endswith("_trad") for r in ROWS) * 3 >= len(ROWS)
    assert sum(r["frame"] == "docx" for r in ROWS) >= 10 and sum(r.get("task") is False for r in ROWS) >= 10


@pytest.mark.parametrize("row", list(_params()))
@pytest.mark.parametrize("which", ["rules", "default"])
def test_probe(row, which, rules_pipeline, default_pipeline, tmp_path):
    pipe = rules_pipeline if which == "rules" else default_pipeline
    text, task, covering, at, end, bare = outcome(pipe, row, tmp_path)
    assert not bare, (row["id"], "label-line-only tasks", bare)
    if row.get("task", True) is False:
        assert not covering, (row["id"], [text[t.start:t.end] for t in covering])
        return
    assert task is not None, (row["id"], "no task at the item")
    assert task.start == at, (row["id"], "the task does not start at the item", task.text)
    assert task.end >= end, (row["id"], "task stops before the item's last line", task.text)
    assert [[u.text, u.role] for u in task.units] == row["units"], (row["id"], task.text)
    got = [(d.text, None if d.placeholder else d.due) for d in task.deadlines]
    assert [d for _, d in got] == [None if d is None else str(d) for _, d in row["deadlines"]], (row["id"], got)
    for (g, _), (w, _) in zip(got, row["deadlines"]):
        assert w in g or g in w, (row["id"], g, w)
    targets = [[t.value, norm_text(t.unit), t.comparator] for t in task.targets]
    assert targets == [[v, norm_text(u), c] for v, u, c in row["targets"]], (row["id"], targets)


LEDGER_NOTICE = ("关于印发2026年全市重点工作任务分解方案的通知\n各县（市、区）人民政府，市直各单位：\n"
                 "现将《2026年全市重点工作任务分解方案》印发给你们，请认真贯彻落实。\n"
                 "一、提升城市品质\n（一）推进城镇老旧小区改造，\n完成改造老旧小区120个。\n"
                 "牵头单位：市住建局\n配合单位：市财政局\n完成时限：2026年10月底前\n"
                 "（二）建设城市口袋公园20个。（市城管局牵头，各城区政府配合，2026年9月底前完成）\n")


def test_ledger_finds_the_items(tmp_path, monkeypatch):
    """ingest + tasks --unit: the item (its number and text), never its label line, with the
    due date of its label line; a .docx table row likewise (a merged lead cell given to the
    row below)."""
    import json

    docx = pytest.importorskip("docx")
    from speechledger.cli import main
    monkeypatch.delenv("SPEECHLEDGER_DB", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "notice.txt").write_text(LEDGER_NOTICE, encoding="utf-8")
    row = next(r for r in ROWS if r["id"] == "docx_merged_lead")
    d = docx.Document()
    for p in row["paragraphs"]:
        d.add_paragraph(p)
    table = d.add_table(rows=len(row["table"]), cols=len(row["table"][0]))
    for i, r in enumerate(row["table"]):
        for j, c in enumerate(r):
            table.cell(i, j).text = c
    table.cell(1, 2).merge(table.cell(2, 2)).text = "市工信局"
    d.save(folder / "table.docx")
    db = f"sqlite:///{tmp_path / 'ledger.sqlite'}"
    assert main(["ingest", str(folder), "--db", db]) == 0

    def tasks(unit):
        out = tmp_path / f"{unit}.json"
        assert main(["tasks", "--db", db, "--unit", unit, "-o", str(out)]) == 0
        return json.loads(out.read_text(encoding="utf-8"))

    zj = tasks("住建局")
    assert len(zj) == 1 and zj[0]["text"].startswith("（一）推进城镇老旧小区改造，"), zj
    assert "完成时限" in zj[0]["text"] and "2026-10-31" in json.dumps(zj[0], ensure_ascii=False)
    assert [t["text"][:5] for t in tasks("城管局")] == ["（二）建设"]
    gx = tasks("工信局")
    assert sorted(t["text"][:5] for t in gx) == ["| 1 |", "| 2 |"], gx
