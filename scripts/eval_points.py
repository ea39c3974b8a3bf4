"""Score a gold set with the bundled models under overrides of their decision parameters.

    python scripts/eval_points.py --texts outputs/sets/dev-b/texts --gold outputs/sets/dev-b/gold.jsonl \
        --dates outputs/sets/dev-b/dates.json --point default deadline_add=0.95

Each --point (the syntax of scripts/tune_mentions.py --point: name=value,...; "default": none) is
applied to a temporary copy of the models whose card carries the overridden params, and scored by
`speechledger evaluate` (scores only, no errors): one line per point, P/R/F1 per field and the macro.
"""
from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
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
    from speechledger.ml.loading import CARD, default_model_dir
    src = Path(args.models or default_model_dir())
    dates = json.loads(Path(args.dates).read_text(encoding="utf-8")) if args.dates else None
    print(f"{'point':60s}" + "".join(f" | {f[:9]:9s} P     R     F1" for f in ev.FIELDS) + " | macro")
    for text in args.point:
        over = {k: v for k, v in point_of(text).items() if k != "point"}
        with tempfile.TemporaryDirectory(prefix="speechledger-point-") as tmp:
            d = Path(tmp) / "models"
            shutil.copytree(src, d)
            card = json.loads((d / CARD).read_text(encoding="utf-8"))
            card["params"] = {**card.get("params", {}), **over}
            (d / CARD).write_text(json.dumps(card, ensure_ascii=False, indent=1), encoding="utf-8")
            r = ev.evaluate_folder(args.texts, args.gold, extractors="hybrid", dates=dates, model_dir=str(d))
        macro = sum(r[f]["f1"] for f in ev.FIELDS) / len(ev.FIELDS)
        print(f"{text[:60]:60s}" + "".join(f" | {r[f]['p']:.3f} {r[f]['r']:.3f} {r[f]['f1']:.3f}" for f in ev.FIELDS)
              + f" | {macro:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
