"""placeholder"""
import re

from pipeline.doc import SpeechDoc, Task

_M = re.compile("要|必须|务必|确保|力争|争取|加快|推进")


def extract_tasks(doc: SpeechDoc, config) -> SpeechDoc:
    for sp in doc.speeches:
        for seg in sp.segments:
            if _M.search(doc.norm, seg.start, seg.end):
                sp.tasks.append(Task(seg.start, seg.end, seg.text, "should", False, seg.id))
    return doc


def decide_specific(doc: SpeechDoc, config) -> SpeechDoc:
    return doc
