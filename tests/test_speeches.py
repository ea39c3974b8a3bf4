"""Splitting compilations into speeches, reading titles and dates, building the outline."""
from __future__ import annotations

import pytest

from speechledger.speeches import heading_of


@pytest.fixture(scope="module")
def dev_doc(rules_pipeline, dev_path):
    return rules_pipeline.run_file(dev_path)


def test_compilation_splits_into_five_speeches(dev_doc):
    assert len(dev_doc.speeches) == 5
    titles = [sp.title for sp in dev_doc.speeches]
    assert all("讲话" in t for t in titles), titles
    assert titles[3] == "在全市工业经济运行调度会议上的讲话"       # glued from "…上的" + "讲 话"
    assert not any(t.startswith(("第二篇", "文章标题", "3、")) for t in titles)


def test_speech_dates_come_from_headings(dev_doc):
    got = [(sp.date, sp.ref_year) for sp in dev_doc.speeches]
    assert got == [(None, 2024), (None, None), (None, None), ("2024-07-04", 2024), (None, 2024)]


def test_speeches_cover_the_file_without_overlap(dev_doc):
    spans = [(sp.start, sp.end) for sp in dev_doc.speeches]
    assert spans[0][0] == 0 and spans[-1][1] == len(dev_doc.text)
    assert all(a[1] == b[0] for a, b in zip(spans, spans[1:]))


def test_date_option_overrides_headings(rules_pipeline, dev_path):
    doc = rules_pipeline.run_file(dev_path, date="2023-12-01")
    assert {sp.date for sp in doc.speeches} == {"2023-12-01"}


def test_outline_is_a_tree(dev_doc):
    sp = dev_doc.speeches[0]
    levels = {h.level for h in sp.headings}
    assert {1, 4} <= levels
    for i, h in enumerate(sp.headings):
        if h.parent is not None:
            assert h.parent < i and sp.headings[h.parent].level < h.level


def test_every_task_knows_its_parent_heading(dev_doc):
    sp = dev_doc.speeches[0]
    task = next(t for t in sp.tasks if "X月底" in t.text)
    parent = sp.headings[task.heading]
    assert parent.text.startswith("三要") and sp.headings[parent.parent].text.startswith("第一")
    first = sp.headings[0]
    assert heading_of(sp, first.start) is None      # a top heading has no parent


def test_single_speech_without_salutation(rules_pipeline):
    doc = rules_pipeline("关于做好2018年重点工作的通知\n各单位：\n一、各责任单位要于6月底前报送进展。\n",
                         source="notice.txt")
    assert len(doc.speeches) == 1
    assert doc.speeches[0].title.startswith("关于做好2018年")
    assert doc.speeches[0].ref_year == 2018
    assert doc.speeches[0].tasks[0].deadlines[0].due == "2018-06-30"


def test_traditional_script_speech(rules_pipeline):
    text = "在全縣工作會議上的講話\n同志們：\n各鄉鎮要於年底前完成整改，確保不留死角。\n"
    doc = rules_pipeline(text, source="trad.txt", date="2024-03-01")
    (task,) = doc.speeches[0].tasks
    assert task.modality == "must"
    assert [u.text for u in task.units] == ["各鄉鎮"]
    assert task.deadlines[0].text == "年底前" and task.deadlines[0].due == "2024-12-31"


def test_notice_date_line_dates_the_speech(rules_pipeline):
    text = ("关于印发重点工作分工方案的通知\n各街道：\n现将方案印发给你们，请认真贯彻落实。\n"
            "2023年3月28日\n一、各街道要于6月底前完成摸底。\n")
    sp = rules_pipeline(text, source="n.txt").speeches[0]
    assert sp.date == "2023-03-28"
    due = [d.due for t in sp.tasks for d in t.deadlines]
    assert due == ["2023-06-30"]


def test_title_on_the_first_line_of_a_web_excerpt(rules_pipeline):
    text = ("全力以赴 攻坚克难 ——在全县经济形势分析会上的讲话 张三 (2018年6月12日) "
            "同志们: 在上半年即将结束的时候召开这次会议。各乡镇要抓好落实。")
    sp = rules_pipeline(text, source="w.txt").speeches[0]
    assert sp.title == "在全县经济形势分析会上的讲话" and sp.date == "2018-06-12"
    assert [t.text for t in sp.tasks] == ["各乡镇要抓好落实。"]


def test_closing_salutation_does_not_split_a_speech(rules_pipeline):
    text = ("在全县工作会议上的讲话\n同志们：\n各乡镇要抓好落实。\n同志们！\n"
            "让我们齐心协力，确保年底前完成全年目标任务。\n")
    doc = rules_pipeline(text, source="c.txt", date="2024-05-01")
    assert len(doc.speeches) == 1
    assert len(doc.speeches[0].tasks) == 2


def test_a_compilation_copied_from_the_web_with_blank_lines_keeps_its_speeches(rules_pipeline, dev_path):
    # a web page puts a blank line after every paragraph, title lines included
    import re
    text = dev_path.read_text(encoding="utf-8")
    spaced = re.sub(r"(?m)((?:[。！？：]|^[^。！？，、：；,;:!?\n]*)\n)", r"\1\n", text)
    doc = rules_pipeline(spaced, source=dev_path.name)
    want = rules_pipeline(text, source=dev_path.name)
    assert [(sp.title, sp.date) for sp in doc.speeches] == [(sp.title, sp.date) for sp in want.speeches]


def test_two_blank_lines_end_a_title_block(rules_pipeline):
    text = ("在全县工作会议上的讲话\n同志们：\n各乡镇要抓好落实。\n谢谢大家\n\n\n"
            "在全县招商工作会议上的讲话\n\n同志们：\n各部门要于年底前完成签约。\n")
    doc = rules_pipeline(text, source="c.txt", date="2024-05-01")
    assert [sp.title for sp in doc.speeches] == ["在全县工作会议上的讲话", "在全县招商工作会议上的讲话"]


def test_an_indented_first_line_of_an_excerpt_is_body_text(rules_pipeline):
    line = ("2021年是“十四五”开局之年,县水利局将紧紧围绕县委、县政府的工作部署,"
            "认真落实部门职责,着力做好以下几方面工作:\n\n(一)推进水利工程建设。\n")
    for text in (line, "\u3000\u3000" + line):
        tasks = rules_pipeline(text, source="x.txt").speeches[0].tasks
        assert "县水利局" in {u.text for t in tasks for u in t.units}


def _split_seconds(text: str) -> float:
    import time

    from speechledger.api import Config
    from speechledger.doc import SpeechDoc
    from speechledger.normalize import normalize
    from speechledger.speeches import split_speeches
    cfg = Config()
    doc = normalize(SpeechDoc(source="big.txt", text=text), cfg)
    best = float("inf")
    for _ in range(2):
        t0 = time.perf_counter()
        split_speeches(doc, cfg)
        best = min(best, time.perf_counter() - t0)
    return best


@pytest.mark.slow
def test_speech_splitting_grows_linearly(corpus_dir):
    """4x the input must cost about 4x the time, not 16x (it was quadratic: 2.3 s at 4 MB,
    88 s at 16 MB). The bound is loose (8x) so a busy machine does not fail it."""
    base = "\n".join(p.read_text(encoding="utf-8") for p in sorted(corpus_dir.glob("*/texts/*.txt")))
    small = (base * (300_000 // len(base) + 1))[:300_000]        # ~1 MB of UTF-8
    big = (base * (1_200_000 // len(base) + 1))[:1_200_000]      # ~4 MB
    t_small, t_big = _split_seconds(small), _split_seconds(big)
    assert t_big < 8 * t_small + 0.5, (t_small, t_big)
