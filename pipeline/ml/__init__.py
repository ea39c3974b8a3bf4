"""Learned extractors (issue 4): a segment classifier for tasks and a character CRF for units.

`loading.load_models` reads the trained artifacts in models/; `hybrid.ml_tasks` and
`hybrid.ml_units` are the pipeline stages that combine them with the rule extractors;
`training.train_models` builds them from annotated corpora. Nothing here is imported
by the rules-only pipeline, and nothing heavy happens at import time.
"""
