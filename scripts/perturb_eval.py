"""Robustness: score the extractors on dev texts written differently (same content).

Each perturbation rewrites a text and its gold together, tracking offsets, so the
perturbed gold says exactly what the original gold says about the rewritten text:

  trad       simplified -> traditional script (OpenCC s2t, one character for one)
  trad-tw    the same in Taiwan forms (s2tw: 著 for 着), trad-hk in Hong Kong forms (s2hk: 衞)
  fullwidth  ASCII digits, '%' and decimal points -> full-width (０-９, ％, ．)
  pdfspace   PDF-style spaces between a number and the characters around it ("5 月底前")
  pdfglyph   Kangxi radical code points for 工, 人, 金… (what many PDFs give when copied)
  wrap       PDF-style line breaks inside sentences (every ~36 characters)
  numbering  numbering styles rotated: 一、 -> 1. -> （一） -> 第一， -> 一、
  asciipunct full-width ，：；（）！？ -> ASCII ,:;()!?   fullpunct  the reverse
  indent     every paragraph opens with two ideographic spaces (Word and web paragraphs)
  blanklines a blank line after every paragraph
  flatten    every line break a space (a scraped page on one line)
  cnnum      years, months and small counts in Chinese numerals (二〇二四年六月底前, 新建十二个)
  bom-crlf   the file written as UTF-8 with a BOM and CRLF line endings (read by read_file)
  gb18030    the file written as GB18030 with CRLF line endings (read by read_file)
  big5-tw    trad-tw written as Big5 (HKSCS) with CRLF line endings (read by read_file)

  python scripts/perturb_eval.py [SET…] [--perturb P…] [--extractors rules hybrid] [--errors]

SET is real-dev, long-dev, train (outputs/sets, laid out by scripts/real_sets.py) or
seed (corpus/texts + corpus/gold/dev.jsonl). The frozen test sets are refused.
The table gives F1 per field on the original and each perturbed text, and the drop.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import sys
import tempfile
from pathlib import Path
from typing import NamedTuple

from speechledger import evaluate as ev
from speechledger.referee import referee

ROOT = Path(__file__).resolve().parent.parent
FIELDS = ev.FIELDS
TEXT_PERTURBATIONS = ("trad", "trad-tw", "trad-hk", "fullwidth", "pdfspace", "pdfglyph", "wrap", "numbering",
                      "asciipunct", "fullpunct", "indent", "blanklines", "cnnum", "flatten")
FILE_PERTURBATIONS = ("bom-crlf", "gb18030", "big5-tw")
PERTURBATIONS = TEXT_PERTURBATIONS + FILE_PERTURBATIONS
SETS = ("real-dev", "long-dev", "train", "seed")


# ---------------------------------------------------------------- offset-tracking edits

class Edited(NamedTuple):
    """A rewritten text and where each old offset went (start and end sides differ at insertions)."""
    text: str
    smap: list[int]   # old start offset -> new start offset
    emap: list[int]   # old end offset -> new end offset

    def span(self, s: int, e: int) -> tuple[int, int]:
        ns, ne = self.smap[s], self.emap[e]
        return ns, max(ns, ne)


def apply_edits(text: str, edits: list[tuple[int, int, str]]) -> Edited:
    """Apply non-overlapping edits (start, end, replacement) to text.

    An insertion (start == end) stays outside spans that start or end there; a span
    boundary inside a replaced stretch moves to the edge of its replacement.
    """
    n = len(text)
    starts_new = [0] * (n + 1)
    ends_new = [0] * (n + 1)
    out: list[str] = []
    j = pos = 0
    for s, e, rep in sorted(edits, key=lambda x: (x[0], x[1])):
        assert s >= pos, "overlapping edits"
        for i in range(pos, s):
            starts_new[i] = j
            ends_new[i + 1] = j + 1
            j += 1
        out.append(text[pos:s])
        if s == e:
            ends_new[s] = j
            j += len(rep)
            starts_new[s] = j
        else:
            starts_new[s] = j
            for i in range(s + 1, e):
                starts_new[i], ends_new[i] = j, j + len(rep)
            j += len(rep)
            ends_new[e] = j
        out.append(rep)
        pos = e
    for i in range(pos, n):
        starts_new[i] = j
        ends_new[i + 1] = j + 1
        j += 1
    out.append(text[pos:])
    starts_new[n] = j
    return Edited("".join(out), starts_new, ends_new)


# ---------------------------------------------------------------- the perturbations

_CC: dict[str, object] = {}


def to_traditional(text: str, config: str = "s2t") -> str:
    """Traditional script of text (OpenCC s2t, s2tw Taiwan or s2hk Hong Kong forms),
    character for character (same length, same offsets)."""
    if config not in _CC:
        import opencc
        _CC[config] = opencc.OpenCC(config)
    cc = _CC[config]
    out = cc.convert(text)
    if len(out) == len(text):
        return out
    return "".join(c2 if len(c2 := cc.convert(c)) == 1 else c for c in text)


def _one_for_one(text: str, new: str) -> Edited:
    return apply_edits(text, [(i, i + 1, b) for i, (a, b) in enumerate(zip(text, new)) if a != b])


def p_trad(text: str, protect) -> Edited:
    return _one_for_one(text, to_traditional(text))


def p_trad_tw(text: str, protect) -> Edited:
    return _one_for_one(text, to_traditional(text, "s2tw"))


def p_trad_hk(text: str, protect) -> Edited:
    return _one_for_one(text, to_traditional(text, "s2hk"))


def _kangxi() -> dict[str, str]:
    import unicodedata
    return {unicodedata.normalize("NFKC", chr(o)): chr(o) for o in range(0x2F00, 0x2FD6)}


def p_pdfglyph(text: str, protect) -> Edited:
    """Kangxi radical code points for the characters that have one (⼯ for 工, ⼈ for 人),
    as text copied out of many PDFs shows them."""
    k = _kangxi()
    return _one_for_one(text, "".join(k.get(c, c) for c in text))


_FW = {**{str(d): chr(0xFF10 + d) for d in range(10)}, "%": "％"}


def p_fullwidth(text: str, protect) -> Edited:
    edits = [(i, i + 1, _FW[c]) for i, c in enumerate(text) if c in _FW]
    edits += [(m.start(), m.end(), "．") for m in re.finditer(r"(?<=\d)\.(?=\d)", text)]
    return apply_edits(text, edits)


_HALF_PUNCT = str.maketrans("，：；（）！？", ",:;()!?")
_FULL_PUNCT = str.maketrans(",:;()!?", "，：；（）！？")


def p_asciipunct(text: str, protect) -> Edited:
    """Full-width ，：；（）！？ as their ASCII forms (many web and OCR copies)."""
    return _one_for_one(text, text.translate(_HALF_PUNCT))


def p_fullpunct(text: str, protect) -> Edited:
    """ASCII ,:;()!? as their full-width forms (a text typed with ASCII punctuation, set right)."""
    return _one_for_one(text, text.translate(_FULL_PUNCT))


# a paragraph's end: a line closing on a sentence end or a colon, or a line without punctuation
# (a title, a heading); a hard-wrapped text's lines cut mid-clause go on, as in the PDF
_PARA_END = re.compile(r"(?m)(?:[。！？：；!?:;][”’」』）)]*|^[^。！？，、：；,;:!?\n]*)[ \t\u3000]*\n")


def _para_ends(text: str) -> list[int]:
    """Offsets just past the newline of each paragraph's last line (a hard-wrapped text's
    wrapped lines, as the normaliser finds them, are none)."""
    from speechledger.segment import soft_wraps
    wraps = set(soft_wraps(text))
    return [m.end() for m in _PARA_END.finditer(text) if m.end() - 1 not in wraps]


_DIGIT_CN = dict(zip("0123456789", "〇一二三四五六七八九"))
# small counts before a measure word or a month, and years: the Chinese numerals formal texts use
_CN_COUNT = re.compile(r"(?<![\d.．])(?P<n>[1-9]\d?)(?=月|日|号|个|家|项|名|次|所|条|天|年内|批|场|座)")
_CN_YEAR = re.compile(r"(?<![\d.．])(?P<n>(?:19|20)\d{2})(?=年)")


def p_cnnum(text: str, protect) -> Edited:
    """Years, months and small counts in Chinese numerals ("二〇二四年六月底前", "新建十二个"), as
    formal documents write them."""
    edits = [(m.start(), m.end(), _cn(int(m.group("n")))) for m in _CN_COUNT.finditer(text)]
    edits += [(m.start(), m.end(), "".join(_DIGIT_CN[c] for c in m.group("n"))) for m in _CN_YEAR.finditer(text)]
    return apply_edits(text, edits)


def p_flatten(text: str, protect) -> Edited:
    """Every line break a space: the whole text on one line, as many web pages are scraped."""
    return _one_for_one(text, text.replace("\n", " "))


def p_indent(text: str, protect) -> Edited:
    """Every paragraph indented by two ideographic spaces, as paragraphs copied out of Word or a web page."""
    starts = [0] + _para_ends(text)
    return apply_edits(text, [(i, i, "\u3000\u3000") for i in starts if i < len(text) and not text[i].isspace()])


def p_blanklines(text: str, protect) -> Edited:
    """A blank line after every paragraph (paragraphs spaced apart, as web pages are copied)."""
    return apply_edits(text, [(i, i, "\n") for i in _para_ends(text)])


_CJK = r"\u4e00-\u9fff"
_NUM_EDGE = re.compile(rf"(?<=[0-9])(?=[{_CJK}])|(?<=[{_CJK}])(?=[0-9])")


def p_pdfspace(text: str, protect) -> Edited:
    """A space wherever a digit run meets a Chinese character or '%' (as PDFs extract)."""
    return apply_edits(text, [(m.start(), m.start(), " ") for m in _NUM_EDGE.finditer(text)])


_HALF = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789 .")
_NO_BREAK_BEFORE = set("。！？；!?;，、：,:）)”’」』%％.")


def p_wrap(text: str, protect, width: int = 36) -> Edited:
    """Line breaks inside long lines every ~width characters, never inside a protected span
    (gold mentions), a number, or before punctuation, as text copied from a PDF."""
    blocked = bytearray(len(text) + 1)
    for s, e in protect:
        for i in range(s + 1, e):
            blocked[i] = 1
    edits = []
    col = 0.0
    for i, c in enumerate(text):
        if c == "\n":
            col = 0
            continue
        col += 0.5 if c in _HALF else 1
        if col >= width and i + 1 < len(text) and not blocked[i + 1]:
            nxt = text[i + 1]
            if nxt == "\n" or nxt in _NO_BREAK_BEFORE or nxt.isspace() or (c.isdigit() and nxt.isdigit()):
                continue
            edits.append((i + 1, i + 1, "\n"))
            col = 0
    return apply_edits(text, edits)


_CN = "一二三四五六七八九十"


def _cn(n: int) -> str:
    if n <= 10:
        return _CN[n - 1]
    if n < 20:
        return "十" + _CN[n - 11]
    return _CN[n // 10 - 1] + "十" + (_CN[n % 10 - 1] if n % 10 else "")


def _num(s: str) -> int:
    if s.isdigit():
        return int(s)
    if s == "十":
        return 10
    if s.startswith("十"):
        return 10 + _CN.index(s[1]) + 1
    if "十" in s:
        a, _, b = s.partition("十")
        return (_CN.index(a) + 1) * 10 + (_CN.index(b) + 1 if b else 0)
    return _CN.index(s) + 1


_CNUM = "[一二三四五六七八九十]{1,3}"
# a numbering marker at the start of a line, in the four styles, rotated one step
_NUMBERING = re.compile(rf"(?m)^[ \t\u3000]*(?:(?P<a>{_CNUM})、|(?P<b>\d{{1,2}})[.．、](?!\d)|[（(](?P<c>{_CNUM})[）)]"
                        rf"|第(?P<d>{_CNUM})[，,、])")


def p_numbering(text: str, protect) -> Edited:
    edits = []
    for m in _NUMBERING.finditer(text):
        kind = next(k for k in "abcd" if m.group(k))
        n = _num(m.group(kind))
        rep = {"a": f"{n}.", "b": f"（{_cn(n)}）", "c": f"第{_cn(n)}，", "d": f"{_cn(n)}、"}[kind]
        edits.append((m.start(kind) - (1 if kind in "cd" else 0), m.end(), rep))
    return apply_edits(text, edits)


PERTURB = {"trad": p_trad, "trad-tw": p_trad_tw, "trad-hk": p_trad_hk, "fullwidth": p_fullwidth,
           "pdfspace": p_pdfspace, "pdfglyph": p_pdfglyph, "wrap": p_wrap, "numbering": p_numbering,
           "asciipunct": p_asciipunct, "fullpunct": p_fullpunct, "indent": p_indent, "blanklines": p_blanklines,
           "cnnum": p_cnnum, "flatten": p_flatten,
           "identity": lambda text, protect: apply_edits(text, [])}


# ---------------------------------------------------------------- gold remapping

def _occ(seg_text: str, text: str, pos: int) -> int | None:
    """The occurrence index (as the referee counts it) of text found at pos in seg_text."""
    k, p = 0, -1
    while True:
        p = seg_text.find(text, p + 1)
        if p < 0 or p > pos:
            return None
        if p == pos:
            return k
        k += 1


def gold_spans(text: str, lines: dict[int, dict]) -> list[tuple[int, int]]:
    """Absolute spans of every gold mention of a document (to keep line breaks out of them)."""
    split, locate = referee().split, referee().locate
    segs = split(text)
    out = []
    for sid, g in lines.items():
        s = segs[sid]
        for kind in ("units", "deadlines", "targets"):
            out += [locate(s.text, s.start, it) for it in g.get(kind, [])]
    return out


def remap_gold(old: str, ed: Edited, lines: dict[int, dict]) -> tuple[list[dict], int]:
    """Gold lines for ed.text; returns (lines, mentions lost at a new segment cut)."""
    split, locate = referee().split, referee().locate
    old_segs, new_segs = split(old), split(ed.text)
    out: dict[int, dict] = {}
    lost = 0
    for sid, g in sorted(lines.items()):
        os_ = old_segs[sid]
        ns, ne = ed.span(os_.start, os_.end)
        pieces = [s for s in new_segs if min(ne, s.end) > max(ns, s.start)]
        for p in pieces:
            out.setdefault(p.id, {**{k: v for k, v in g.items() if k not in ("units", "deadlines", "targets")},
                                  "seg": p.id, "start": p.start, "end": p.end,
                                  "units": [], "deadlines": [], "targets": []})
        for kind in ("units", "deadlines", "targets"):
            for it in g.get(kind, []):
                s, e = locate(os_.text, os_.start, it)
                ms, me = ed.span(s, e)
                home = next((p for p in pieces if p.start <= ms and me <= p.end), None)
                if home is None:
                    lost += 1
                    continue
                new = dict(it, text=ed.text[ms:me], occ=_occ(home.text, ed.text[ms:me], ms - home.start))
                unit = it.get("unit")
                if kind == "targets" and unit and unit in it["text"]:
                    us = s + it["text"].rindex(unit)
                    new["unit"] = ed.text.__getitem__(slice(*ed.span(us, us + len(unit)))).strip()
                out[home.id][kind].append(new)
    return [out[k] for k in sorted(out)], lost


# ---------------------------------------------------------------- running a set

class DevSet(NamedTuple):
    name: str
    texts: Path
    gold: Path
    dates: dict


def dev_set(name: str) -> DevSet:
    if name.endswith("-test"):
        raise SystemExit(f"{name}: the frozen test split is scored once, by the lead")
    if name == "seed":
        return DevSet(name, ROOT / "corpus" / "texts", ROOT / "corpus" / "gold" / "dev.jsonl", {})
    d = ROOT / "outputs" / "sets" / name
    if not d.exists():
        raise SystemExit(f"{d}: missing; run python scripts/real_sets.py first")
    return DevSet(name, d / "texts", d / "gold.jsonl", json.loads((d / "dates.json").read_text(encoding="utf-8")))


def _docs(ds: DevSet) -> list[str]:
    return sorted(f[:-4] for f in os.listdir(ds.texts) if f.endswith(".txt"))


def _read(ds: DevSet, doc: str) -> str:
    with open(ds.texts / f"{doc}.txt", encoding="utf-8") as f:   # as the referee reads it
        return f.read()


def perturbed_set(ds: DevSet, kind: str, out: Path, docs: list[str] | None = None) -> tuple[Path, Path, int]:
    """Write the perturbed texts and gold of ds under out; returns (texts dir, gold path, lost mentions)."""
    gold = ev.read_gold(ds.gold)
    tdir = out / "texts"
    tdir.mkdir(parents=True, exist_ok=True)
    lines, lost = [], 0
    for doc in docs or _docs(ds):
        text = _read(ds, doc)
        g = gold.get(doc, {})
        ed = PERTURB[kind](text, gold_spans(text, g))
        (tdir / f"{doc}.txt").write_text(ed.text, encoding="utf-8")
        gl, n = remap_gold(text, ed, g)
        lost += n
        lines += [{"doc": doc, **x} for x in gl]
    gpath = out / "gold.jsonl"
    gpath.write_text("".join(json.dumps(x, ensure_ascii=False) + "\n" for x in lines), encoding="utf-8")
    return tdir, gpath, lost


# file perturbation -> (text perturbation first, encoding, BOM)
ENCODED = {"bom-crlf": ("identity", "utf-8", True), "gb18030": ("identity", "gb18030", False),
           "big5-tw": ("trad-tw", "big5hkscs", False)}


def encoded_set(texts: Path, kind: str, out: Path, docs: list[str]) -> tuple[Path, list[str]]:
    """Write the texts in texts/ as CRLF bytes of another encoding; returns (dir, docs read back differently).

    A character the encoding lacks is written as its simplified form's bytes when it has
    them (a Big5 file of a converted text holds a few such), else the document is misread."""
    from speechledger.read import read_file
    _, enc, bom = ENCODED[kind]
    out.mkdir(parents=True, exist_ok=True)
    bad = []
    for doc in docs:
        text = (texts / f"{doc}.txt").read_text(encoding="utf-8")
        try:
            data = text.replace("\n", "\r\n").encode(enc)
        except UnicodeEncodeError:
            bad.append(doc)
            data = text.replace("\n", "\r\n").encode(enc, errors="replace")
        (out / f"{doc}.txt").write_bytes((b"\xef\xbb\xbf" if bom else b"") + data)
        if read_file(out / f"{doc}.txt")[0] != text and doc not in bad:
            bad.append(doc)
    return out, bad


def _score(pipe, texts_read: Path, texts_ref: Path, gold: Path, dates: dict, docs: list[str]) -> dict:
    from speechledger.api import records
    recs = []
    for doc in docs:
        d = pipe.run_file(texts_read / f"{doc}.txt", date=dates.get(doc))
        recs += records(d)
    if set(docs) != set(_docs_in(texts_ref)):
        # score only the chosen documents: a folder holding just them
        with tempfile.TemporaryDirectory(prefix="perturb-ref-") as tmp:
            for doc in docs:
                Path(tmp, f"{doc}.txt").write_text(Path(texts_ref, f"{doc}.txt").read_text(encoding="utf-8"),
                                                   encoding="utf-8")
            return ev.score_records(tmp, str(gold), recs)
    return ev.score_records(str(texts_ref), str(gold), recs)


def _docs_in(d: Path) -> list[str]:
    return sorted(f[:-4] for f in os.listdir(d) if f.endswith(".txt"))


def evaluate_perturbations(ds: DevSet, kinds, pipe, docs: list[str] | None = None) -> dict[str, dict]:
    """{'original': result, kind: result…} for one pipeline; results carry 'lost' and 'misread' counts."""
    docs = docs or _docs(ds)
    res = {}
    with tempfile.TemporaryDirectory(prefix="perturb-") as tmp:
        tmp = Path(tmp)
        # the original goes through the same remapping (identity), which checks the remapping itself
        t, g, lost = perturbed_set(ds, "identity", tmp / "original", docs)
        res["original"] = {**_score(pipe, t, t, g, ds.dates, docs), "lost": lost}
        for kind in kinds:
            if kind in FILE_PERTURBATIONS:
                base = ENCODED[kind][0]
                t2, g2, lost = (t, g, 0) if base == "identity" else perturbed_set(ds, base, tmp / base, docs)
                enc, bad = encoded_set(t2, kind, tmp / kind, docs)
                # documents the encoding cannot hold are left out of both sides' score
                keep = [d for d in docs if d not in bad] if bad and len(bad) < len(docs) else docs
                res[kind] = {**_score(pipe, enc, t2, g2, ds.dates, keep), "lost": lost, "misread": bad}
                if keep != docs:     # the drop is measured against the original of the same documents
                    res[kind]["base"] = _score(pipe, t, t, g, ds.dates, keep)
            else:
                t2, g2, lost = perturbed_set(ds, kind, tmp / kind, docs)
                res[kind] = {**_score(pipe, t2, t2, g2, ds.dates, docs), "lost": lost}
    return res


def table(name: str, extractor: str, res: dict[str, dict]) -> str:
    o = res["original"]
    head = f"{name} / {extractor}".ljust(22) + "".join(f"{f:>10s}        " for f in FIELDS) + "   offs  lost"
    lines = [head, "-" * len(head)]
    for kind, r in res.items():
        row = kind.ljust(22)
        base = r.get("base", o)
        for f in FIELDS:
            v = r[f]["f1"]
            row += f"{v:>10.3f}" + ("" if kind == "original" else f" ({v - base[f]['f1']:+.3f})").rjust(8) \
                if kind != "original" else f"{v:>10.3f}        "
        row += f"{r['offset_errors']:>7d}{r.get('lost', 0):>6d}"
        if r.get("misread"):
            row += f"  not encodable, left out: {' '.join(r['misread'])}"
        lines.append(row)
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("sets", nargs="*", default=list(SETS))
    ap.add_argument("--perturb", nargs="+", default=list(PERTURBATIONS), choices=PERTURBATIONS)
    ap.add_argument("--extractors", nargs="+", default=["rules", "hybrid"], choices=ev.EXTRACTORS)
    ap.add_argument("--errors", action="store_true", help="list what changes between original and perturbed errors")
    ap.add_argument("--json", help="also write all results to this JSON file")
    args = ap.parse_args(argv)
    from speechledger.api import Pipeline
    allres = {}
    for ex in args.extractors:
        pipe = Pipeline(extractors=ex)
        for name in args.sets:
            ds = dev_set(name)
            res = evaluate_perturbations(ds, args.perturb, pipe)
            allres[f"{name}/{ex}"] = {k: {f: v[f] for f in (*FIELDS, "offset_errors", "lost")} for k, v in res.items()}
            print(table(name, ex, res))
            if args.errors:
                print(error_diff(res))
            print(flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps(allres, ensure_ascii=False, indent=1), encoding="utf-8")
    return 0


def error_diff(res: dict[str, dict]) -> str:
    """Errors that appear only under a perturbation (task ones by document and segment text)."""
    base = res["original"]["_errors"]
    out = []
    for kind, r in res.items():
        if kind == "original":
            continue
        for k, v in r["_errors"].items():
            if k == "offset":
                out += [f"{kind}\toffset\t{e}" for e in v]
                continue
            if not k.startswith(("task_", "units_", "deadlines_", "targets_")):
                continue
            had = {_key(e) for e in base.get(k, [])}
            out += [f"{kind}\t{k}\t" + "\t".join(map(str, e)) for e in v if _key(e) not in had]
    return "\n".join(out)


def _key(e) -> tuple:
    # compare across scripts/spacing: normalise the text part of an error tuple
    from speechledger.normalize import norm_text
    return (e[0],) + tuple(re.sub(r"\s+", "", norm_text(str(x))) for x in e[2:3])


if __name__ == "__main__":
    sys.exit(main())
