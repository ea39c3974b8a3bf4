#!/usr/bin/env python
"""Find third-party text from ../shared/corpus in the project's tracked files.

    python scripts/provenance.py [--shared DIR] [--rev REV] [PATH...]

Scans every tracked text file (`git ls-files`, or the PATHs given, or every blob of
the commits reachable from REV with --rev) for runs of characters shared with the
long documents (real/long, windows of 14 characters: not even a phrase may be
committed) or with the passages (real/texts, train/texts, windows of 16). Texts are
compared on letters and digits only (whitespace and punctuation dropped, traditional
script and full-width forms normalised, `\\uXXXX` escapes decoded), and only
CJK-heavy windows count. A window is common boilerplate, and skipped, when it also
occurs in our own bundled corpus (corpus/texts, corpus/extra*/texts: the seed and the
passages the team composed), so those files never hit; `--composed` lists what they
share with the shared texts, for review. In gold lines (.jsonl under corpus/) the short annotation strings
(units/deadlines/targets `text`, targets `metric`) are ours and exempt; anything
else in them is scanned.

Prints `file:line: N chars shared with SOURCE:line «text»` per maximal shared run and
exits 1 when there is any.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("SPEECHLEDGER_SHARED", ROOT.parent / "shared"))
# shared sub-folder -> window length in significant characters
SOURCES = {"real/long": 14, "real/texts": 16, "train/texts": 16}
COMPOSED = ["corpus/texts/*.txt", "corpus/extra*/texts/*.txt"]
ANNOTATION_LISTS = {"units", "deadlines", "targets"}
ANNOTATION_KEYS = {"text", "metric"}
MAX_ANNOTATION = 40  # annotation strings longer than this are not "short" and get scanned
_ESCAPE = re.compile(r"\\u([0-9a-fA-F]{4})")


def _is_cjk(ch: str) -> bool:
    o = ord(ch)
    return 0x3400 <= o <= 0x9FFF or 0xF900 <= o <= 0xFAFF or 0x20000 <= o <= 0x3FFFF


class Signif:
    """Letters and digits of a text, normalised, each with the line it came from."""

    def __init__(self) -> None:
        from speechledger.normalize import Normalizer  # same-length: line numbers stay right
        self._norm = Normalizer()

    def __call__(self, text: str) -> tuple[str, list[int]]:
        chars, lines = [], []
        for lineno, line in enumerate(text.split("\n"), 1):
            line = _ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), line)
            for ch in self._norm(line).lower():
                if ch.isalnum():
                    chars.append(ch)
                    lines.append(lineno)
        return "".join(chars), lines


def windows(s: str, n: int):
    """(position, window) for each CJK-heavy window of n characters (at least 3/4 CJK)."""
    if len(s) < n:
        return
    need = n - n // 4
    cjk = [1 if _is_cjk(c) else 0 for c in s]
    count = sum(cjk[:n])
    for i in range(len(s) - n + 1):
        if i:
            count += cjk[i + n - 1] - cjk[i - 1]
        if count >= need:
            yield i, s[i:i + n]


@dataclass
class Hit:
    path: str
    line: int
    length: int
    source: str
    source_line: int
    text: str

    def __str__(self) -> str:
        return (f"{self.path}:{self.line}: {self.length} chars shared with "
                f"{self.source}:{self.source_line} «{self.text}»")


class Index:
    """Hashed windows of the shared texts, minus those our own corpus also has."""

    def __init__(self, shared: Path = SHARED, root: Path = ROOT) -> None:
        self.sig = Signif()
        self.root = root
        self.sizes = sorted(set(SOURCES.values()))
        self.table: dict[int, dict[int, tuple[str, int]]] = {n: {} for n in self.sizes}
        for sub, n in SOURCES.items():
            for p in sorted((shared / "corpus" / sub).glob("*.txt")):
                s, lines = self.sig(p.read_text(encoding="utf-8-sig"))
                name = f"{sub}/{p.name}"
                for i, w in windows(s, n):
                    self.table[n].setdefault(hash(w), (name, lines[i]))
        # our corpus: window hash -> the composed files that have it
        self.ours: dict[int, dict[int, set[str]]] = {n: {} for n in self.sizes}
        for pattern in COMPOSED:
            for p in sorted(root.glob(pattern)):
                rel = p.relative_to(root).as_posix()
                s, _ = self.sig(p.read_text(encoding="utf-8-sig"))
                for n in self.sizes:
                    for _, w in windows(s, n):
                        h = hash(w)
                        if h in self.table[n]:
                            self.ours[n].setdefault(h, set()).add(rel)

    def composed_overlaps(self) -> list[Hit]:
        """What our bundled corpus shares with the shared texts (the boilerplate allowance)."""
        hits: list[Hit] = []
        saved, self.ours = self.ours, {n: {} for n in self.sizes}
        try:
            for pattern in COMPOSED:
                for p in sorted(self.root.glob(pattern)):
                    hits += self.scan_text(p.relative_to(self.root).as_posix(), p.read_text(encoding="utf-8-sig"))
        finally:
            self.ours = saved
        return hits

    def _boilerplate(self, n: int, h: int, path: str) -> bool:
        return h in self.ours[n]

    def scan_text(self, path: str, text: str) -> list[Hit]:
        s, lines = self.sig(text)
        hits: list[Hit] = []
        for n in self.sizes:
            table = self.table[n]
            run = None  # [start, end, source, source line] of the current maximal run
            for i, w in windows(s, n):
                h = hash(w)
                if h not in table or self._boilerplate(n, h, path):
                    continue
                if run and i <= run[1]:
                    run[1] = i + n
                    continue
                if run:
                    hits.append(Hit(path, lines[run[0]], run[1] - run[0], run[2], run[3], s[run[0]:run[1]]))
                run = [i, i + n, *table[h]]
            if run:
                hits.append(Hit(path, lines[run[0]], run[1] - run[0], run[2], run[3], s[run[0]:run[1]]))
        return hits


def mask_annotations(path: str, text: str) -> tuple[str, int]:
    """Gold lines with their short annotation strings blanked; also how many were blanked."""
    if not (path.startswith("corpus/") and path.endswith(".jsonl")):
        return text, 0
    blanked = 0

    def walk(o, key=None):
        nonlocal blanked
        if isinstance(o, dict):
            for k, v in o.items():
                if (key in ANNOTATION_LISTS and k in ANNOTATION_KEYS and isinstance(v, str)
                        and len(v) <= MAX_ANNOTATION):
                    o[k] = ""
                    blanked += 1
                else:
                    walk(v, k)
        elif isinstance(o, list):
            for v in o:
                walk(v, key)

    out = []
    for line in text.split("\n"):
        try:
            obj = json.loads(line)
        except ValueError:
            out.append(line)
            continue
        walk(obj)
        out.append(json.dumps(obj, ensure_ascii=False))
    return "\n".join(out), blanked


def read_text(data: bytes) -> str | None:
    if b"\0" in data:
        return None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return None


def scan_files(index: Index, paths: list[str], root: Path = ROOT) -> list[Hit]:
    hits: list[Hit] = []
    for rel in paths:
        p = root / rel
        if not p.is_file():
            continue
        text = read_text(p.read_bytes())
        if text is not None:
            hits += index.scan_text(rel, mask_annotations(rel, text)[0])
    return hits


def tracked_files(root: Path = ROOT) -> list[str]:
    out = subprocess.run(["git", "ls-files", "-z"], cwd=root, capture_output=True, check=True).stdout
    return [p for p in out.decode("utf-8").split("\0") if p]


def scan_history(index: Index, rev: str, root: Path = ROOT) -> list[tuple[str, Hit]]:
    """Every blob reachable from rev, each scanned once under the first path it was seen at."""
    objs = subprocess.run(["git", "rev-list", "--objects", rev], cwd=root, capture_output=True,
                          check=True, text=True).stdout.splitlines()
    names: dict[str, str] = {}
    for line in objs:
        sha, _, name = line.partition(" ")
        if name:
            names.setdefault(sha, name)
    data = subprocess.run(["git", "cat-file", "--batch"], cwd=root, input="\n".join(names).encode() + b"\n",
                          capture_output=True, check=True).stdout
    out: list[tuple[str, Hit]] = []
    pos = 0
    while pos < len(data):
        head_end = data.index(b"\n", pos)
        sha, kind, size = data[pos:head_end].decode().split()
        body = data[head_end + 1:head_end + 1 + int(size)]
        pos = head_end + 1 + int(size) + 1
        text = read_text(body) if kind == "blob" else None
        if text is not None:
            name = names[sha]
            out += [(sha, h) for h in index.scan_text(name, mask_annotations(name, text)[0])]
    return out


def commits_adding(sha: str, rev: str, root: Path = ROOT) -> list[str]:
    """The commits of rev that add or change to the blob sha (oldest last)."""
    return subprocess.run(["git", "log", "--format=%h", "--find-object=" + sha, rev], cwd=root,
                          capture_output=True, text=True).stdout.split()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("paths", nargs="*", help="files to scan (default: every tracked file)")
    ap.add_argument("--shared", type=Path, default=SHARED, help="the shared folder (default ../shared)")
    ap.add_argument("--rev", help="scan every blob reachable from this revision instead (e.g. main)")
    ap.add_argument("--long-only", action="store_true", help="only the long documents")
    ap.add_argument("--composed", action="store_true",
                    help="list what our bundled corpus shares with the shared texts (not counted as hits)")
    args = ap.parse_args(argv)
    if not (args.shared / "corpus").is_dir():
        print(f"provenance: no shared corpus at {args.shared / 'corpus'}", file=sys.stderr)
        return 2
    if args.long_only:
        SOURCES.pop("real/texts"), SOURCES.pop("train/texts")
    index = Index(args.shared)
    if args.composed:
        for h in index.composed_overlaps():
            print(h)
        return 0
    if args.rev:
        found = scan_history(index, args.rev)
        for sha, h in found:
            print(f"{h}  [blob {sha[:10]}; commits adding/removing it: {' '.join(commits_adding(sha, args.rev))}]")
        print(f"{len(found)} shared runs in the blobs of {args.rev}", file=sys.stderr)
        return 1 if found else 0
    hits = scan_files(index, args.paths or tracked_files())
    for h in hits:
        print(h)
    print(f"{len(hits)} shared runs", file=sys.stderr)
    return 1 if hits else 0


if __name__ == "__main__":
    raise SystemExit(main())
