"""AIME-style: what `mlc-update-sys` means on DS01: the DS01 version, and how admins update it.

It changes nothing: admins update DS01 with `make install` from its source checkout.
"""

from .mlc_family import subcommand

build_parser, main = subcommand("update-sys", __doc__)
