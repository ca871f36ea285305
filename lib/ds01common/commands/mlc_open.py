"""AIME-style: open a shell in a container (mlc-open NAME), starting it if needed."""

from .mlc_family import subcommand

build_parser, main = subcommand("open", __doc__)
