"""How a unit's load or a metric's target evolved across the speeches of the ledger."""
from __future__ import annotations

import datetime as dt
import re
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import Integer, case, func, select
from sqlalchemy.orm import Session

from speechledger.ledger.aliases import matching_unit_ids
from speechledger.ledger.models import Speech, Target, Task, TaskUnit

METRIC_FILE = Path(__file__).resolve().parent.parent / "data" / "metric_names.yaml"

UNIT_COLUMNS = ("speech_id", "date", "title", "tasks", "lead", "support", "with_deadline", "specific", "done")
METRIC_COLUMNS = ("speech_id", "date", "title", "task_id", "metric", "metric_as_written", "comparator", "value",
                  "unit", "placeholder", "text")


def _when(sp: Speech) -> str:
    return sp.date.isoformat() if sp.date else (str(sp.year) if sp.year else "")


def _order_key(sp: Speech):
    """Speech date; a year alone sorts mid-year; undated speeches last, by id."""
    if sp.date:
        return (0, sp.date, sp.id)
    if sp.year:
        return (0, dt.date(sp.year, 7, 1), sp.id)
    return (1, dt.date.max, sp.id)


def unit_trend(session: Session, unit: str) -> list[dict[str, Any]]:
    """Per speech (by date): tasks naming `unit` (alias/substring), as lead/support, with a deadline, done."""
    link = (select(TaskUnit.task_id,
                   func.max(case((TaskUnit.role == "lead", 1), else_=0)).label("lead"))
            .where(TaskUnit.unit_id.in_(matching_unit_ids(session, unit))).group_by(TaskUnit.task_id).subquery())
    stmt = (select(Speech, func.count(Task.id), func.sum(link.c.lead),
                   func.sum(case((Task.due.is_not(None), 1), else_=0)),
                   func.sum(func.cast(Task.specific, Integer)),
                   func.sum(case((Task.status == "done", 1), else_=0)))
            .join(Task, Task.speech_id == Speech.id).join(link, link.c.task_id == Task.id)
            .where(Speech.current.is_(True)).group_by(Speech.id))
    rows = []
    for sp, n, lead, due, specific, done in sorted(session.execute(stmt), key=lambda r: _order_key(r[0])):
        rows.append({"speech_id": sp.id, "date": _when(sp), "title": sp.title, "tasks": int(n),
                     "lead": int(lead or 0), "support": int(n) - int(lead or 0),
                     "with_deadline": int(due or 0), "specific": int(specific or 0), "done": int(done or 0)})
    return rows


@lru_cache(maxsize=1)
def _metric_rules() -> tuple[tuple[re.Pattern, ...], tuple[tuple[str, str], ...]]:
    import yaml
    data = yaml.safe_load(METRIC_FILE.read_text(encoding="utf-8"))
    return (tuple(re.compile(p) for p in data["leading"]),
            tuple((k, v) for k, v in data["replacements"].items()))


def metric_key(metric: str) -> str:
    """The metric name `trend` groups by: 规模以上工业增加值 and 2.规模工业增加值 are both 规模工业增加值."""
    from speechledger.normalize import norm_text
    leading, replacements = _metric_rules()
    s = norm_text(metric or "")
    changed = True
    while changed:
        changed = False
        for pat in leading:
            t = pat.sub("", s, count=1)
            if t != s:
                s, changed = t, True
    for old, new in replacements:
        s = s.replace(old, new)
    return s.strip()


def metric_trend(session: Session, metric: str) -> list[dict[str, Any]]:
    """Every target whose normalised metric contains the normalised `metric`, in speech-date order."""
    key = metric_key(metric)
    stmt = (select(Target, Task.id, Task.text, Speech).join(Task, Task.id == Target.task_id)
            .join(Speech, Speech.id == Task.speech_id).where(Speech.current.is_(True)))
    found = sorted((r for r in session.execute(stmt) if key and key in metric_key(r[0].metric)),
                   key=lambda r: (_order_key(r[3]), r[0].start))
    out = []
    for g, tid, text, sp in found:
        value = g.value
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        out.append({"speech_id": sp.id, "date": _when(sp), "title": sp.title, "task_id": tid,
                    "metric": metric_key(g.metric), "metric_as_written": g.metric, "comparator": g.comparator,
                    "value": value, "unit": g.unit, "placeholder": g.placeholder, "text": text})
    return out


# fonts with Chinese glyphs, by family name (first found wins) and by file name
CJK_FAMILIES = ("Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "Noto Sans CJK JP", "Noto Sans CJK TC",
                "Noto Serif CJK SC", "WenQuanYi Zen Hei", "WenQuanYi Micro Hei", "Microsoft YaHei", "SimHei",
                "PingFang SC", "Heiti SC", "Hiragino Sans GB", "Droid Sans Fallback", "AR PL UMing CN", "SimSun")
_CJK_FILES = re.compile(r"(NotoSans.*CJK|NotoSerif.*CJK|NotoSansSC|SourceHan|wqy|DroidSansFallback|msyh|simhei|"
                        r"simsun|PingFang|uming|ukai)", re.I)
NO_CJK_FONT = ("no font with Chinese glyphs found: the chart's Chinese labels will show as boxes; "
               "install one, e.g. `apt-get install fonts-noto-cjk` (Debian/Ubuntu) or "
               "`dnf install google-noto-sans-cjk-fonts` (Fedora)")


def find_cjk_font() -> str | None:
    """The family name of a CJK font matplotlib can use, registering system fonts its cache missed."""
    from matplotlib import font_manager
    names = {f.name for f in font_manager.fontManager.ttflist}
    for fam in CJK_FAMILIES:
        if fam in names:
            return fam
    found = None
    for path in sorted(font_manager.findSystemFonts()):
        if not _CJK_FILES.search(Path(path).name):
            continue
        try:
            font_manager.fontManager.addfont(path)
            name = font_manager.FontProperties(fname=path).get_name()
        except Exception:  # an unreadable font file is no reason to fail the chart
            continue
        if found is None or (name in CJK_FAMILIES and (found not in CJK_FAMILIES or
                                                      CJK_FAMILIES.index(name) < CJK_FAMILIES.index(found))):
            found = name
    return found


def plot_trend(rows: list[dict], path: str | Path, title: str, kind: str, warn=None) -> list[dict]:
    """A PNG line chart with Chinese labels: tasks per speech (unit) or target values per speech (metric).

    Undated speeches cannot sit on a time axis: they are left out, and returned so the
    caller can say so. `warn(message)` is told when no CJK font is installed.
    """
    import warnings

    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    font = find_cjk_font()
    if font:
        plt.rcParams["font.sans-serif"] = [font] + plt.rcParams["font.sans-serif"]
        plt.rcParams["font.family"] = "sans-serif"
    elif warn:
        warn(NO_CJK_FONT)
    plt.rcParams["axes.unicode_minus"] = False
    undated = [r for r in rows if not r["date"]]
    rows = [r for r in rows if r["date"]]
    order: list[int] = []
    for r in rows:
        if r["speech_id"] not in order:
            order.append(r["speech_id"])
    pos = {sid: i for i, sid in enumerate(order)}
    labels = [next(r["date"] for r in rows if r["speech_id"] == sid) for sid in order]
    fig, ax = plt.subplots(figsize=(max(7, 0.7 * len(order) + 4), 4.5))
    if kind == "unit":
        xs = range(len(rows))
        ax.plot(xs, [r["tasks"] for r in rows], marker="o", label="任务数")
        ax.plot(xs, [r["lead"] for r in rows], marker="s", label="牵头任务")
        ax.plot(xs, [r["with_deadline"] for r in rows], marker="^", label="有完成时限")
        ax.plot(xs, [r["done"] for r in rows], marker="D", label="已完成")
        ax.set_ylabel("任务数（项）")
        ax.yaxis.get_major_locator().set_params(integer=True)
    else:
        lines: dict[str, list[tuple[int, float]]] = {}
        for r in rows:
            if r["value"] is not None and not r["placeholder"]:
                label = f"{r['metric']}（{r['unit']}）" if r["unit"] else r["metric"]
                lines.setdefault(label, []).append((pos[r["speech_id"]], r["value"]))
        for label, pts in lines.items():
            ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="o", label=label)
            for x, y in pts:
                ax.annotate(f"{y:g}", (x, y), textcoords="offset points", xytext=(0, 6), ha="center", fontsize=8)
        ax.set_ylabel("目标值")
        ax.margins(y=0.15)
    ax.set_xlabel("讲话日期")
    ax.set_xticks(range(len(labels)))
    ax.set_xticklabels(labels, rotation=30, ha="right", fontsize=8)
    ax.set_title(title)
    ax.grid(True, alpha=0.3)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=8)
    with warnings.catch_warnings():
        # without a CJK font the labels render as boxes (the warning above says so once)
        warnings.filterwarnings("ignore", message="Glyph .* missing from font")
        fig.tight_layout()
        fig.savefig(str(path), dpi=100, format="png")
    plt.close(fig)
    return undated
