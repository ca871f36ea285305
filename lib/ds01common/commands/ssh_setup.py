"""Make an SSH key pair on this server if you have none, and show how to use it.

The key (~/.ssh/id_ed25519) lets this server prove who you are to GitHub or GitLab, so
`git push` works without a password. An existing key is never overwritten.
--guided explains the key and asks before making it.
"""

from __future__ import annotations

import argparse

from .. import cli

TYPE_CHECKING = False  # typing's own flag would import typing, which every command would pay for
if TYPE_CHECKING:
    from typing import Any


def build_parser() -> argparse.ArgumentParser:
    return cli.parser(__doc__, cli.Argument("--comment", metavar="TEXT", help="key comment (default: you@this-server)"),
                      cli.Argument("--guided", action="store_true", help="explain and ask before making the key"))


def usage_lines(result: dict[str, Any]) -> list[str]:
    return [
        f"{'made a new key pair' if result['created'] else 'you already have a key pair (kept)'}: "
        f"{result['private']}",
        "",
        "Your public key (safe to share):",
        f"  {result['public_key']}",
        "",
        "To use it with GitHub: Settings > SSH and GPG keys > New SSH key, paste the line above,",
        "then check with `ssh -T git@github.com` and clone with git@github.com:OWNER/REPO.git.",
        "(GitLab: Preferences > SSH Keys.) Never share the private file without .pub.",
    ]


def main(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    from .. import identity, onboarding

    user = identity.current_user()
    if args.guided:
        import socket

        from .. import guided_modules
        has_key = any(path.exists() for path in onboarding.ssh_key_paths(user))
        if not guided_modules.ask_ssh_setup(args, has_key, f"{user.login}@{socket.gethostname()}"):
            print("no key was made; run ssh-setup when you want one")
            return 0
    result = onboarding.ssh_setup(user, comment=args.comment)
    print("\n".join(usage_lines(result)))
    return 0
