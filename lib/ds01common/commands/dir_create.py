"""Create a project's workspace folders: data/, models/, notebooks/, src/, results/.

The project lives in <workspace_root>/<project> (default ~/workspace/<project>) and is
mounted at /workspace in its containers. Existing folders and files are left alone.
--guided explains the step and asks for the project name.
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
    cli.add_user_option(parser)
    return parser


def main(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    from .. import errors, onboarding

    context = cli.Context(user_option=args.user)
    if args.guided:
        from .. import guided_modules
        guided_modules.ask_project_step(
            "dir-create", args, guided_modules.existing_projects(context.config, context.user),
            f"A project is a folder in {context.config.workspace_dir(context.user.home)} with the usual\n"
            "sub-folders (data/, models/, notebooks/, src/, results/); it is /workspace in your containers.")
    elif not args.project:
        raise errors.UsageError("PROJECT is required (or use --guided to be asked)")
    workspace, made = onboarding.create_dirs(context.config, context.user, args.project)
    print(f"workspace {workspace}")
    for directory in onboarding.PROJECT_DIRS:
        state = "made" if workspace / directory in made else "already there"
        print(f"  {directory + '/':<11} {state}")
    return 0
