"""Text PDFs: lines and table rows in reading order, offsets on the text read; scans refused."""
from __future__ import annotations

from pathlib import Path

import pytest
from read_probe import probe

from speechledger.read import InputError, discover, read_file

DATA = Path(__file__).parent / "data" / "reader"   # built by scripts/make_reader_fixtures.py


def test_text_pdf_reads_lines_and_table_rows_in_order():
    text, kind = read_file(DATA / "speech.pdf")
    assert kind == "pdf"
    assert text.split("\n") == [
        "在全市工业经济工作会议上的讲话",
        "同志们：",
        # wrapped in the PDF after 确保; joined again so 7月底前 stays in its sentence
        "今年全市规模以上工业增加值增长8%以上，市工信局要加快编制产业链发展规划，确保7月底前完成。",
        "重点任务分解如下：",
        "| 序号 | 任务内容 | 牵头单位 | 完成时限 |",
        "| 1 | 新建5G基站1200个 | 市通信发展办 | 2025年11月底前 |",   # 个 wrapped inside its cell
        "| 2 | 改造老旧小区30个 | 市住建局 | 2025年11月底前 |",
        "| 3 | 新增城市绿地50公顷 | 市园林局 | 全年 |",
        "各县市区要抓好落实，市督查室要加强跟踪督办，每季度通报一次进展。",
        "谢谢大家！",
    ]


def test_page_numbers_dropped_and_wrapped_lines_joined_but_not_titles():
    text, _ = read_file(DATA / "paged.pdf")
    assert text.split("\n") == [
        "在全市安全生产工作会议上的讲话",            # centred title: not joined to 同志们
        "同志们：",
        "今年要全面排查整治重大事故隐患和安全风险，市应急局牵头，各县市区政府负责，确保6月底前完成第一轮排查整治。",
        # wrapped across the page break, after the '- 1 -' footer
        "市住建局要加快老旧小区改造和燃气管道更新，年底前完成改造任务的八成，市财政局要做好资金保障和绩效评价，"
        "各县市区政府要落实属地责任，确保按期完成。",
        "谢谢大家！",                               # the '- 2 -' footers are gone
    ]


def test_offsets_hold_on_the_text_read_from_a_pdf():
    from speechledger.api import Pipeline
    path = DATA / "speech.pdf"
    text, _ = read_file(path)
    doc = Pipeline(extractors="rules").run_file(path, date="2025-03-01")
    items = [it for sp in doc.speeches for t in sp.to_json(str(path))["tasks"]
             for it in [t, *t["units"], *t["deadlines"], *t["targets"]]]
    assert any("7月底前" == it["text"] for it in items)
    for it in items:
        assert text[it["start"]:it["end"]] == it["text"]


def test_scanned_pdf_says_it_has_no_text_layer():
    with pytest.raises(InputError) as e:
        read_file(DATA / "scanned.pdf")
    assert str(e.value).startswith(str(DATA / "scanned.pdf") + ": scanned PDF without a text layer")


@pytest.mark.parametrize("content", [b"%PDF-1.4\n garbage", b"not a pdf at all", b""])
def test_broken_pdf_is_a_one_line_error(tmp_path, content):
    f = tmp_path / "坏.pdf"
    f.write_bytes(content)
    with pytest.raises(InputError) as e:
        read_file(f)
    assert str(e.value).startswith(f"{f}: ") and "\n" not in str(e.value)


def test_pdf_named_txt_is_recognised(tmp_path):
    f = tmp_path / "speech.txt"
    f.write_bytes((DATA / "speech.pdf").read_bytes())
    with pytest.raises(InputError, match="looks like a PDF"):
        read_file(f)


def test_pdf_in_a_folder_is_discovered(tmp_path):
    (tmp_path / "a.pdf").write_bytes((DATA / "speech.pdf").read_bytes())
    files, skipped = discover([tmp_path])
    assert files == [tmp_path / "a.pdf"] and skipped == []


def test_pdf_bomb_is_refused_in_little_memory(tmp_path):
    """A content stream inflating to 2 GiB: refused before pdfminer inflates it whole."""
    import zlib
    c = zlib.compressobj(9)
    head = c.compress(b"BT /F1 12 Tf (x) Tj ET\n") + c.flush(zlib.Z_FULL_FLUSH)
    chunk = c.compress(b" " * (64 << 20)) + c.flush(zlib.Z_FULL_FLUSH)
    body = head + chunk * 32 + c.flush()
    pdf = tmp_path / "bomb.pdf"
    pdf.write_bytes(b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
                    b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
                    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]/Contents 4 0 R>>endobj\n"
                    + f"4 0 obj<</Length {len(body)}/Filter/FlateDecode>>stream\n".encode()
                    + body + b"\nendstream endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n")
    outcome, secs, peak_mb = probe(pdf)
    assert outcome == f"{pdf}: a compressed PDF stream inflates past 256 MB; not read (a PDF bomb?)"
    assert secs < 10 and peak_mb < 200, f"peak RSS {peak_mb:.0f} MB"
