"""What the project commands share: the one-step commands' PROJECT and --guided (dir-create,
git-init, readme-create), the Dockerfile recipe options (image-create, project-init) and the
printing of project-init's steps (project-init, user-setup).

Not a command itself: the registry names no project-common.
"""

from __future__ import annotations

import argparse

from .. import cli

TYPE_CHECKING = False  # typing's own flag would import typing, which every command would pay for
if TYPE_CHECKING:
    from collections.abc import Callable


def step_parser(doc: str | None, force_help: str | None = None) -> argparse.ArgumentParser:
    """A one-step command's parser: PROJECT, --guided, --force (when it has one), --user."""
    parser = cli.parser(doc)
    parser.add_argument("project", nargs="?", metavar="PROJECT", help="project name (asked with --guided)")
    cli.GUIDED_STEPS(parser)
    if force_help:
        parser.add_argument("--force", action="store_true", help=force_help)
    cli.add_user_option(parser)
    return parser


def fill_project(context: cli.Context, args: argparse.Namespace, command: str, explanation: str,
                 must_exist: bool = False) -> None:
    """With --guided, explain and ask for a missing PROJECT (one of the user's, or a new one unless
    `must_exist`); without it, PROJECT is required (exit 2)."""
    if args.guided:
        from .. import guided_modules

        guided_modules.ask_project_step(command, args, guided_modules.existing_projects(context.config, context.user),
                                        explanation, must_exist=must_exist)
    elif not args.project:
        from ..errors import UsageError

        raise UsageError("PROJECT is required (or use --guided to be asked)")


def parse_step(parser: argparse.ArgumentParser, argv: list[str], command: str,
               explanation: str | Callable[[cli.Context], str],
               must_exist: bool = False) -> tuple[argparse.Namespace, cli.Context]:
    """A one-step command's arguments and context, PROJECT settled by `fill_project`; the
    explanation may be worked out from the context (where the user's projects live)."""
    args, context = cli.parse_with_user(parser, argv)
    text = explanation if isinstance(explanation, str) else explanation(context)
    fill_project(context, args, command, text, must_exist)
    return args, context


def add_recipe_options(parser: argparse.ArgumentParser) -> None:
    """--template, --base and --packages: what the project's Dockerfile is written from."""
    parser.add_argument("--template", metavar="T", help="general (default), cv, nlp, rl or custom")
    parser.add_argument("--base", metavar="IMG", help="base image (default: images.base in the config)")
    parser.add_argument("--packages", nargs="+", action="extend", metavar="PKG",
                        help="extra pip packages: `--packages a b` (the words up to the next option), "
                        "`--packages a,b` or repeated `--packages`")


def step_printer(made: list[str]) -> Callable[[str, str], None]:
    """projects.init's on_step: print each finished step, and add it to `made` (what to report
    as made so far when a later step fails)."""

    def on_step(step: str, text: str) -> None:
        made.append(f"{step}: {text}")
        print(f"  done  {step:<13} {text}", flush=True)

    return on_step
