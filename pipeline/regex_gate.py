"""A cheap necessary condition for a regex: literals one of which every match contains.

`required_literals(pattern)` reads the pattern's parse tree: a run of items that can match
only a few fixed strings (literals, small classes, short alternations and repeats of those)
must appear whole in any match, and so must a requirement of a group, of every branch of an
alternation or of a repeat done at least once. Zero-width items (^, $, lookarounds) and open
items (., [^…], long repeats) end a run. Searching one regex of plain literals is several times
faster than an alternation of complex rows, and a text without any literal cannot match.

`first_chars(pattern)` reads the same tree for the characters a match can start with, and
`scanner(pattern)` puts them in a look-ahead, so re tries the pattern only where it can start.
"""
from __future__ import annotations

import functools
import re
import sys

import ahocorasick

try:        # the stdlib's regex parser (private, but stable across versions)
    from re import _constants as C
    from re import _parser
except ImportError:                 # Python 3.10
    import sre_constants as C
    import sre_parse as _parser

_CAP = 64          # most strings a run may stand for
# (possessive repeats exist from Python 3.11)
_REPEATS = tuple(getattr(C, n) for n in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT") if hasattr(C, n))


def _finite(items) -> set[str] | None:
    """The strings a sequence of parse items can match, when few and fixed; else None."""
    out = {""}
    for op, av in items:
        if op is C.LITERAL:
            s = {chr(av)}
        elif op is C.IN and all(o is C.LITERAL for o, _ in av):
            s = {chr(a) for _, a in av}
        elif op is C.SUBPATTERN and not av[1] and not av[2]:
            s = _finite(av[3])
        elif op is C.BRANCH:
            alts = [_finite(alt) for alt in av[1]]
            s = None if any(a is None for a in alts) else set().union(*alts)
        elif op in _REPEATS and av[1] <= 3:
            f = _finite(av[2])
            s = None
            if f is not None:
                s = set()
                for k in range(av[0], av[1] + 1):
                    acc = {""}
                    for _ in range(k):
                        acc = {a + b for a in acc for b in f}
                    s |= acc
        else:
            return None
        if s is None:
            return None
        out = {a + b for a in out for b in s}
        if len(out) > _CAP:
            return None
    return out


def _rank(c: set[str]) -> tuple:
    return (_pass_rate(c), -min(map(len, c)), len(c))


def _pass_rate(c: set[str]) -> float:
    """Estimated occurrences per 1,000 characters of the set's literals: a character's own rate, a longer
    literal's at its rarest pair of adjacent characters (at most that often); a character or pair
    outside the table counts as rare."""
    freq = _char_freq()
    if not freq:
        return 0.0
    floor = 0.02
    total = 0.0
    for lit in c:
        if not any(o != lit and o in lit for o in c):   # "还将" passes only where "将" does
            if len(lit) == 1:
                total += freq.get(lit, floor)
            else:
                total += min(freq.get(lit[i:i + 2], floor) for i in range(len(lit) - 1))
    return round(total, 6)


_FREQ_FILE = "char_freq.tsv"      # pipeline/data; scripts/char_freq.py writes it


@functools.cache
def _char_freq() -> dict[str, float]:
    """Character or pair of characters -> occurrences per 1,000 characters (empty when the table is
    missing: the length rules alone then decide, as they did before the table)."""
    from pathlib import Path
    out: dict[str, float] = {}
    try:
        lines = (Path(__file__).parent / "data" / _FREQ_FILE).read_text(encoding="utf-8").splitlines()
    except OSError:
        return out
    for line in lines:
        if line.startswith("#") or line.startswith("chars\t") or "\t" not in line:
            continue
        ch, v = line.split("\t", 1)
        out[ch] = float(v)
    return out


def _required(items) -> set[str] | None:
    best: set[str] | None = None

    def consider(c):
        # the set that lets the fewest texts pass: estimated from how often its literals' rarest
        # characters occur (_pass_rate); of equal estimates the set whose shortest literal is longest,
        # then the smaller set
        nonlocal best
        if c and "" not in c and (best is None or _rank(c) < _rank(best)):
            best = c

    run = {""}
    for op, av in items:
        f = _finite([(op, av)])
        if f is not None:
            joined = {a + b for a in run for b in f}
            if len(joined) <= _CAP:
                run = joined
            else:
                consider(run)
                run = f
            continue
        consider(run)
        run = {""}
        if op is C.SUBPATTERN and not av[1] and not av[2]:
            consider(_required(av[3]))
        elif op is C.BRANCH:
            alts = [_required(alt) for alt in av[1]]
            if all(alts):
                consider(set().union(*alts))
        elif op in _REPEATS and av[0] >= 1:
            consider(_required(av[2]))
    consider(run)
    return best


def required_literals(pattern: str) -> list[str] | None:
    """Strings one of which every match of pattern contains (None when none can be told)."""
    # parsing the rules anew is most of the cost: the answers are kept in the regex cache,
    # keyed by this module's source too (a change of the reading here invalidates them)
    from speechledger import rxcache
    return rxcache.memo("required_literals " + _source_hash(), pattern, _required_literals)


@functools.cache
def _source_hash() -> str:
    # the frequency table decides which literals are chosen too
    import hashlib
    from pathlib import Path
    h = hashlib.sha256(Path(__file__).read_bytes())
    table = Path(__file__).parent / "data" / _FREQ_FILE
    if table.is_file():
        h.update(table.read_bytes())
    return h.hexdigest()[:16]


def _required_literals(pattern: str) -> list[str] | None:
    parsed = _parser.parse(pattern)
    if parsed.state.flags & ~re.UNICODE:        # case-insensitive, verbose…: no literal is certain
        return None
    req = _required(list(parsed))
    if req is None:
        return None
    out: list[str] = []
    for s in sorted(req, key=lambda x: (len(x), x)):
        if not any(o in s for o in out):
            out.append(s)
    return out


def class_end(pattern: str, i: int) -> int:
    """The index of the ] closing the character class that opens at pattern[i] (len(pattern)
    when it is not closed); a ] right after [ or [^ is a member, an escaped one too."""
    i, n = i + 1, len(pattern)
    if pattern[i:i + 1] == "^":
        i += 1
    if pattern[i:i + 1] == "]":
        i += 1
    while i < n and pattern[i] != "]":
        i += 2 if pattern[i] == "\\" else 1
    return i


def _outside(pattern: str):
    """(index, character, depth) of pattern's characters outside escapes and classes; depth counts
    the groups open before the character (None when the parentheses do not balance)."""
    depth, i, n = 0, 0, len(pattern)
    while i < n:
        ch = pattern[i]
        if ch == "\\":
            i += 2
            continue
        if ch == "[":           # a class: its | ( ) are characters
            i = class_end(pattern, i)
        elif ch == "(":
            yield i, ch, depth
            depth += 1
        elif ch == ")":
            depth -= 1
            yield i, ch, depth
        else:
            yield i, ch, depth
        i += 1


def top_branches(pattern: str) -> list[str] | None:
    """The alternatives of pattern's top-level alternation ("a|b(c|d)" -> ["a", "b(c|d)"]; a whole
    alternative (?:x|y) is split too), or None when it has none or they cannot stand alone (a
    group reference, a conditional, inline flags). A text holds a match of pattern exactly when it
    holds a match of one of them."""
    if re.search(r"\\[1-9]|\(\?P=|\(\?\(|\(\?[aiLmsux]", pattern):
        return None
    parts, start, depth = [], 0, 0
    for i, ch, depth in _outside(pattern):
        if ch == "|" and depth == 0:
            parts.append(pattern[start:i])
            start = i + 1
    parts.append(pattern[start:])
    if len(parts) < 2 or depth != 0:
        return None
    try:
        for part in parts:
            re.compile(part)
    except re.error:
        return None
    out = []
    for part in parts:
        inner = _unwrapped(part)
        out += (inner and top_branches(inner)) or [part]
    return out


def _unwrapped(part: str) -> str | None:
    """x when part is one non-capturing group (?:x), else None."""
    if not part.startswith("(?:") or not part.endswith(")"):
        return None
    for i, ch, depth in _outside(part):
        if ch == ")" and depth == 0:
            return part[3:-1] if i == len(part) - 1 else None
    return None


class AnyBranch:
    """pattern's search() where only whether it matches counts: one literal scan tells which of its
    top-level alternatives a text may hold (their required literals), and only those are searched.
    search() returns a match when pattern matches the text (not necessarily the leftmost), else None."""

    __slots__ = ("alts", "plan", "pattern")

    def __init__(self, pattern: str):
        self.pattern = pattern
        alts = top_branches(pattern) or [pattern]
        self.alts = [searcher(re.compile(a)) for a in alts]
        self.plan = LiteralPlan([required_literals(a) for a in alts])

    def search(self, text: str):
        may = self.plan.rows(text)
        alts = self.alts
        while may:
            low = may & -may
            may ^= low
            m = alts[low.bit_length() - 1].search(text)
            if m is not None:
                return m
        return None


def literal_gate(patterns: list[str]) -> re.Pattern | None:
    """A regex of literals that finds something in every text where one of patterns matches
    (None when some pattern has no required literal)."""
    lits: set[str] = set()
    for p in patterns:
        req = required_literals(p)
        if req is None:
            return None
        lits.update(req)
    # as a prefix tree (sorted, so the pattern and its cache entry are the same every run): a position
    # is tried once per character, not once per literal (re skips to the first characters by itself)
    return re.compile(literal_trie(sorted(lits))) if lits else None


# \d \s \w inside a class: the Unicode sets hold the ASCII ones (negations would not)
_CATEGORIES = {C.CATEGORY_DIGIT: r"\d", C.CATEGORY_SPACE: r"\s", C.CATEGORY_WORD: r"\w"}
_CATEGORY_ESCAPES = frozenset(_CATEGORIES.values())


class LiteralPlan:
    """Which of several rows may match a text, from one scan for all their required literals
    instead of a search per row: `rows(text, start, end)` is a bit mask (bit n: row n) of the rows
    one of whose literals lies in text[start:end], plus the rows with no literal set (`None`)."""

    __slots__ = ("always", "scan")

    def __init__(self, literal_sets):
        always, own = 0, {}
        for n, lits in enumerate(literal_sets):
            if not lits:
                always |= 1 << n
                continue
            for x in lits:
                own[x] = own.get(x, 0) | 1 << n
        self.always = always
        self.scan = literal_bits(own) if own else None

    def rows(self, text: str, start: int = 0, end: int = sys.maxsize) -> int:
        if self.scan is None:
            return self.always
        return self.scan(text, start, end, self.always)


def literal_bits(bits: dict[str, int]) -> "LiteralBits":
    """scan(text, start=0, end=maxsize, mask=0): mask OR'd with bits[x] of every literal x that lies
    in text[start:end], overlapping ones included (LiteralBits)."""
    return LiteralBits(bits)


class LiteralBits:
    """One pass of an Aho-Corasick automaton, in C: a third of the time of a regex of the literals
    as a prefix tree with a look-ahead, which re tries at each position that starts one. Pickled
    as its literals (a worker rebuilds the automaton)."""

    __slots__ = ("bits", "_iter")

    def __init__(self, bits: dict[str, int]):
        self.bits = dict(bits)
        auto = ahocorasick.Automaton()
        for x, b in self.bits.items():
            auto.add_word(x, b)
        auto.make_automaton()
        self._iter = auto.iter

    def __reduce__(self):
        return LiteralBits, (self.bits,)

    def __call__(self, text: str, start: int = 0, end: int = sys.maxsize, mask: int = 0) -> int:
        # (a slice, not iter's own start/end: it reads the whole string it is given on every call)
        for _, b in self._iter(text if start == 0 and end >= len(text) else text[start:end]):
            mask |= b
        return mask


def first_chars(pattern: str) -> str | None:
    """A character class holding every character a match of pattern can start with, or None
    when that cannot be told (a match may be empty, start with any character, …)."""
    # parsing is the cost (a tenth of a short run's start-up): kept in the regex cache
    from speechledger import rxcache
    return rxcache.memo("first_chars " + _source_hash(), pattern, _first_chars)


def _first_chars(pattern: str) -> str | None:
    try:
        tree = _parser.parse(pattern)
    except Exception:                                 # pragma: no cover - defensive
        return None
    c = C

    def seq(items):         # (chars, ranges, nullable) of a sequence, or None
        chars, ranges = set(), []
        for op, av in items:
            if op in (c.ASSERT, c.ASSERT_NOT, c.AT):
                continue                                # zero width: checked by the pattern itself
            got = node(op, av)
            if got is None:
                return None
            chars |= got[0]
            ranges += got[1]
            if not got[2]:
                return chars, ranges, False
        return chars, ranges, True

    def node(op, av):
        if op is c.LITERAL:
            return {chr(av)}, [], False
        if op is c.IN:
            chars, ranges = set(), []
            for iop, iav in av:
                if iop is c.LITERAL:
                    chars.add(chr(iav))
                elif iop is c.RANGE:
                    ranges.append((chr(iav[0]), chr(iav[1])))
                elif iop is c.CATEGORY and iav in _CATEGORIES:
                    chars.add(_CATEGORIES[iav])         # kept as written
                else:
                    return None                         # negated class …
            return chars, ranges, False
        if op is c.BRANCH:
            chars, ranges, nullable = set(), [], False
            for alt in av[1]:
                got = seq(alt)
                if got is None:
                    return None
                chars |= got[0]
                ranges += got[1]
                nullable = nullable or got[2]
            return chars, ranges, nullable
        if op is c.SUBPATTERN:
            if av[1] or av[2]:
                return None                             # inline flags
            return seq(av[3])
        if op in (c.MAX_REPEAT, c.MIN_REPEAT):
            got = seq(av[2])
            return None if got is None else (got[0], got[1], got[2] or av[0] == 0)
        return None
    got = seq(tree)
    if got is None or got[2]:
        return None
    chars, ranges, _ = got
    return "[" + "".join(ch if ch in _CATEGORY_ESCAPES else re.escape(ch) for ch in sorted(chars)) + \
        "".join(f"{re.escape(a)}-{re.escape(b)}" for a, b in ranges) + "]"


def scanner(pattern: str) -> re.Pattern:
    """pattern compiled with a look-ahead on its possible first characters: same matches, but
    re tries the alternatives only where one of them can start."""
    first = first_chars(pattern)
    return re.compile(pattern if first is None else f"(?={first})(?:{pattern})")


def literal_trie(words) -> str:
    """An alternation of literal words as a prefix tree (加(?:快(?:推进)?|强)): the same matches,
    longest first, but a position is rejected after one character instead of one per word."""
    root: dict = {}
    for w in words:
        node = root
        for ch in w:
            node = node.setdefault(ch, {})
        node[""] = {}

    def render(node) -> str:
        kids = [re.escape(ch) + render(sub) for ch, sub in sorted(node.items()) if ch]
        if not kids:
            return ""
        body = kids[0] if len(kids) == 1 else "(?:" + "|".join(kids) + ")"
        return f"(?:{body})?" if "" in node else body
    return f"(?:{render(root)})"


def _re_skips(pattern: str) -> bool:
    """re finds where pattern can start by itself: it opens with a literal, a class or an anchor,
    or with an alternation whose every branch opens with a literal (as re's compiler reads it)."""
    items = _parser.parse(pattern)
    while True:
        if not len(items):
            return False
        op, av = items[0]
        if op is not C.SUBPATTERN:
            break
        items = av[-1]
    if op is C.LITERAL or op is C.IN or op is C.AT:      # (an anchor: re tries few places)
        return True
    return op is C.BRANCH and all(len(b) and b[0][0] is C.LITERAL for b in av[1])


def searcher(rx: re.Pattern) -> re.Pattern:
    """rx, or the same pattern behind a look-ahead on its first characters (as scanner) when re
    cannot skip to where a match may start by itself: the same matches, found faster. A pattern
    that re already skips through stays as it is (the look-ahead would only cost)."""
    if rx.flags & ~(re.UNICODE | re.ASCII):
        return rx
    # parsing is the cost: the answer is kept in the regex cache, as required_literals' is
    from speechledger import rxcache
    first = rxcache.memo("searcher " + _source_hash(), rx.pattern, _lookahead)
    if first is None:
        return rx
    try:
        return re.compile(f"(?={first})(?:{rx.pattern})")
    except re.error:
        return rx


def _lookahead(pattern: str) -> str | None:
    """The first-character class searcher() puts before pattern, or None (leave it as it is)."""
    try:
        if _re_skips(pattern):
            return None
    except Exception:                                 # pragma: no cover - defensive
        return None
    return _first_chars(pattern)
