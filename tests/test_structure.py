"""Document structure: Speech.sections (review/plan/goals/breakdown/procedure) and what the
task rules make of them: reviews are not tasks, plans in the imperative are, goals lists are,
and a breakdown item carries its label lines."""
from __future__ import annotations

import pytest

from speechledger.doc import SECTION_KINDS

REPORT = """县人民政府工作报告

一、2024年工作回顾
过去一年，我们重点加强了基础设施建设，全年完成一般公共预算收入28.3亿元，增长5.2%。
一是坚持项目为王，新开工项目42个。
二、2025年工作安排
今年主要预期目标是：地区生产总值增长6%左右；城镇新增就业1.2万人；居民收入增长与经济增长同步。
深入实施提振消费专项行动，加大财政资金支持力度。
推行重点企业清洁生产审核。
"""

BREAKDOWN = """关于2025年重点工作任务分工的通知

1.开展涉企收费专项治理，对园区转供电加价行为开展检查。
牵头单位：市市场监管局
配合单位：市发改委、市住建局
完成时限：2025年11月底前
2.清理规范小微企业贷款中的不合理收费。
（市金融办牵头，各县市区按职责分工负责）
"""

TRADITIONAL = """關於2025年重點工作任務分工的通知

1.加快推進老舊小區改造。
牽頭單位：市住建局
責任單位：各縣市區政府
"""


def _seg_task(doc, needle):
    """The task covering the first occurrence of needle, or None."""
    pos = doc.text.index(needle)
    for sp in doc.speeches:
        for t in sp.tasks:
            if t.start <= pos < t.end:
                return t
    return None


@pytest.fixture(scope="module")
def report(rules_pipeline):
    return rules_pipeline(REPORT, source="report.txt", date="2025-01-10")


def test_sections_are_sorted_non_overlapping_and_record_rules(report):
    for sp in report.speeches:
        prev_end = sp.start
        for sec in sp.sections:
            assert sec.kind in SECTION_KINDS
            assert prev_end <= sec.start < sec.end <= sp.end
            assert sec.rules and all(sec.rules)
            prev_end = sec.end


def test_report_sections_by_heading_and_marker(report):
    sp = report.speeches[0]

    def kind(needle):
        return sp.section_at(report.text.index(needle)).kind

    assert kind("过去一年") == "review"
    assert kind("一是坚持项目为王") == "review"
    assert kind("地区生产总值增长6%") == "goals"
    assert kind("深入实施提振消费") == "plan"


def test_goals_section_records_its_year(report):
    sp = report.speeches[0]
    assert sp.section_at(report.text.index("城镇新增就业")).year == 2025
    assert sp.section_at(report.text.index("深入实施提振消费")).year == 2025   # "2025年工作安排"


def test_review_is_not_tasks_plan_and_goals_are(report):
    assert _seg_task(report, "重点加强了基础设施建设") is None
    assert _seg_task(report, "新开工项目42个") is None
    for needle in ("地区生产总值增长6%左右", "城镇新增就业1.2万人", "居民收入增长与经济增长同步",
                   "深入实施提振消费专项行动", "推行重点企业清洁生产审核"):
        t = _seg_task(report, needle)
        assert t is not None, needle
        assert t.rules
    assert "plan_imperative" in _seg_task(report, "推行重点企业清洁生产审核").rules
    assert "goals_item" in _seg_task(report, "城镇新增就业1.2万人").rules


@pytest.mark.parametrize("text", [BREAKDOWN, TRADITIONAL])
def test_breakdown_item_is_one_task_with_its_label_lines(rules_pipeline, text):
    doc = rules_pipeline(text, source="notice.txt", date="2025-03-01")
    tasks = [t for sp in doc.speeches for t in sp.tasks]
    for t in tasks:
        assert doc.text[t.start:t.end] == t.text
        # no bare label-line task: every task starts at an item, not at a label
        assert not t.text.lstrip().startswith(("牵头", "牽頭", "配合", "完成时限", "責任", "责任", "（"))
    first = _seg_task(doc, "1.")
    assert first is not None and "breakdown_label" in first.rules
    assert ("牵头单位" in first.text) or ("牽頭單位" in first.text)
    if text is BREAKDOWN:
        assert first.text.rstrip().endswith("2025年11月底前")
        second = _seg_task(doc, "2.清理规范")
        assert second is not None and second.text.rstrip().endswith("负责）")
        assert len(tasks) == 2


def test_sections_do_not_leak_past_a_goals_sentence(rules_pipeline):
    text = ("在全县防汛工作会议上的讲话\n同志们：\n今年我县防汛工作总的目标任务是：确保水库不垮坝。"
            "防汛工作关系全县群众生命财产安全，县委历来高度重视。\n")
    doc = rules_pipeline(text, source="speech.txt")
    sp = doc.speeches[0]
    sec = sp.section_at(doc.text.index("防汛工作关系"))
    assert sec is None or sec.kind != "goals"


_NOTICE = ["关于印发2025年重点工作任务分解方案的通知 某政办发〔2025〕3号",
           "各镇人民政府，县直各有关单位：", "现将方案印发给你们，请认真抓好落实。", "一、重点任务",
           "1.新建污水管网12公里。", "牵头单位：县住建局", "配合单位：县财政局、各镇人民政府",
           "完成时限：2025年11月底前", "2.完成老旧小区改造8个。", "牵头单位：县住建局", "完成时限：2025年12月底前"]


def _items(doc):
    return [([(u.text, u.role) for u in t.units], [(d.text, d.due) for d in t.deadlines],
             [(g.value, g.unit) for g in t.targets]) for sp in doc.speeches for t in sp.tasks]


@pytest.mark.parametrize("sep", [" ", "  ", "\u3000\u3000"], ids=["space", "two-spaces", "ideographic"])
def test_a_breakdown_notice_scraped_onto_one_line_gives_the_same_items(rules_pipeline, sep):
    # a web page's notice with its line breaks gone: one task per item, its lead and support
    # units, due date and targets, as from the notice with its lines
    want = _items(rules_pipeline("\n".join(_NOTICE) + "\n"))
    assert [len(u) for u, _, _ in want] == [0, 3, 1]
    flat = sep.join(_NOTICE)
    doc = rules_pipeline(flat)
    assert _items(doc) == want
    assert doc.speeches[0].ref_year == 2025
    assert all(flat[t.start:t.end] == t.text for sp in doc.speeches for t in sp.tasks)
