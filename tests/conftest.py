"""Shared fixtures: the bundled corpus and one rules pipeline per test session."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "corpus"


@pytest.fixture(scope="session")
def corpus_dir() -> Path:
    return CORPUS


@pytest.fixture(scope="session")
def dev_path() -> Path:
    return CORPUS / "texts" / "speeches2024.txt"


@pytest.fixture(scope="session")
def rules_pipeline():
    from speechledger.api import Pipeline
    return Pipeline(extractors="rules")


@pytest.fixture(scope="session")
def train_dates() -> dict:
    return json.loads((CORPUS / "train" / "dates.json").read_text(encoding="utf-8"))
