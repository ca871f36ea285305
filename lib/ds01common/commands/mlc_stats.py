"""AIME-style: resource use of your containers (or one): CPU %, memory, processes, GPU slots."""

from .mlc_family import subcommand

build_parser, main = subcommand("stats", __doc__)
