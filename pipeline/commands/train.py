"""speechledger train: build the learned extractors (models/) from annotated corpora."""
from __future__ import annotations

import sys

HELP = "train the learned task and unit models from gold-annotated corpora"
DESCRIPTION = """Train the learned extractors and write them with model cards.

  speechledger train                                   # corpus/ -> models/
  speechledger train --corpus corpus/ --corpus ../shared/corpus --out models/
  speechledger train --cv 0                            # skip the cross-validation in the card

Every folder under a --corpus root that holds texts/ and gold.jsonl (or gold/*.jsonl),
optionally dates.json, is used. Training is deterministic (fixed seed): the same
corpus and library versions give the same models and scores.
"""


def add_arguments(p) -> None:
    p.add_argument("--corpus", action="append", default=None,
                   help="corpus root with gold sets (repeatable; default: corpus/)")
    p.add_argument("--out", default=None, help="model folder to write (default: the bundled models/)")
    p.add_argument("--seed", type=int, default=13, help="random seed (default 13)")
    p.add_argument("--cv", type=int, default=5, metavar="K",
                   help="folds of the by-document cross-validation recorded in the card (0 = skip; default 5)")
    p.add_argument("-q", "--quiet", action="store_true", help="print only the summary")


def run(args) -> int:
    from speechledger.evaluate import cv_table
    from speechledger.ml.loading import default_model_dir
    from speechledger.ml.training import train_models

    roots = args.corpus or ["corpus"]
    out = args.out or default_model_dir()
    log = None if args.quiet else (lambda m: print(m, file=sys.stderr))
    try:
        card = train_models(roots, out, seed=args.seed, cv_folds=args.cv, log=log)
    except FileNotFoundError as e:
        print(f"speechledger: error: {e}", file=sys.stderr)
        return 2
    td = card["training_data"]
    print(f"trained on {td['files']} texts / {td['documents']} documents / {td['segments']} segments "
          f"({td['tasks']} tasks, {td['units']} units) in {card['training_seconds']} s; wrote {out}")
    if card.get("cv"):
        cv = {ex: card["cv"][ex] for ex in ("rules", "ml", "hybrid")}
        print(f"{card['cv']['folds']}-fold cross-validation by document:")
        print(cv_table(cv))
    return 0
