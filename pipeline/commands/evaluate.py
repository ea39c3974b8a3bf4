"""speechledger evaluate: score an extractor against gold, or cross-validate rules/ml/hybrid."""
from __future__ import annotations

import json
import sys

HELP = "score extraction against gold (P/R/F1 per field), or k-fold CV of rules/ml/hybrid"
DESCRIPTION = """Score the pipeline against gold annotations (ANNOTATION.md §7), with the referee's rules.

  speechledger evaluate --texts corpus/texts --gold corpus/gold/dev.jsonl
  speechledger evaluate --texts corpus/train/texts --gold corpus/train/gold.jsonl \\
      --dates corpus/train/dates.json --extractors hybrid
  speechledger evaluate --cv 5          # k-fold by document over the real gold (frozen split excluded),
                                        # composed passages in training folds only; rules/ml/hybrid in one table,
                                        # then again with 15% of the held-out rule tasks and units dropped
  speechledger evaluate --cv 5 --folds kind   # hold out one source kind at a time instead (SOURCES.md's
                                              # kind column in ../shared; K is ignored)

Without --extractors it scores what `extract` uses (hybrid when the models load, else rules).
"""


def add_arguments(p) -> None:
    p.add_argument("--texts", help="folder of DOC.txt files")
    p.add_argument("--gold", help="gold JSONL for those texts")
    p.add_argument("--dates", help="JSON {doc: YYYY-MM-DD|null} with speech dates")
    p.add_argument("--extractors", choices=("rules", "ml", "hybrid"), default=None,
                   help="default: the same as extract (hybrid when models load, else rules)")
    p.add_argument("--models", default=None, help="model folder (default: the bundled models/)")
    p.add_argument("--cv", type=int, default=0, metavar="K",
                   help="instead: K-fold cross-validation by document over --corpus")
    p.add_argument("--corpus", action="append", default=None,
                   help="corpus root(s) for --cv (default: the real gold + corpus/extra*, as train)")
    p.add_argument("--folds", choices=("random", "kind"), default="random",
                   help="--cv folds: random by document (default), or one per held-out source kind")
    p.add_argument("--seed", type=int, default=13)
    p.add_argument("--json", action="store_true", help="print the full result as JSON")
    p.add_argument("--errors", action="store_true", help="list misses and false alarms")


def run(args) -> int:
    from speechledger import evaluate as ev

    if args.cv:
        if args.cv < 2:
            print("speechledger: error: --cv needs at least 2 folds", file=sys.stderr)
            return 2
        from speechledger.commands.train import gold_sets
        from speechledger.ml import training
        from speechledger.ml.cv import cross_validate, document_kinds
        log = lambda m: print(m, file=sys.stderr)  # noqa: E731
        try:
            corpus = training.load_corpus(gold_sets(args.corpus), log=log)
            kinds = document_kinds(corpus.items) if args.folds == "kind" else None
            cv = cross_validate(corpus, k=args.cv, seed=args.seed, log=log, misses=training.CV_MISSES,
                                by=args.folds, kinds=kinds)
        except (FileNotFoundError, ValueError) as e:
            print(f"speechledger: error: {e}", file=sys.stderr)
            return 2
        except ImportError as e:
            print(f"speechledger: error: --cv trains models and needs the [train] extra ({e.name} missing): "
                  "pip install 'speechledger[train]'", file=sys.stderr)
            return 2
        if args.json:
            print(json.dumps({k: v for k, v in cv.items() if not k.startswith("_") or k == "_folds"},
                             ensure_ascii=False, indent=1, default=str))
        else:
            how = f"{args.cv}-fold cross-validation by document" if args.folds == "random" else \
                "cross-validation holding out one kind at a time (" + \
                ", ".join(f"{s['group']} {s['test_docs']}" for s in cv["_folds"]) + ")"
            print(f"{how} ({cv['_documents']} real documents):")
            print(ev.cv_table(cv))
            if cv.get("misses"):
                print(f"the same folds with each held-out rule task, unit, target and deadline dropped "
                      f"with p={cv['_misses']} "
                      "(rules miss more on unseen text than on the documents they were written from):")
                print(ev.cv_table(cv["misses"]))
        return 0
    if not args.texts or not args.gold:
        print("speechledger: error: give --texts DIR and --gold GOLD.jsonl (or --cv K)", file=sys.stderr)
        return 2
    dates = None
    if args.dates:
        with open(args.dates, encoding="utf-8") as f:
            dates = json.load(f)
    if args.extractors is None:
        from speechledger.ml_default import default_extractors
        args.extractors = default_extractors(args.models)
    try:
        r = ev.evaluate_folder(args.texts, args.gold, extractors=args.extractors, dates=dates,
                               model_dir=args.models)
    except (OSError, ValueError) as e:
        print(f"speechledger: error: {e}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(r, ensure_ascii=False, indent=1, default=str))
        return 0
    if args.errors:
        for k, v in r["_errors"].items():
            for e in v:
                print(k, *e, sep="\t")
    print(f"extractors: {args.extractors}")
    if args.extractors != "rules":
        _note_stale(args.models)
    print(ev.format_result(r))
    return 0


def _note_stale(model_dir) -> None:
    """Say so when the rule extractors changed after the models were trained."""
    import warnings

    from speechledger.ml.loading import load_models, stale_rules
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        models = load_models(model_dir)
    if models is None:
        print("note: no usable models; the scores above are the rule extractors' (see the warning)")
    elif stale_rules(models):
        print("note: the rule extractors changed since these models were trained; "
              "`speechledger train` refits the hybrid to them")
