"""`speechledger` command line: each sub-command lives in pipeline/commands/NAME.py.

A command module has HELP (one line), `add_arguments(parser)` and `run(args) -> int`;
heavy imports stay inside `run` so `--help` is instant.
"""
from __future__ import annotations

import argparse
import importlib
import sys

# name -> module; the order is the order of `speechledger --help`
COMMANDS = {
    "extract": "speechledger.commands.extract",
    "ingest": "speechledger.commands.ingest",
    "speeches": "speechledger.commands.speeches",
    "tasks": "speechledger.commands.tasks",
    "status": "speechledger.commands.status",
    "history": "speechledger.commands.history",
    "diff": "speechledger.commands.diff",
    "trend": "speechledger.commands.trend",
    "train": "speechledger.commands.train",
    "evaluate": "speechledger.commands.evaluate",
    "serve": "speechledger.commands.serve",
    "users": "speechledger.commands.users",
    "corrections": "speechledger.commands.corrections",
}


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The whole command line, or with `only` just that sub-command (what `main` parses a command
    with: importing the other twelve command modules is a tenth of a second of every run)."""
    from speechledger import __version__
    ap = argparse.ArgumentParser(
        prog="speechledger",
        description="Turn Chinese officials' speeches into a ledger of commitments.")
    ap.add_argument("--version", action="version", version=f"speechledger {__version__}")
    sub = ap.add_subparsers(dest="command", metavar="COMMAND")
    for name, modname in COMMANDS.items():
        if only is not None and name != only:
            continue
        try:
            mod = importlib.import_module(modname)
        except ModuleNotFoundError as e:
            if e.name != modname:
                raise
            continue
        p = sub.add_parser(name, help=mod.HELP, description=getattr(mod, "DESCRIPTION", mod.HELP),
                           formatter_class=argparse.RawDescriptionHelpFormatter)
        mod.add_arguments(p)
        p.set_defaults(_run=mod.run)
    return ap


def main(argv: list[str] | None = None) -> int:
    if argv is None:        # the process's own command line: it ends when the command does
        try:
            return _main(sys.argv[1:])
        finally:
            # the collection at interpreter exit would walk the whole heap (50 ms after a large
            # file) only to find what exit frees anyway: nothing alive now is collected
            import gc
            gc.freeze()
    return _main(argv)


def _main(argv: list[str]) -> int:
    # `speechledger COMMAND …`: only that command's parser (the full one for --help, --version, typos)
    ap = build_parser(argv[0] if argv and argv[0] in COMMANDS else None)
    args = ap.parse_args(argv)
    if not getattr(args, "_run", None):
        ap.print_help()
        return 2
    try:
        return int(args._run(args) or 0)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    raise SystemExit(main())
