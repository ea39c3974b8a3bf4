"""A disk cache of compiled regular expressions, so a new process does not recompile the rules.

Compiling the rule regexes is a third of a short command's run time (about 0.3 s, mostly
the stdlib filling 65,536-entry maps for every class such as [\\u4e00-\\u9fff]). The
stdlib compiler turns a pattern into a list of opcodes and hands it to `_sre.compile`;
this module keeps those opcodes on disk, keyed by the exact pattern, flags and Python
build, and hands them to `_sre.compile` again: the Pattern objects are the ones `re`
would build (they compare equal). Inside `compiling()` the stdlib's compile step is
looked up here first; anything unexpected falls back to it.

The same file keeps a few other pure start-up computations (`memo`): the literals each rule
regex requires (regex_gate) and the parsed rule YAML (lexicon).

The file lives in $SPEECHLEDGER_CACHE_DIR (default ~/.cache/speechledger; "none" turns the
cache off), is written only when new patterns were compiled (atomically), and is
started afresh when it grows past _MAX_ENTRIES (rules edited many times). Every entry is a
marshal blob of its own, decoded only when a pattern asks for it: reading a file that holds
several rule versions' patterns costs milliseconds, not the 0.1 s of decoding them all.
"""
from __future__ import annotations

import marshal
import os
import re
import sys
import tempfile
import threading
from contextlib import contextmanager
from pathlib import Path

try:
    import _sre
    from re import _compiler as _stdlib
    from re import _parser
except ImportError:                      # Python 3.10
    import _sre
    import sre_compile as _stdlib
    import sre_parse as _parser

_MAX_ENTRIES = 5000
_MAX_WRITES = 5
_lock = threading.RLock()
_state = {"depth": 0, "patched": False, "orig": None, "entries": None, "dirty": False, "writes": 0, "new": {}}


def cache_file() -> Path | None:
    # every pipeline call asks (rxcache.compiling): answer from the environment it depends on
    env = os.environ
    key = (env.get("SPEECHLEDGER_CACHE_DIR"), env.get("XDG_CACHE_HOME"), env.get("HOME"))
    if key not in _paths:
        if len(_paths) > 16:
            _paths.clear()
        _paths[key] = _cache_file()
    return _paths[key]


_paths: dict[tuple, Path | None] = {}


def _cache_file() -> Path | None:
    d = os.environ.get("SPEECHLEDGER_CACHE_DIR")
    if d is not None and d.strip().lower() in ("", "none", "off", "0"):
        return None
    try:
        base = Path(d) if d else Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "speechledger"
    except RuntimeError:            # no home directory: no cache
        return None
    impl = sys.implementation
    tag = f"{impl.name}-{'.'.join(map(str, sys.version_info[:3]))}-{getattr(_sre, 'MAGIC', 0)}-{sys.hexversion:x}"
    return base / f"regex-v{_VERSION}-{tag}.marshal"


_VERSION = 2        # of the file's layout; files of older layouts are deleted when a new one is written
# regex-{tag}.marshal (layout 1, unversioned name), regex-vN-{tag}.marshal and their temporary files
_CACHE_NAME = re.compile(r"regex-(?:v(\d+)-)?[^/]*\.marshal(?:[^/]*\.tmp)?")


def _entries() -> dict:
    ent = _state["entries"]
    if ent is None:
        ent = {}
        path = cache_file()
        if path is not None:
            try:
                loaded = marshal.loads(path.read_bytes())
                if isinstance(loaded, dict):
                    ent = loaded
            except (OSError, ValueError, EOFError, TypeError):
                pass
        _state["entries"] = ent
    return ent


def _compile(p, flags=0):
    """The stdlib's compile step (`_compiler.compile`), answered from the cache when it can."""
    orig = _state["orig"]
    if not isinstance(p, str) or flags & 128:          # parsed patterns, bytes, re.DEBUG: as before
        return orig(p, flags)
    key = (p, flags)
    ent = _entries()
    hit = ent.get(key)
    if hit is not None:
        try:
            return _sre.compile(p, *marshal.loads(hit))
        except Exception:          # a stale or foreign entry: compile as the stdlib does
            ent.pop(key, None)
    try:
        args = _compile_args(p, flags)
        out = _sre.compile(p, *args)
    except re.error:
        raise
    except Exception:       # another Python's internals: the stdlib compiles, nothing is cached
        return orig(p, flags)
    _add(key, marshal.dumps(args))
    return out


def _compile_args(p: str, flags: int) -> tuple:
    """What the stdlib's compile step passes to _sre.compile after the pattern (Python 3.10-3.13)."""
    parsed = _parser.parse(p, flags)
    code = _stdlib._code(parsed, flags)
    groupindex = parsed.state.groupdict
    indexgroup = [None] * parsed.state.groups
    for k, i in groupindex.items():
        indexgroup[i] = k
    # plain ints (the opcodes are int subclasses), so that marshal stores them
    return (int(flags | parsed.state.flags), [int(c) for c in code], int(parsed.state.groups - 1),
            {k: int(i) for k, i in groupindex.items()}, tuple(indexgroup))


def memo(kind: str, arg: str, fn, key: str | None = None):
    """fn(arg) for a pure fn of a string, kept in the cache under (kind, key or arg) when marshal can
    store the value (lists, dicts, str, numbers, None); each call gets its own copy."""
    k = (kind, arg if key is None else key)
    ent = _entries()
    blob = ent.get(k)
    if isinstance(blob, bytes):
        try:
            return marshal.loads(blob)
        except (ValueError, EOFError, TypeError):
            pass
    v = fn(arg)
    try:
        _add(k, marshal.dumps(v))
    except ValueError:              # a value marshal cannot store (a date…): not cached
        pass
    return v


def _add(key, value) -> None:
    _entries()[key] = _state["new"][key] = value
    _state["dirty"] = True


@contextmanager
def compiling():
    """Within this block, re.compile (and re.search… on new patterns) reads compiled code from the cache."""
    with _lock:
        if _state["depth"] == 0 and hasattr(_stdlib, "_code") and cache_file() is not None:
            _state["orig"] = _stdlib.compile
            _state["patched"] = True
            _stdlib.compile = _compile
        _state["depth"] += 1
    try:
        yield
    finally:
        with _lock:
            _state["depth"] -= 1
            if _state["depth"] == 0 and _state["patched"]:
                _stdlib.compile = _state["orig"]
                _state["patched"] = False


def flush() -> None:
    """Write the newly compiled patterns to the cache file (merged with what another process wrote)."""
    with _lock:
        # a few writes per process: later ones would only add patterns built from a document's text
        if not _state["dirty"] or _state["writes"] >= _MAX_WRITES:
            return
        _state["dirty"] = False
        _state["writes"] += 1
        path = cache_file()
        if path is None:
            return
        new = dict(_state["new"])
    try:
        ent = new
        try:
            on_disk = marshal.loads(path.read_bytes())
            if isinstance(on_disk, dict) and len(on_disk) + len(new) <= _MAX_ENTRIES:
                ent = {**on_disk, **new}        # else: afresh, with this process's patterns only
        except (OSError, ValueError, EOFError, TypeError):
            pass
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(marshal.dumps(ent))
            os.replace(tmp, path)
        except BaseException:
            os.unlink(tmp)
            raise
        prune(path.parent)
    except (OSError, ValueError):
        pass                      # a read-only or full disk: the cache is only an optimisation


def prune(folder: Path) -> list[str]:
    """Delete the cache files of older layouts in folder (a user's cache would otherwise keep one per
    upgrade forever); the current layout's files of other Python builds stay. Returns the names deleted."""
    gone = []
    try:
        names = os.listdir(folder)
    except OSError:
        return gone
    for name in names:
        m = _CACHE_NAME.fullmatch(name)
        if m is None or (m.group(1) is not None and int(m.group(1)) >= _VERSION):
            continue
        try:
            os.unlink(folder / name)
            gone.append(name)
        except OSError:
            pass
    return gone
