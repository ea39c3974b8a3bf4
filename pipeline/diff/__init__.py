"""Cross-speech diff: which commitments were kept, reworded, changed, added or dropped.

    from speechledger.diff import diff_sources, diff_speeches
    result = diff_sources("speeches2024.txt#2", "speeches2024.txt#5")
    result.to_json()   # {"old", "new", "pairs", "added", "dropped"}

align.py pairs tasks (n-gram similarity + parent heading, assignment problem),
classify.py names the changes of a pair, render.py writes table/JSON/HTML/Markdown.
"""
from speechledger.diff.align import THRESHOLD
from speechledger.diff.classify import CHANGE_TYPES
from speechledger.diff.compare import DiffResult, Pair, diff_speeches
from speechledger.diff.sources import DiffError, diff_sources

__all__ = ["diff_speeches", "diff_sources", "DiffResult", "Pair", "DiffError", "CHANGE_TYPES", "THRESHOLD"]
