"""The start-up cache of compiled rule regexes: same patterns, same extraction, harmless when broken."""
from __future__ import annotations

import re

import pytest

from speechledger import rxcache
from speechledger.api import Pipeline, records

PATTERNS = [r"(?P<unit>[\u4e00-\u9fff]{2,8}?(?:局|委|办))牵头", r"(?<![要还])是[^，,。]{0,30}(?:的|之一)",
            r"(?i)abc|x{2,}", r"^\s*[(（][一二三四五六七八九十]+[)）]", r"\d+(?:\.\d+)?\s*(?:%|亿元)"]
TEXT = "各地要在2025年6月底前完成改造任务，由市住建局牵头，市财政局配合，新增就业1.2万人，增长6.5%。"


def _fresh(monkeypatch, tmp_path):
    monkeypatch.setenv("SPEECHLEDGER_CACHE_DIR", str(tmp_path))
    monkeypatch.setitem(rxcache._state, "entries", None)
    monkeypatch.setitem(rxcache._state, "dirty", False)
    monkeypatch.setitem(rxcache._state, "writes", 0)
    monkeypatch.setitem(rxcache._state, "new", {})


def _compile_all():
    re.purge()                      # make re.compile reach the compile step again
    with rxcache.compiling():
        return [re.compile(p) for p in PATTERNS]


def test_cached_patterns_equal_the_stdlib_ones(monkeypatch, tmp_path):
    _fresh(monkeypatch, tmp_path)
    first = _compile_all()
    rxcache.flush()
    assert rxcache.cache_file().is_file()
    monkeypatch.setitem(rxcache._state, "entries", None)     # a new process: read from disk
    again = _compile_all()
    re.purge()
    plain = [re.compile(p) for p in PATTERNS]
    assert again == plain == first
    for a, b in zip(again, plain):
        assert a.groupindex == b.groupindex and a.flags == b.flags
        assert [m.span() for m in a.finditer(TEXT)] == [m.span() for m in b.finditer(TEXT)]
    assert re._compiler.compile is not rxcache._compile      # the stdlib is left as it was


def test_a_broken_cache_file_is_ignored(monkeypatch, tmp_path):
    _fresh(monkeypatch, tmp_path)
    path = rxcache.cache_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"not a cache")
    assert _compile_all() == [re.compile(p) for p in PATTERNS]


def test_extraction_is_the_same_with_and_without_the_cache(monkeypatch, tmp_path):
    _fresh(monkeypatch, tmp_path)
    re.purge()
    warm = records(Pipeline(extractors="rules")(TEXT))
    monkeypatch.setitem(rxcache._state, "entries", None)
    re.purge()
    cached = records(Pipeline(extractors="rules")(TEXT))
    monkeypatch.setenv("SPEECHLEDGER_CACHE_DIR", "none")
    assert rxcache.cache_file() is None
    re.purge()
    plain = records(Pipeline(extractors="rules")(TEXT))
    assert warm == cached == plain
    assert plain and plain[0]["tasks"]


@pytest.mark.parametrize("value", [["局", "委"], None, {"a": [1, 2.5, True]}])
def test_memo_hands_out_copies(monkeypatch, tmp_path, value):
    _fresh(monkeypatch, tmp_path)
    calls = []

    def fn(arg):
        calls.append(arg)
        return value

    a = rxcache.memo("test", "k", fn)
    b = rxcache.memo("test", "k", fn)
    assert a == b == value and calls == ["k"]
    if isinstance(b, (list, dict)):
        assert b is not value


def test_the_file_starts_afresh_when_full_and_is_written_a_few_times_per_process(monkeypatch, tmp_path):
    _fresh(monkeypatch, tmp_path)
    import marshal
    path = rxcache.cache_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(marshal.dumps({("old pattern", 0): b"x", ("older", 0): b"y"}))
    monkeypatch.setattr(rxcache, "_MAX_ENTRIES", 3)
    _compile_all()
    rxcache.flush()
    on_disk = marshal.loads(path.read_bytes())
    assert ("old pattern", 0) not in on_disk and {(p, 0) for p in PATTERNS} <= set(on_disk)
    monkeypatch.setattr(rxcache, "_MAX_ENTRIES", 5000)
    for n in range(rxcache._MAX_WRITES + 3):         # a pattern per document: the writes stop
        rxcache.memo("test", f"doc {n}", str.upper)
        rxcache.flush()
    on_disk = marshal.loads(path.read_bytes())
    assert sum(k[0] == "test" for k in on_disk) == rxcache._MAX_WRITES - 1


def test_writing_the_cache_deletes_older_layouts_only(monkeypatch, tmp_path):
    """A user's cache folder does not keep one stale file per upgrade: the files of older layouts
    (and their left-over temporary files) go when a new one is written; the current layout's
    files of other Python builds stay, and so does anything else in the folder."""
    _fresh(monkeypatch, tmp_path)
    current = rxcache.cache_file()
    tag = current.name.split("-", 2)[2]
    old = ["regex-cpython-3.11.7-20220615-30b07f0.marshal",               # layout 1: no version in the name
           f"regex-v{rxcache._VERSION - 1}-{tag}", f"regex-v{rxcache._VERSION - 1}-{tag}abc123.tmp"]
    keep = [f"regex-v{rxcache._VERSION}-pypy-3.10.0-0-0.marshal", "notes.txt", "regex-notes.txt"]
    for name in old + keep:
        (tmp_path / name).write_bytes(b"x")
    _compile_all()
    rxcache.flush()
    left = {p.name for p in tmp_path.iterdir()}
    assert left == set(keep) | {current.name}
    assert _compile_all() == [re.compile(p) for p in PATTERNS]
