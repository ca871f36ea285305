"""Write a project's README.md: where its files live and the daily workflow.

The daily workflow: `project-launch NAME` to start, `container-retire NAME` when done.
An existing README.md is kept unless --force. --guided explains and asks (project, replace).
"""

from __future__ import annotations

from .. import cli

TYPE_CHECKING = False  # typing's own flag would import typing, which every command would pay for
if TYPE_CHECKING:
    import argparse


def build_parser() -> argparse.ArgumentParser:
    parser = cli.parser(__doc__)
    parser.add_argument("project", nargs="?", metavar="PROJECT", help="project name (asked with --guided)")
    parser.add_argument("--guided", action="store_true", help="explain and ask about each step")
    parser.add_argument("--force", action="store_true", help="replace an existing README.md")
    cli.add_user_option(parser)
    return parser


def main(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    from .. import onboarding

    context = cli.Context(user_option=args.user)
    if args.guided:
        from .. import guided_modules, images
        guided_modules.ask_project_step(
            "readme-create", args, guided_modules.existing_projects(context.config, context.user),
            "README.md tells you (and anyone you share the project with) where its files live and how\n"
            "to work on it: project-launch to start, container-retire when done.")
        readme = images.project_dir(context.config, context.user, args.project) / "README.md"
        guided_modules.ask_readme_force(args, readme.exists())
    elif not args.project:
        from .. import errors
        raise errors.UsageError("PROJECT is required (or use --guided to be asked)")
    path, written = onboarding.create_readme(context.config, context.user, args.project, force=args.force)
    print(f"{'wrote' if written else 'kept existing'} {path}")
    return 0
