#!/usr/bin/env python
"""Score against gold or cross-validate (--cv K): a thin wrapper of `speechledger evaluate`."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from speechledger.cli import main  # noqa: E402

if __name__ == "__main__":
    raise SystemExit(main(["evaluate", *sys.argv[1:]]))
