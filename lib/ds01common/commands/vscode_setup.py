"""Connect VS Code from your laptop: the Remote-SSH host entry, and working inside a container.

Prints the host entry for your laptop's ~/.ssh/config (this server's real name, your user, the
identity file) and saves a copy in ~/.ds01/laptop-ssh-config, then the steps: connect with
Remote-SSH, then attach VS Code to your running DS01 container (its GPU, /workspace).
With PROJECT it also writes PROJECT/.devcontainer/devcontainer.json, so VS Code can open the
project in its image ("Reopen in Container"). --guided explains and asks each of these.

  vscode-setup
  vscode-setup thesis --hostname gpu1.lab.example.org
"""

from __future__ import annotations

import argparse

from .. import cli

TYPE_CHECKING = False  # typing's own flag would import typing, which every command would pay for
if TYPE_CHECKING:
    from types import ModuleType
    from typing import Any


def build_parser() -> argparse.ArgumentParser:
    return cli.parser(__doc__,
                      cli.Argument("project", nargs="?", metavar="PROJECT",
                                   help="also write PROJECT/.devcontainer/devcontainer.json"),
                      cli.Argument("--hostname", metavar="HOST", help="the name laptops reach this server by "
                                   "(default: DS01_SSH_HOST, else connect.host in the config, else this machine's "
                                   "full name)"),
                      cli.Argument("--alias", metavar="NAME", help="the short name to use in VS Code"),
                      cli.Argument("--force", action="store_true", help="replace an existing devcontainer.json"),
                      cli.GUIDED_STEPS)


def main(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    from .. import guided_modules, laptop, onboarding, paths, userfiles

    context = cli.Context()
    user = context.caller
    try:
        config = context.config
        workspace, configured_host = config.workspace_root, config.setting("connect.host")
    except Exception:  # noqa: BLE001 - the instructions are still right with the defaults
        config, workspace, configured_host = None, "~/workspace", None
    detected = laptop.server_name(paths.ssh_host() or configured_host)
    if args.guided:
        projects = guided_modules.existing_projects(config, user) if config else []
        guided_modules.ask_vscode(args, detected, projects)
    hostname = args.hostname or detected
    alias = args.alias or hostname.split(".")[0] or "ds01"
    entry = onboarding.vscode_host_entry(user, hostname, alias)
    saved = userfiles.write_text(_saved_entry_path(user, userfiles), entry, user)
    print("\n".join(onboarding.vscode_instructions(user, hostname, alias, workspace)))
    print(f"\n(This entry is saved in {saved}: `scp {alias}:{saved} .` on your laptop fetches it.)")
    print("\nInside a container:")
    for number, step in enumerate(laptop.attach_steps(alias, args.project, user.uid), start=1):
        print(f"  {number}. {step}")
    if args.project and config is not None:
        path, written = laptop.write_devcontainer(config, user, args.project, force=args.force)
        print(f"\n{'wrote' if written else 'kept existing'} {path}"
              + ("" if written else " (--force replaces it)"))
    return 0


def _saved_entry_path(user: Any, userfiles: ModuleType) -> Any:
    from pathlib import Path

    directory = Path(user.home) / ".ds01"
    userfiles.make_directory(directory, user)
    return directory / "laptop-ssh-config"
