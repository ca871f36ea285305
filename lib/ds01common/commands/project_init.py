"""Start a new project: workspace folders, git, README, Dockerfile and image (and a container).

Steps: dir-create -> git-init -> readme-create -> image-create -> (with --deploy) a container.
Safe to run again on an existing project: what exists (README, Dockerfile, .gitignore) is kept.
--guided asks about each step on a terminal; the questions fill the same options as the flags.

  project-init thesis --template nlp --packages wandb
  project-init thesis --guided
  project-init demo --template custom --no-build    # folders, git, README and Dockerfile only
"""

from __future__ import annotations

import argparse
import sys

from .. import cli, log
from . import project_common

TYPE_CHECKING = False  # typing's own flag would import typing, which every command would pay for
if TYPE_CHECKING:
    from typing import Any

    from ..projects import ProjectOptions


def build_parser() -> argparse.ArgumentParser:
    from .. import container_cli
    return cli.parser(__doc__,
                      cli.Argument("name", nargs="?", metavar="NAME", help="project name (asked with --guided)"),
                      cli.GUIDED_STEPS, project_common.add_recipe_options,
                      cli.Argument("--no-git", action="store_true", help="no git repository"),
                      cli.Argument("--no-build", action="store_true", help="write the Dockerfile, build later"),
                      cli.Argument("--deploy", action="store_true", help="start a container when done"),
                      cli.Argument("--regenerate", action="store_true", help="rewrite an existing Dockerfile"),
                      cli.exclusive(cli.Argument("--gpus", type=int, metavar="N", help="GPUs for --deploy's container"),
                                    cli.Argument("--cpu-only", action="store_true",
                                                 help="no GPU for --deploy's container")),
                      container_cli.add_wait_option, cli.add_user_option)


def options_from(args: argparse.Namespace) -> tuple[ProjectOptions, set[str]]:
    from ..projects import ProjectOptions

    given = {key for key, present in (("template", args.template), ("packages", args.packages is not None),
                                      ("git", args.no_git), ("build", args.no_build),
                                      ("deploy", args.deploy)) if present}
    options = ProjectOptions(name=args.name, template=args.template, base=args.base,
                             packages=args.packages or [], git=not args.no_git, build=not args.no_build,
                             deploy=args.deploy, regenerate=args.regenerate)
    return options, given


def run_init(context: cli.Context, options: ProjectOptions, gpus: int | None = None, cpu_only: bool = False,
             wait: float | None = None) -> dict[str, Any]:
    """One code path for flags, --guided and user-setup; says what was made if it stops half-way."""
    from .. import projects

    made: list[str] = []
    print(f"Setting up project {options.name}")
    try:
        return projects.init(options, config=context.config, user=context.user, docker=lambda: context.docker,
                             on_step=project_common.step_printer(made), on_output=cli.output_if_terminal(),
                             state_dir=context.state_dir, log_dir=context.log_dir, gpus=gpus, cpu_only=cpu_only,
                             wait=wait, environment=context.environment)
    except BaseException:
        sys.stdout.flush()
        summary = "\n".join(f"  {line}" for line in made) if made else "  nothing"
        sys.stderr.write(f"project-init stopped; made so far (kept):\n{summary}\n")
        raise


def main(argv: list[str]) -> int:
    args, context = cli.parse_with_user(build_parser(), argv)
    from .. import guided, images, names

    options, given = options_from(args)
    # Refused before any question, output or file: a bad name or package, --user from a non-admin.
    if options.name:
        names.validate_name(options.name, "project")
    images.validate_packages(options.packages)
    workspace = context.config.workspace_dir(context.user.home)
    if args.guided:
        try:
            guided.ask_project(options, context.config, given=given, workspace=workspace)
        except KeyboardInterrupt:
            sys.stderr.write("\nnothing was made\n")
            raise
    else:
        images.require_project(options.name, args.packages, "NAME is required (or use --guided to be asked)")
    from ..container_cli import wait_seconds

    result = run_init(context, options, gpus=args.gpus, cpu_only=args.cpu_only, wait=wait_seconds(args.wait))
    print(f"\nProject {options.name} is ready in {result['workspace']}")
    container = result.get("container")
    if container and container.get("notice"):
        log.warning(container["notice"])
    if container:
        print(f"  enter it:       container-run {options.name}")
    else:
        print(f"  start working:  project-launch {options.name}")
    if not result.get("image"):
        print(f"  build image:    image-create {options.name}")
    print(f"  done for today: container-retire {options.name}")
    return 0
