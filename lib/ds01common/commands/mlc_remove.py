"""AIME-style: remove a container (mlc-remove NAME [-f|-Y]): DS01 retires it, the workspace is kept.

The container is stopped and removed and its GPU slot freed; what is in its workspace stays.
-f, -Y or --yes: do not ask (without a terminal one of them is needed).
"""

from .mlc_family import subcommand

build_parser, main = subcommand("remove", __doc__)
