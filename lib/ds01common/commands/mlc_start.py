"""AIME-style: start a container (mlc-start NAME [CMD ARG...]); mlc-open enters it.

With CMD, CMD runs in it as you in /workspace (as `container-run NAME -- CMD`) and
mlc-start exits with CMD's exit code. -s and an admin's --user USER may come before or
right after NAME (`mlc start box --user alice`); from CMD on, every word is CMD's.
"""

from .mlc_family import subcommand

build_parser, main = subcommand("start", __doc__)
