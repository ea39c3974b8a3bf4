"""speechledger train: build the learned extractors (models/) from annotated text."""
from __future__ import annotations

import sys

HELP = "train the learned task and unit models from gold-annotated text"
DESCRIPTION = """Train the learned extractors and write them with their model card.

  speechledger train                     # all real gold but the frozen split + corpus/extra* -> models/
  speechledger train --cv 0              # skip the cross-validation recorded in the card
  speechledger train --corpus DIR --out models-x/

Run from the project folder: by default it reads corpus/ and the shared corpus beside
the project (../shared, or SPEECHLEDGER_SHARED), never the frozen test split. --corpus
instead uses every folder under DIR that holds texts/ and gold.jsonl (or gold/*.jsonl),
optionally dates.json. Deterministic (fixed seed): the same corpus, rules and libraries
give the same files. Needs the training extra: pip install 'speechledger[train]'.
"""


def add_arguments(p) -> None:
    p.add_argument("--corpus", action="append", default=None,
                   help="corpus root with gold sets (repeatable; default: the real gold + corpus/extra*)")
    p.add_argument("--out", default=None, help="model folder to write (default: the bundled models/)")
    p.add_argument("--seed", type=int, default=13, help="random seed (default 13)")
    p.add_argument("--cv", type=int, default=5, metavar="K",
                   help="folds of the by-document cross-validation recorded in the card (0 = skip; default 5)")
    p.add_argument("-q", "--quiet", action="store_true", help="print only the summary")


def gold_sets(corpus: list[str] | None):
    """The --corpus roots' gold sets, or the default training data."""
    from speechledger.ml import training
    if corpus:
        sets = training.find_sets(corpus)
        if not sets:
            raise FileNotFoundError(f"no gold sets (texts/ + gold.jsonl) under {', '.join(corpus)}")
        return sets
    return training.default_sets(".")


def run(args) -> int:
    import importlib.util
    import time

    from speechledger.evaluate import cv_table
    from speechledger.ml import training
    from speechledger.ml.cv import cross_validate
    from speechledger.ml.loading import default_model_dir
    missing = [m for m in ("sklearn", "scipy") if importlib.util.find_spec(m) is None]
    if missing:
        print(f"speechledger: error: training needs the [train] extra ({', '.join(missing)} missing): "
              "pip install 'speechledger[train]'", file=sys.stderr)
        return 2
    out = args.out or default_model_dir()
    log = None if args.quiet else (lambda m: print(m, file=sys.stderr))
    t0 = time.perf_counter()
    try:
        corpus = training.load_corpus(gold_sets(args.corpus), log=log)
        cv = cross_validate(corpus, k=args.cv, seed=args.seed, log=log, misses=training.CV_MISSES) \
            if args.cv and args.cv > 1 else None
        card = training.train_models(corpus.sets, out, seed=args.seed, cv=cv, log=log, corpus=corpus)
    except (FileNotFoundError, ValueError) as e:
        print(f"speechledger: error: {e}", file=sys.stderr)
        return 2
    td = card["training_data"]
    print(f"trained on {td['files']} texts / {td['documents']} documents ({td['real_documents']} real) / "
          f"{td['segments']} segments ({td['tasks']} tasks, {td['units']} units) in "
          f"{time.perf_counter() - t0:.1f} s; wrote {out}")
    if cv:
        print(f"{cv['_k']}-fold cross-validation by document ({cv['_documents']} real documents):")
        print(cv_table(cv))
        if cv.get("misses"):
            print(f"the same folds with each held-out rule task, unit, target and deadline dropped "
                  f"with p={cv['_misses']}:")
            print(cv_table(cv["misses"]))
    return 0
