"""AIME-style: stop a container (mlc-stop NAME [-f|-Y]); its GPU stays reserved until mlc-remove."""

from .mlc_family import subcommand

build_parser, main = subcommand("stop", __doc__)
