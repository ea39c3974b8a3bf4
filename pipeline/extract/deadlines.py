"""placeholder"""
from pipeline.doc import SpeechDoc


def extract_deadlines(doc: SpeechDoc, config) -> SpeechDoc:
    return doc
