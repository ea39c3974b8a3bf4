"""placeholder"""
from pipeline.doc import SpeechDoc


def extract_units(doc: SpeechDoc, config) -> SpeechDoc:
    return doc
