"""AIME-style: list your containers with the framework each was made from (mlc-list [-a | -au]).

Stopped containers are listed too (-a says so explicitly); -au lists every user's (admins).
"""

from .mlc_family import subcommand

build_parser, main = subcommand("list", __doc__)
