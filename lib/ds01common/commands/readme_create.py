"""Write a project's README.md: where its files live and the daily workflow.

The daily workflow: `project-launch NAME` to start, `container-retire NAME` when done.
An existing README.md is kept unless --force. --guided explains and asks (project, replace).
"""

from __future__ import annotations

import argparse

from . import project_common

EXPLANATION = ("README.md tells you (and anyone you share the project with) where its files live and how\n"
               "to work on it: project-launch to start, container-retire when done.")


def build_parser() -> argparse.ArgumentParser:
    return project_common.step_parser(__doc__, force_help="replace an existing README.md")


def main(argv: list[str]) -> int:
    args, context = project_common.parse_step(build_parser(), argv, "readme-create", EXPLANATION)
    from .. import onboarding

    if args.guided:
        from .. import guided_modules, images
        readme = images.project_dir(context.config, context.user, args.project) / "README.md"
        guided_modules.ask_readme_force(args, readme.exists())
    path, written = onboarding.create_readme(context.config, context.user, args.project, force=args.force)
    print(f"{'wrote' if written else 'kept existing'} {path}")
    return 0
