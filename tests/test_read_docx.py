""".docx reading: tables in document order, merged cells once, hostile archives refused fast."""
from __future__ import annotations

import json
import struct
import subprocess
import sys
import time
import zlib

import pytest
from lxml import etree
from read_probe import probe

from speechledger.read import InputError, Limits, read_file

docx = pytest.importorskip("docx")
from docx.oxml.ns import qn  # noqa: E402

ROWS = [["任务内容", "牵头单位", "完成时限"],
        ["新建5G基站1200个", "市通信发展办", "2025年11月底前"],
        ["改造老旧小区30个", "市住建局", "2025年11月底前"],
        ["新增城市绿地50公顷", "市园林局", "全年"]]


def _breakdown_docx(path):
    """Paragraph, table (完成时限 merged over rows 1-2, last row in a content control), paragraph."""
    d = docx.Document()
    d.add_paragraph("重点任务分解如下：")
    t = d.add_table(rows=len(ROWS), cols=3)
    for r, row in enumerate(ROWS):
        for c, v in enumerate(row):
            t.cell(r, c).text = v
    t.cell(1, 2).merge(t.cell(2, 2)).text = "2025年11月底前"
    a = t.cell(0, 0).merge(t.cell(0, 1))          # a header cell spanning two columns
    a.text = "任务内容与牵头单位"
    # a repeating-section content control around the last row: python-docx's table.rows misses it
    tr = t._tbl.tr_lst[-1]
    sdt = etree.SubElement(t._tbl, qn("w:sdt"))
    t._tbl.remove(tr)
    etree.SubElement(sdt, qn("w:sdtContent")).append(tr)
    d.add_paragraph("各县市区要抓好落实。")
    d.save(path)


def test_table_rows_in_document_order_one_line_each(tmp_path):
    f = tmp_path / "分解表.docx"
    _breakdown_docx(f)
    text, kind = read_file(f)
    assert kind == "docx"
    assert text.split("\n") == [
        "重点任务分解如下：",
        "| 任务内容与牵头单位 | 完成时限 |",
        "| 新建5G基站1200个 | 市通信发展办 | 2025年11月底前 |",
        "| 改造老旧小区30个 | 市住建局 |  |",                # merged 完成时限 not repeated: an empty cell
        "| 新增城市绿地50公顷 | 市园林局 | 全年 |",           # the row in a content control is kept
        "各县市区要抓好落实。",
    ]


def test_line_breaks_tabs_and_deleted_text(tmp_path):
    d = docx.Document()
    p = d.add_paragraph("第一行")
    p.add_run().add_break()
    p.add_run("第二行\t尾")
    d.save(tmp_path / "s.docx")
    assert read_file(tmp_path / "s.docx")[0] == "第一行\n第二行\t尾"


def test_cut_off_xml_is_a_one_line_error(tmp_path):
    src = tmp_path / "ok.docx"
    docx.Document().save(src)
    import zipfile
    bad = tmp_path / "坏.docx"
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(bad, "w") as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename == "word/document.xml":
                data = data[: len(data) // 2]
            zout.writestr(info, data)
    with pytest.raises(InputError) as e:
        read_file(bad)
    msg = str(e.value)
    assert msg.startswith(f"{bad}: ") and "broken XML" in msg and "\n" not in msg


def test_cut_off_docx_gets_the_same_error_in_extract_as_in_ingest(tmp_path):
    good = tmp_path / "good.txt"
    good.write_text("市工信局要加快编制规划，确保7月底前完成。\n", encoding="utf-8")
    bad = tmp_path / "bad.docx"
    docx.Document().save(bad)
    bad.write_bytes(bad.read_bytes()[:-200])        # central directory cut off
    r = subprocess.run([sys.executable, "-m", "speechledger", "extract", str(bad), str(good),
                        "--extractors", "rules", "--format", "jsonl"], capture_output=True, text=True, timeout=120)
    assert r.returncode == 1
    errors = [ln for ln in r.stderr.splitlines() if "error" in ln]
    assert errors == [f"speechledger: error: {bad}: not a readable .docx file (BadZipFile)"]
    assert "Traceback" not in r.stderr and json.loads(r.stdout.splitlines()[0])["source"] == str(good)
    db = f"sqlite:///{tmp_path / 'ledger.sqlite'}"
    r = subprocess.run([sys.executable, "-m", "speechledger", "ingest", str(bad), str(good), "--db", db,
                        "--extractors", "rules"], capture_output=True, text=True, timeout=180)
    assert [ln for ln in r.stderr.splitlines() if "error" in ln][0] == errors[0]


# --- zip bombs -------------------------------------------------------------------------

_PREFIX = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<w:document xmlns:w='
           b'"http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body><w:p><w:r><w:t>')
_SUFFIX = b"</w:t></w:r></w:p></w:body></w:document>"


def make_bomb(path, chunks: int = 63, declared: int | None = None) -> int:
    """A .docx whose word/document.xml inflates to `chunks` × 64 MiB of 'a' (~4 GiB for 63).

    Built in about a second: one 64 MiB chunk is deflated after a full flush, and every
    later chunk has the same compressed bytes. `declared` writes a lying size into the
    headers. The CRC is left 0: a reader must stop long before it could check it.
    """
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    head = c.compress(_PREFIX) + c.flush(zlib.Z_FULL_FLUSH)
    chunk = c.compress(b"a" * (64 << 20)) + c.flush(zlib.Z_FULL_FLUSH)
    tail = c.compress(_SUFFIX) + c.flush()
    size = len(_PREFIX) + chunks * (64 << 20) + len(_SUFFIX)
    name = b"word/document.xml"
    usize = size if declared is None else declared
    csize = len(head) + chunks * len(chunk) + len(tail)
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, 0x21, 0, csize, usize, len(name), 0) + name)
        f.write(head)
        for _ in range(chunks):
            f.write(chunk)
        f.write(tail)
        cd_offset = f.tell()
        cd = struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, 8, 0, 0x21, 0, csize, usize,
                         len(name), 0, 0, 0, 0, 0, 0) + name
        f.write(cd)
        f.write(struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 1, 1, len(cd), cd_offset, 0))
    return size


@pytest.mark.parametrize("declared", [None, 4096], ids=["honest-size", "lying-size"])
def test_zip_bomb_fails_fast_in_little_memory(tmp_path, declared):
    bomb = tmp_path / "bomb.docx"
    size = make_bomb(bomb, declared=declared)
    assert size > 4_000_000_000 and bomb.stat().st_size < 5_000_000
    outcome, secs, peak_mb = probe(bomb)
    assert outcome.startswith(f"{bomb}: ") and "\n" not in outcome
    assert ("inflates to 4032 MB" in outcome) if declared is None else ("Bad CRC" in outcome)
    assert secs < 5
    assert peak_mb < 200, f"peak RSS {peak_mb:.0f} MB"


def test_docx_text_cap_is_configurable(tmp_path):
    d = docx.Document()
    for _ in range(50):
        d.add_paragraph("市工信局要加快编制规划，确保7月底前完成。" * 10)
    d.save(tmp_path / "long.docx")
    assert len(read_file(tmp_path / "long.docx")[0]) > 10_000
    with pytest.raises(InputError, match="text longer than the 10000 bytes limit"):
        read_file(tmp_path / "long.docx", limits=Limits(max_text=10_000))


def test_oversized_member_declared_is_refused_before_inflating(tmp_path):
    bomb = tmp_path / "big.docx"
    make_bomb(bomb, chunks=2)
    t = time.perf_counter()
    with pytest.raises(InputError, match="inflates to 128 MB"):
        read_file(bomb, limits=Limits(max_member=64 << 20, max_ratio=10 ** 9))
    assert time.perf_counter() - t < 2


def _outline_docx(path):
    """Headings and items numbered by Word itself (一、 / （一） / 1.), as a Word outline list:
    the numbers are in word/numbering.xml, not in the paragraphs' text."""
    d = docx.Document()
    numbering = d.part.numbering_part.element
    an = etree.SubElement(numbering, qn("w:abstractNum"), {qn("w:abstractNumId"): "90"})
    for ilvl, (fmt, text) in enumerate([("chineseCounting", "%1、"), ("chineseCounting", "（%2）"),
                                        ("decimal", "%3.")]):
        lvl = etree.SubElement(an, qn("w:lvl"), {qn("w:ilvl"): str(ilvl)})
        etree.SubElement(lvl, qn("w:start"), {qn("w:val"): "1"})
        etree.SubElement(lvl, qn("w:numFmt"), {qn("w:val"): fmt})
        etree.SubElement(lvl, qn("w:lvlText"), {qn("w:val"): text})
    # (a w:abstractNum must come before the w:num elements: move it to the front)
    numbering.remove(an)
    numbering.insert(0, an)
    num = etree.SubElement(numbering, qn("w:num"), {qn("w:numId"): "90"})
    etree.SubElement(num, qn("w:abstractNumId"), {qn("w:val"): "90"})

    def item(text, ilvl):
        p = d.add_paragraph(text)
        ppr = p._p.get_or_add_pPr()
        pr = etree.SubElement(ppr, qn("w:numPr"))
        etree.SubElement(pr, qn("w:ilvl"), {qn("w:val"): str(ilvl)})
        etree.SubElement(pr, qn("w:numId"), {qn("w:val"): "90"})
    for text, ilvl, _ in OUTLINE:
        if ilvl is None:
            d.add_paragraph(text)
        else:
            item(text, ilvl)
    d.save(path)


# (paragraph text, Word list level or None, the line read: Word's number and the text)
OUTLINE = [("2025年重点工作任务分解方案", None, "2025年重点工作任务分解方案"),
           ("总体要求", 0, "一、总体要求"),
           ("坚持稳中求进，全面完成年度目标任务。", None, "坚持稳中求进，全面完成年度目标任务。"),
           ("重点任务", 0, "二、重点任务"), ("城市建设", 1, "（一）城市建设"),
           ("新建城市公共停车位2000个。", 2, "1.新建城市公共停车位2000个。"),
           ("牵头单位：市住建局", None, "牵头单位：市住建局"),
           ("完成时限：2025年10月底前", None, "完成时限：2025年10月底前"),
           ("改造老旧小区30个。", 2, "2.改造老旧小区30个。"), ("牵头单位：市住建局", None, "牵头单位：市住建局"),
           ("产业发展", 1, "（二）产业发展"), ("新增规上工业企业50家。", 2, "1.新增规上工业企业50家。"),
           ("牵头单位：市工信局", None, "牵头单位：市工信局")]


def test_numbers_word_draws_are_read_as_text(tmp_path):
    _outline_docx(tmp_path / "方案.docx")
    assert read_file(tmp_path / "方案.docx")[0].split("\n") == [line for _, _, line in OUTLINE]


def test_a_word_numbered_breakdown_gives_one_task_per_item(tmp_path, rules_pipeline):
    f = tmp_path / "方案.docx"
    _outline_docx(f)
    doc = rules_pipeline.run_file(f)
    items = {t.text.split("\n")[0]: ([u.text for u in t.units], [d.due for d in t.deadlines])
             for sp in doc.speeches for t in sp.tasks}
    assert items["1.新建城市公共停车位2000个。"] == (["市住建局"], ["2025-10-31"])
    assert items["1.新增规上工业企业50家。"] == (["市工信局"], [])
    assert "二、重点任务" not in items          # a pure label
