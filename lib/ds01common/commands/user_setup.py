"""First-day set-up, guided: an SSH key, your first project with its image, VS Code access.

Asks everything first (Ctrl-C then leaves nothing behind), then runs ssh-setup ->
project-init -> vscode-setup. Needs a terminal; elsewhere run those three commands with flags.
"""

from __future__ import annotations

import argparse
import sys

from .. import cli, log
from ..errors import ResourcesUnavailable
from . import project_common


def build_parser() -> argparse.ArgumentParser:
    return cli.parser(__doc__,
                      cli.Argument("--hostname", metavar="HOST", help="this server's name for the VS Code entry"))


def main(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    from .. import guided, onboarding, projects, prompts

    prompts.require_terminal(guided.USER_SETUP_INSTEAD)
    context = cli.Context()
    user = context.user
    print(f"Welcome to DS01, {user.login}. Three steps: an SSH key, a project, VS Code.\n")
    try:
        private, public = onboarding.ssh_key_paths(user)
        make_key = guided.ask_ssh(private.exists() or public.exists())
        options = guided.ask_project(projects.ProjectOptions(), context.config, flags=guided.USER_SETUP_INSTEAD,
                                     workspace=context.config.workspace_dir(user.home))
    except KeyboardInterrupt:
        sys.stderr.write("\nnothing was made\n")
        raise
    made = []
    try:
        if make_key:
            key = onboarding.ssh_setup(user)
            made.append(f"ssh key {key['private']}")
            print(f"\n1. SSH key {key['private']} ready. Public key (add it to GitHub/GitLab):\n"
                  f"   {key['public_key']}\n")
        print(f"2. Project {options.name}")
        result = projects.init(options, config=context.config, user=user, docker=lambda: context.docker,
                               on_step=project_common.step_printer(made), on_output=cli.write_through,
                               state_dir=context.state_dir, log_dir=context.log_dir,
                               environment=context.environment)
    except ResourcesUnavailable as refused:
        # No GPU free for the container: the project itself is ready; user-setup has no --wait.
        reason = str(refused).replace(" (use --wait to queue)", "").split("; use --")[0]  # flags it lacks
        raise ResourcesUnavailable(f"{reason}; your project is set up: start its container later with "
                                   f"`project-launch {options.name} --wait`") from None
    except BaseException:
        summary = "\n".join(f"  {line}" for line in made) or "  nothing"
        sys.stderr.write(f"user-setup stopped; made so far (kept):\n{summary}\n")
        raise
    if result.get("container") and result["container"].get("notice"):
        log.warning(result["container"]["notice"])
    print("\n3. VS Code")
    print("\n".join(onboarding.vscode_instructions(user, args.hostname, None, context.config.workspace_root)))
    print(f"\nEvery day: `project-launch {options.name}` to work, `container-retire {options.name}` when done.")
    return 0
