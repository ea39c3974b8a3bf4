"""Breakdown tables (ANNOTATION.md §8): one task per table row, its fields read by column.

The reader gives a .docx/PDF table row as one line of cells ("| 1 | 任务 | 牵头 | 配合 | 时限 |";
a cell holding a line break continues the row on the next line); users also paste rows with
tabs. A header row (cells naming columns, pipeline/data/tables.yaml) is no task and joins
none; each later row whose task cell has text is one task spanning the row, with the units
of the unit columns in the column's role, the due date of the deadline column and the
targets of the task cell only. Without a header the cells decide (units.py's rule: the
first cell of unit names leads, the next supports). A table pasted one cell a line (header
lines 序号 / 重点任务 / 牵头单位 / 配合单位 / 完成时限, then the cells row after row) is grouped
into rows the same way (rule id table.cell_lines). The stage runs after the per-task
field stages and replaces whatever they made of the row lines.
"""
from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass, field

from speechledger.doc import Deadline, Speech, SpeechDoc, Target, Task, Unit
from speechledger.extract.deadlines import RefDate, find_deadlines_with_rules
from speechledger.extract.targets import _metric_text, _unit_text, cell_targets, find_targets
from speechledger.extract.tasks import modality_of
from speechledger.extract.units import find_units_with_rules
from speechledger.speeches import heading_of

UNIT_ROLES = ("lead", "support")
_CJK = re.compile(r"[\u4e00-\u9fff]")
_SEPARATORS = re.compile(r"[\s、，,；;/和及与]*")
_ROW_OPEN = re.compile(r"^\s*\|[^|\n]*[^|\s][^|\n]*\|")   # a row opens with a closed cell
# not at 和/及: 人力资源和社会保障局; nor inside a bracket: 各县（市、区）政府 is one name
_NAME_PART = re.compile(r"(?:[(（][^)）、，,；;/]{1,8}(?:[、，,][^)）、，,；;/]{1,8})*[)）]|[^、，,；;/\s])+")
# a line holding only a unit-column name: a table may be pasted one cell a line
_HEADER_LINE = re.compile(r"(?m)^[ \t]*(?:牵头|责任|配合|协同|主责|负责)[^\n:：]{0,10}$")
_COLON = re.compile(r"[:：]")     # a label line (牵头单位：X), not a column name


@dataclass(frozen=True)
class Column:
    id: str
    role: str
    pattern: re.Pattern
    beside: re.Pattern | None = None            # applies only when another header cell matches this


@dataclass(frozen=True)
class CellDeadline:
    id: str
    pattern: re.Pattern
    due: str


@dataclass
class Row:
    start: int                                  # first "|" (or first cell) of the row
    end: int                                    # after the last "|" (or last cell)
    cells: list[tuple[int, int]]                # stripped cell spans, empty cells kept (s == e)
    header: list[Column | None] | None = None   # set on a header row: each cell's column
    by_content: bool = False                    # cells did not line up with the header: roles from content
    cell_lines: bool = False                    # a row of a table pasted one cell a line


@dataclass
class Table:
    rows: list[Row] = field(default_factory=list)


def merged_roles(lexicon) -> dict[str, str]:
    """role -> rule id: the columns whose empty cells take the filled cell above (merged_above)."""
    return lexicon.cached("tables_merged", lambda lex: {role: r["id"] for r in lex.data("tables.yaml").get(
        "merged_above", []) for role in r.get("roles", [])})


def table_rules(lexicon) -> tuple[list[Column], list[CellDeadline], list[Column]]:
    """The column rows, the cell deadline rows and the unit-name rows of tables.yaml."""
    def build(lex):
        data = lex.data("tables.yaml")
        cols = [Column(r["id"], r["role"], re.compile(r["pattern"]),
                       re.compile(r["beside"]) if r.get("beside") else None) for r in data.get("columns", [])]
        cells = [CellDeadline(r["id"], re.compile(r["pattern"]), r["due"]) for r in data.get("cell_deadlines", [])]
        names = [Column(r["id"], "unit", re.compile(r["pattern"])) for r in data.get("unit_name_parts", [])]
        return cols, cells, names
    return lexicon.cached("tables", build)


def column_of(cell: str, columns: list[Column], others: list[str] | None = None) -> Column | None:
    """The column a header cell names (spaces removed: PDF "牵头 单位"), or None. others: the
    header's other cells, which a row with `beside` needs to see."""
    text = re.sub(r"\s", "", cell)
    if not text or len(text) > 16:
        return None
    return next((c for c in columns if c.pattern.search(text) and (
        c.beside is None or any(c.beside.search(re.sub(r"\s", "", o)) for o in others or ()))), None)


def _pipe_row(norm: str, pos: int, limit: int) -> tuple[int, int, int] | None:
    """(row start, row end, next line start) of a "| … |" row starting on the line at pos; the
    row may run over several lines when a cell holds a line break (up to 8 lines)."""
    nl = norm.find("\n", pos, limit)
    line_end = limit if nl < 0 else nl
    line = norm[pos:line_end]
    if not _ROW_OPEN.match(line):
        return None                             # "|" or "||" alone: a cell-per-line table (units.py)
    start = pos + len(line) - len(line.lstrip())
    for _ in range(8):
        stripped = norm[pos:line_end].rstrip()
        if stripped.endswith("|") and norm.count("|", start, pos + len(stripped)) >= 3:
            return start, pos + len(stripped), line_end + 1
        if line_end >= limit:
            return None
        pos = line_end + 1
        nl = norm.find("\n", pos, limit)
        line_end = limit if nl < 0 else nl
        if norm[pos:line_end].lstrip().startswith("|"):
            return None                         # the next row: this line was no closed row
    return None


# a cell of a row flattened with spaces: runs of text with single spaces inside ("2026 年 10 月底前")
_SPACED_CELL = re.compile(r"[^ \t\u3000]+(?: [^ \t\u3000]+)*")
_CLAUSE_END = frozenset("，,；;：:、。！!？?")


def _cells(norm: str, start: int, end: int, sep: str) -> list[tuple[int, int]]:
    out, pos = [], start
    parts = norm[start:end].split(sep)
    if sep == "|":
        pos += len(parts[0]) + 1
        parts = parts[1:-1]                     # outside the first and last "|"
    for p in parts:
        lo = pos + len(p) - len(p.lstrip())
        hi = pos + len(p.rstrip())
        out.append((lo, max(lo, hi)))
        pos += len(p) + 1
    return out


def find_tables(norm: str, start: int, end: int, columns: list[Column]) -> list[Table]:
    """The tables in norm[start:end]: runs of row lines (blank lines between rows allowed)."""
    tables: list[Table] = []
    cur: Table | None = None
    spaced = False          # the current table's rows are cut at runs of spaces
    pos = start
    while pos < end:
        nl = norm.find("\n", pos, end)
        line_end = end if nl < 0 else nl
        line = norm[pos:line_end]
        row = None
        nxt = line_end + 1
        found = _pipe_row(norm, pos, end)
        if found:
            s, e, nxt = found
            row = Row(s, e, _cells(norm, s, e, "|"))
        elif line.count("\t") >= 2 or (line.count("\t") >= 1 and cur is not None):
            s = pos + len(line) - len(line.lstrip())
            e = pos + len(line.rstrip())
            cells = _cells(norm, s, e, "\t")
            if sum(1 for a, b in cells if b > a) >= 2:
                row = Row(s, e, cells)
        elif "  " in line or "\u3000" in line:
            # a table flattened with runs of spaces (a PDF copy): three cells or more, and only
            # after a header row of them, as prose with stray double spaces is common
            cells = [(pos + m.start(), pos + m.end()) for m in _SPACED_CELL.finditer(line)]
            # (a cell ends without a clause or sentence mark: "各乡镇要  加强…，  确保…。" is prose)
            if len(cells) >= 3 and not any(norm[b - 1] in _CLAUSE_END for _, b in cells) and \
                    (spaced or _header(norm, Row(cells[0][0], cells[-1][1], cells), columns)):
                row = Row(cells[0][0], cells[-1][1], cells)
        if row is not None:
            if cur is None:
                cur = Table()
                tables.append(cur)
                spaced = "|" not in line and "\t" not in line
            cur.rows.append(row)
        elif line.strip():
            cur = None
            spaced = False
        pos = nxt
    for t in tables:
        for r in t.rows:
            r.header = _header(norm, r, columns)
    return tables


_INDEX_CELL = re.compile(r"[(（]?([0-9]{1,3})[)）.、．]?")


def _lines(norm: str, start: int, end: int) -> list[tuple[int, int]]:
    """Stripped spans of the non-blank lines of norm[start:end]; a line holding "|" ends a run
    (cells closed by "|" are read by units.py and the segment stages, row by line)."""
    out, pos = [], start
    while pos < end:
        nl = norm.find("\n", pos, end)
        line_end = end if nl < 0 else nl
        lo = pos + len(norm[pos:line_end]) - len(norm[pos:line_end].lstrip())
        hi = pos + len(norm[pos:line_end].rstrip())
        if hi > lo:
            out.append((lo, hi) if norm.find("|", lo, hi) < 0 else (lo, lo))
        pos = line_end + 1
    return out


def find_cell_line_tables(norm: str, start: int, end: int, columns: list[Column]) -> list[Table]:
    """Tables pasted one cell a line (Word/PDF): a run of 3+ header lines naming columns, among
    them a task column and a unit column, then the rows. With an index column a row runs from
    one serial number (1, 2, 3 …) to the next, else every N lines make a row (N header lines);
    a row whose line count differs from N takes its cell roles from the cells' content. The
    table ends at the first line that breaks the numbering (or, without numbers, at a chunk
    whose unit cells name no unit)."""
    lines = _lines(norm, start, end)
    tables: list[Table] = []
    i = 0
    while i < len(lines):
        cols: list[Column] = []
        j = i
        while j < len(lines) and 0 < lines[j][1] - lines[j][0] <= 16 and not _COLON.search(norm, *lines[j]) \
                and (col := column_of(norm[lines[j][0]:lines[j][1]], columns)) is not None:
            cols.append(col)
            j += 1
        roles = {c.role for c in cols}
        if len(cols) < 3 or "task" not in roles or not roles & {"lead", "support"}:
            i = max(j, i + 1)
            continue
        head = Row(lines[i][0], lines[j - 1][1], lines[i:j], header=list(cols))
        table = Table([head])
        rows, j = _cell_line_rows(norm, lines, j, cols)
        for cells in rows:
            table.rows.append(Row(cells[0][0], cells[-1][1], cells, by_content=len(cells) != len(cols),
                                  cell_lines=True))
        if len(table.rows) > 1:
            tables.append(table)
        i = j
    return tables


def _cell_line_rows(norm: str, lines: list[tuple[int, int]], j: int, cols: list[Column]
                    ) -> tuple[list[list[tuple[int, int]]], int]:
    """The rows of a cell-per-line table whose header ends before lines[j], and where it ends."""
    n = len(cols)
    rows: list[list[tuple[int, int]]] = []
    lines = lines[:next((k for k in range(j, len(lines)) if lines[k][0] == lines[k][1]), len(lines))]   # a "|" line
    if cols[0].role == "index":
        expected = 1
        while j < len(lines) and (m := _INDEX_CELL.fullmatch(norm, *lines[j])) and int(m.group(1)) == expected:
            k = j + 1
            while k < len(lines) and k - j < 2 * n and not (
                    (m2 := _INDEX_CELL.fullmatch(norm, *lines[k])) and int(m2.group(1)) == expected + 1):
                k += 1
            if k >= len(lines) or k - j >= 2 * n:
                k = min(j + n, len(lines))      # the last row: as many lines as columns
            rows.append(lines[j:k])
            j, expected = k, expected + 1
        return rows, j
    while j + n <= len(lines):
        cells = lines[j:j + n]
        if any(c.role in UNIT_ROLES and not _CJK.search(norm, a, b) for c, (a, b) in zip(cols, cells)):
            break
        rows.append(cells)
        j += n
    return rows, j


def _header(norm: str, row: Row, columns: list[Column]) -> list[Column | None] | None:
    """Each cell's column when the row names columns: at least two cells and most of the
    non-empty ones name a known column, and none is longer than a column name."""
    full = [(a, b) for a, b in row.cells if b > a]
    if len(full) < 2 or any(b - a > 16 for a, b in full):
        return None
    texts = [norm[a:b] for a, b in row.cells]
    cols = [column_of(t, columns, texts[:i] + texts[i + 1:]) if t else None for i, t in enumerate(texts)]
    named = sum(1 for c in cols if c is not None)
    if named < 2 or named * 2 < len(full):
        return None
    return cols


def _unit_cell(norm: str, s: int, e: int, lex) -> list[tuple[int, int, tuple[str, ...]]] | None:
    """The unit names filling cell norm[s:e] entirely (with their rule ids), or None."""
    if e <= s or e - s > 60 or not _CJK.search(norm, s, e):
        return None
    found = find_units_with_rules(norm, s, e, lex)
    pos, rest = s, []
    for a, b, _role, _rules in found:
        rest.append(norm[pos:a])
        pos = b
    rest.append(norm[pos:e])
    if not found or not all(_SEPARATORS.fullmatch(r) for r in rest):
        return None
    return [(a, b, rules) for a, b, _role, rules in found]


def _named_cell(norm: str, s: int, e: int, lex) -> list[tuple[int, int, tuple[str, ...]]] | None:
    """A cell of unit names (finder or name shape, tables.yaml unit_name_parts), or None."""
    names = _unit_cell(norm, s, e, lex)
    if names is not None:
        return names
    rows = table_rules(lex)[2]
    parts = [m for m in _NAME_PART.finditer(norm, s, e)] if e > s else []
    hits = [next((r.id for r in rows if r.pattern.fullmatch(m.group())), None) for m in parts]
    if not parts or None in hits:
        return None
    return [(m.start(), m.end(), (h,)) for m, h in zip(parts, hits)]


def _cell_units(norm: str, s: int, e: int, lex) -> list[tuple[int, int, tuple[str, ...]]]:
    """Units of a cell under a unit column: the names the unit finder sees, else the cell
    split at 、/，/; (§3: coordinated names are units of their own); a name is short and
    holds no figures."""
    names = _named_cell(norm, s, e, lex)
    if names is not None:
        return names
    out = []
    for m in _NAME_PART.finditer(norm, s, e):
        a, b = m.span()
        # "区水务局，区财政局配合": the role word closing a name is no part of it and gives its role
        r = _CELL_ROLE_WORD.search(norm, a, b)
        rid = ("table.cell_split",)
        if r is not None and r.start() - a >= 2:
            b, rid = r.start(), ("table.cell_split", "table.cell_role_" + ("lead" if r.group(1) else "support"))
        if 2 <= b - a <= 20 and not re.search(r"\d|[。：:]", norm[a:b]):
            out.append((a, b, rid))
    return out


_CELL_ROLE_WORD = re.compile(r"(?:(牵头|负责|主责)|配合|协助|协同|参与|协办)$")


def _cell_role(rules: tuple[str, ...], role: str) -> str:
    """The role a cell's name takes: its column's, unless a role word closes the name."""
    if "table.cell_role_support" in rules:
        return "support"
    return "lead" if "table.cell_role_lead" in rules else role


def _roles(norm: str, row: Row, header: list[Column | None] | None, lex) -> list[str]:
    """Each cell's role: from the header's column, else from the cell (no header)."""
    if header is not None:
        roles = [c.role if c is not None else "other" for c in header]
        roles += ["other"] * (len(row.cells) - len(roles))
        if "task" not in roles:                 # no task column named: the longest free cell
            free = [i for i, r in enumerate(roles[:len(row.cells)]) if r == "other"]
            if free:
                i = max(free, key=lambda k: row.cells[k][1] - row.cells[k][0])
                roles[i] = "task"
        return roles[:len(row.cells)]
    roles, prev_units, task_seen = [], False, False
    for a, b in row.cells:
        text = norm[a:b]
        if b <= a:
            roles.append("other")
            prev_units = False
        elif re.fullmatch(r"[(（]?[0-9一二三四五六七八九十]{1,3}[)）.、．]?", text):
            roles.append("index")
        elif _named_cell(norm, a, b, lex) is not None:
            roles.append("support" if prev_units else "lead")
            prev_units = True
            continue
        elif not task_seen and len(_CJK.findall(text)) >= 4:
            roles.append("task")
            task_seen = True
        else:
            roles.append("deadline")            # a date cell; other cells give no deadline
        prev_units = False
    return roles


def _segment_at(sp: Speech, pos: int) -> int:
    i = bisect_right(sp.segments, pos, key=lambda g: g.start) - 1
    return sp.segments[max(i, 0)].id if sp.segments else 0


def _row_task(doc: SpeechDoc, sp: Speech, row: Row, roles: list[str], header, lex, cells_dl, ref,
              above: dict[int, tuple[int, int]] | None = None) -> Task | None:
    """above: column -> the filled cell above an empty one that repeats it (merged_above)."""
    norm = doc.norm
    task_cells = [(a, b) for (a, b), r in zip(row.cells, roles) if r == "task" and b > a]
    if not task_cells or not _CJK.search(norm, *task_cells[0]):
        return None
    ts, te = task_cells[0]
    col_ids = [c.id for c in header if c is not None] if header is not None else []
    task = Task(start=row.start, end=row.end, text=doc.text[row.start:row.end],
                modality=modality_of(norm[ts:te], lex), specific=False, segment=_segment_at(sp, ts),
                heading=heading_of(sp, row.start), extractor="rules", confidence=0.9,
                rules=["table.row" if header is not None else "table.row_no_header"] + col_ids)
    for i, ((a, b), role) in enumerate(zip(row.cells, roles)):
        col = header[i] if header is not None and i < len(header) else None
        by = (col.id,) if col is not None else ("table.cell_" + role,)
        if role in UNIT_ROLES and b > a:
            task.units += [Unit(s, e, doc.text[s:e], _cell_role(rules, role), rules=by + rules)
                           for s, e, rules in _cell_units(norm, a, b, lex)]
        elif role in UNIT_ROLES and above and i in above:
            rid = merged_roles(lex)[role]
            task.units += [Unit(s, e, doc.text[s:e], role, rules=by + (rid,) + rules)
                           for s, e, rules in _cell_units(norm, *above[i], lex)]
        elif role == "deadline" and b > a:
            found = find_deadlines_with_rules(norm, a, b, ref, lex)
            task.deadlines += [Deadline(s, e, doc.text[s:e], due, ph, rules=by + rules)
                               for s, e, due, ph, rules in found]
            if not found and ref is not None:
                text = re.sub(r"\s", "", norm[a:b])
                for cd in cells_dl:
                    if cd.pattern.fullmatch(text) and cd.due == "year_end":
                        task.deadlines.append(Deadline(a, b, doc.text[a:b], f"{ref.year}-12-31", False,
                                                       rules=by + (cd.id,)))
                        break
    if not task.deadlines:                      # "2025年底前完成…" written in the task cell itself
        task.deadlines = [Deadline(s, e, doc.text[s:e], due, ph, rules=("table.task_cell",) + rules)
                          for s, e, due, ph, rules in find_deadlines_with_rules(norm, ts, te, ref, lex)]
    sec = sp.section_at(row.start) if sp.sections else None
    if sec is None or sec.kind != "review":
        task.targets = [Target(f["start"], f["end"], doc.text[f["start"]:f["end"]], _metric_text(doc, f),
                               f["value"], _unit_text(doc, f), f["comparator"], f["placeholder"],
                               rules=("table.task_cell",) + tuple(f.get("rules", ())))
                        for f in find_targets(norm, ts, te, lex)
                        + _value_cells(norm, row, roles, ts, te, lex, header is None)]
    return task


_VALUE_CELL = re.compile(r"\s*(?:[≥≤><]|不低于|不少于|超过|达到|控制在|约)?\s*[\dXx×*]")


def _value_cells(norm: str, row: Row, roles: list[str], ts: int, te: int, lex, headless: bool) -> list[dict]:
    """Targets of an indicator table's value column, with the unit of its measure column; in a
    row without a header, a short cell that is a figure ("| 城镇新增就业 | 1.2万人 | 县人社局 |")."""
    if "value" not in roles:
        if not headless:
            return []       # a headed table's other columns (进展, 备注) hold no goal
        return [f for (a, b), r in zip(row.cells, roles) if r not in ("task", "index") and 0 < b - a <= 14
                and _VALUE_CELL.match(norm, a, b) for f in cell_targets(norm, a, b, None, norm[ts:te], lex)]
    unit = next((norm[a:b].strip() for (a, b), r in zip(row.cells, roles) if r == "measure" and b > a), None)
    return [f for (a, b), r in zip(row.cells, roles) if r == "value" and b > a
            for f in cell_targets(norm, a, b, unit, norm[ts:te], lex)]


def table_tasks(doc: SpeechDoc, config) -> SpeechDoc:
    """REQUIRES tasks with units, deadlines, targets; PROVIDES one task per breakdown table row.

    Tasks the segment stages made inside a table (a header row, a cell line) are dropped, and so
    is an item made a task only because the table's rows looked like its label lines."""
    lex = config.lexicon
    columns, cells_dl, _names = table_rules(lex)
    for sp in doc.speeches:
        tables = []
        body = doc.norm[sp.start:sp.end]
        if "|" in body or "\t" in body or "  " in body or "\u3000" in body:
            tables = find_tables(doc.norm, sp.start, sp.end, columns)
        if _HEADER_LINE.search(doc.norm, sp.start, sp.end):
            tables += find_cell_line_tables(doc.norm, sp.start, sp.end, columns)
        if not tables:
            continue
        ref = RefDate.of(sp.date, sp.ref_year)
        spans: list[tuple[int, int]] = []
        made: list[Task] = []
        firsts = []
        merged = merged_roles(lex)
        for table in tables:
            header, taken = None, len(spans)
            filled: dict[int, tuple[int, int]] = {}     # column -> its last filled cell (merged_above)
            for row in table.rows:
                if row.header is not None:
                    header, filled = row.header, {}
                    spans.append((row.start, row.end))
                    continue
                if header is not None and "table.col_indicator" in [c.id for c in header if c is not None] \
                        and not any(c is not None and c.role == "value" for c in header):
                    continue                    # indicator figures without a goal column: the segments decide
                roles = _roles(doc.norm, row, None if row.by_content else header, lex)
                if header is None and not any(r in UNIT_ROLES for r in roles):
                    continue                    # a figures table without a header: the segment stages decide
                above = {}
                if header is not None and not row.by_content:
                    for i, ((a, b), role) in enumerate(zip(row.cells, roles)):
                        if role in merged and b > a:
                            filled[i] = (a, b)
                        elif role in merged and i in filled:
                            above[i] = filled[i]
                t = _row_task(doc, sp, row, roles, None if row.by_content else header, lex, cells_dl, ref, above)
                spans.append((row.start, row.end))
                if t is not None:
                    if row.cell_lines:
                        t.rules.insert(1, "table.cell_lines")
                    made.append(t)
            if len(spans) > taken:
                firsts.append(table.rows[0].start)
        kept = []
        for t in sp.tasks:
            if any(t.start < e and s < t.end for s, e in spans):
                continue
            if "breakdown_item" in t.rules and _next_line_start(doc.norm, t.end, sp.end) in firsts:
                continue                        # "分解如下。" over the table's rows: no item
            kept.append(t)
        sp.tasks = sorted(kept + made, key=lambda t: t.start)
    return doc


def _next_line_start(norm: str, pos: int, limit: int) -> int:
    """Where the next non-blank line after pos begins (its first non-space character)."""
    m = re.compile(r"\s*").match(norm, pos, limit)
    return m.end() if m else pos
