"""The contract's referee, shipped verbatim: score.py and segments.py of shared/eval/.

They are kept byte-identical to ../shared/eval (tests/test_evaluate.py checks it when
../shared is present), so the project scores with the referee's own matching logic and
there is one copy of it. score.py puts its own folder on sys.path to import segments;
`referee()` loads it without leaving that change (or a top-level `segments` module) behind.
"""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

_HERE = Path(__file__).resolve().parent
_MODULE = None


def referee():
    """The referee's score module (loaded once)."""
    global _MODULE
    if _MODULE is None:
        path, mods = list(sys.path), sys.modules.get("segments")
        try:
            spec = importlib.util.spec_from_file_location("speechledger.referee.score", _HERE / "score.py")
            mod = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(mod)
        finally:
            sys.path[:] = path
            if mods is None:
                sys.modules.pop("segments", None)
            else:
                sys.modules["segments"] = mods
        _MODULE = mod
    return _MODULE
