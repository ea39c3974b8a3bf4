"""placeholder"""
from pipeline.doc import SpeechDoc


def extract_targets(doc: SpeechDoc, config) -> SpeechDoc:
    return doc
