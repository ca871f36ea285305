"""Create a project's workspace folders: data/, models/, notebooks/, src/, results/.

The project lives in <workspace_root>/<project> (default ~/workspace/<project>) and is
mounted at /workspace in its containers. Existing folders and files are left alone.
--guided explains the step and asks for the project name.
"""

from __future__ import annotations

import argparse

from .. import cli
from . import project_common


def build_parser() -> argparse.ArgumentParser:
    return project_common.step_parser(__doc__)


def main(argv: list[str]) -> int:
    args, context = project_common.parse_step(build_parser(), argv, "dir-create", _explanation)
    from .. import onboarding

    workspace, made = onboarding.create_dirs(context.config, context.user, args.project)
    print(f"workspace {workspace}")
    for directory in onboarding.PROJECT_DIRS:
        state = "made" if workspace / directory in made else "already there"
        print(f"  {directory + '/':<11} {state}")
    return 0


def _explanation(context: cli.Context) -> str:
    return (f"A project is a folder in {context.config.workspace_dir(context.user.home)} with the usual\n"
            "sub-folders (data/, models/, notebooks/, src/, results/); it is /workspace in your containers.")
