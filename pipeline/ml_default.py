"""Which extractors `extract` uses by default: hybrid once trained models are present."""
from __future__ import annotations


def default_extractors(model_dir: str | None = None) -> str:
    try:
        from speechledger.ml.loading import models_available
    except ImportError:
        return "rules"
    return "hybrid" if models_available(model_dir) else "rules"
