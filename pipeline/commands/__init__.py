"""Sub-commands of the `speechledger` CLI (see pipeline/cli.py)."""
