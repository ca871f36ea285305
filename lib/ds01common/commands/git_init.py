"""Make a project a git repository with a machine-learning .gitignore.

The .gitignore keeps data, checkpoints, caches and secrets (keys, tokens, .env) out of git.
When git-lfs is installed, model files (*.pt, *.safetensors, models/...) are tracked with it.
An existing repository or .gitignore is kept as it is.
--guided explains the step and asks which project.
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
    from .. import errors, images, onboarding

    context = cli.Context(user_option=args.user)
    if args.guided:
        from .. import guided_modules
        guided_modules.ask_project_step(
            "git-init", args, guided_modules.existing_projects(context.config, context.user),
            "Git keeps the history of your code, so you can go back and share it (git push).\n"
            "Data, checkpoints and secrets are kept out of it by the .gitignore written now.", must_exist=True)
    elif not args.project:
        raise errors.UsageError("PROJECT is required (or use --guided to be asked)")
    workspace = images.project_dir(context.config, context.user, args.project)
    if not workspace.is_dir():
        raise errors.NotFound(f"no project folder {workspace}: run `dir-create {args.project}` first")
    result = onboarding.git_init(workspace, context.user)
    print(f"{workspace}: git repository {'made' if result['repository'] else 'already there'}")
    print(f"  .gitignore {'written' if result['gitignore'] else 'kept as it is'}")
    if result["lfs"]:
        print(f"  git-lfs tracks {' '.join(result['lfs'])}")
    else:
        print("  git-lfs is not installed: model files are ignored instead")
    return 0
