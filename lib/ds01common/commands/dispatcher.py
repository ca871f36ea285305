"""Run a family's command: `container SUB ARGS...` is the same as `container-SUB ARGS...`."""

from __future__ import annotations

import argparse
import sys

from .. import cli


def build_parser(prefix: str) -> argparse.ArgumentParser:
    from .. import dispatch
    from .registry import dispatcher_summary

    parser = cli.parser(dispatcher_summary(prefix), epilog=dispatch.describe_subcommands(prefix))
    from .. import __version__

    # AIME's `mlc -v`; the same on every family.
    parser.add_argument("-v", "--version", action="version", version=f"{prefix} (DS01) {__version__}")
    parser.add_argument("sub", metavar="SUB", help="which subcommand")
    parser.add_argument("args", nargs="*", default=[], metavar="ARGS", help="passed on unchanged")
    return parser


def main(argv: list[str], prefix: str) -> int:
    args = build_parser(prefix).parse_args(argv[:1])
    from .. import dispatch
    from . import load

    name = dispatch.resolve(prefix, args.sub)
    # The subcommand runs in this process, named as if called directly (its usage and messages).
    sys.argv[0] = name
    return load(name)(argv[1:])
