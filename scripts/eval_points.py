"""Score a gold set with the bundled models under overrides of their decision parameters.

    python scripts/eval_points.py --texts outputs/sets/dev-b/texts --gold outputs/sets/dev-b/gold.jsonl \
        --dates outputs/sets/dev-b/dates.json --point default deadline_add=0.95

Each --point (the syntax of scripts/tune_mentions.py --point: name=value,...; "default": none)
overrides the card's params of the models, loaded once (the hybrid reads its params at each call,
as cross-validation sets them), and is scored as `speechledger evaluate` scores (scores only, no
errors): one line per point, P/R/F1 per field and the macro.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--texts", required=True)
    ap.add_argument("--gold", required=True)
    ap.add_argument("--dates")
    ap.add_argument("--models", default=None, help="model folder (default: the bundled models/)")
    ap.add_argument("--point", nargs="+", default=["default"])
    args = ap.parse_args(argv)
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from tune_mentions import point_of

    from speechledger import evaluate as ev
    from speechledger.ml.loading import load_models
    models = load_models(args.models)
    if models is None:
        return 1
    card_params = dict(models.params)
    dates = json.loads(Path(args.dates).read_text(encoding="utf-8")) if args.dates else None
    print(f"{'point':60s}" + "".join(f" | {f[:9]:9s} P     R     F1" for f in ev.FIELDS) + " | macro")
    for text in args.point:
        over = {k: v for k, v in point_of(text).items() if k != "point"}
        models.params = {**card_params, **over}
        r = ev.evaluate_folder(args.texts, args.gold, extractors="hybrid", dates=dates, models=models)
        macro = sum(r[f]["f1"] for f in ev.FIELDS) / len(ev.FIELDS)
        print(f"{text[:60]:60s}" + "".join(f" | {r[f]['p']:.3f} {r[f]['r']:.3f} {r[f]['f1']:.3f}" for f in ev.FIELDS)
              + f" | {macro:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
