"""The ``pyro-vae`` command line.

Each sub-command lives in its own module with a ``register(subparsers)``
function; :func:`main` assembles them.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from pyro_vae import __version__
from pyro_vae.cli import demo, evaluate, fit, listing, ppc, report, traverse

COMMANDS = (fit, evaluate, demo, listing, report, traverse, ppc)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pyro-vae",
        description="Disentangling and identifiable VAEs in Pyro: train, evaluate, inspect.",
    )
    parser.add_argument("--version", action="version", version=f"pyro_vae {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    subparsers.required = True
    for command in COMMANDS:
        command.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``pyro-vae`` script; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except (ValueError, FileNotFoundError, KeyError) as err:
        message = err.args[0] if isinstance(err, KeyError) and err.args else err
        print(f"pyro-vae {args.command}: error: {message}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
