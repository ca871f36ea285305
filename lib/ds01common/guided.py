"""Guided mode: questions that fill the same options the flags set, then one code path runs.

Every question is asked before anything is made, so Ctrl-C in a prompt leaves nothing
behind. A flag given on the command line is never asked again. All asking goes through
prompts.py (terminal check, exit 2 without one, Ctrl-C as KeyboardInterrupt).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import images, prompts
from .guided_modules import check_packages, check_project_name

if TYPE_CHECKING:
    from collections.abc import Iterable

    from .projects import ProjectOptions
    from .records import StrPath

PROJECT_FLAGS = "project-init NAME [--template T] [--packages PKG...] [--no-git] [--no-build] [--deploy]"
USER_SETUP_INSTEAD = ("ssh-setup, then project-init NAME [--template T] [--packages PKG...], "
                      "then vscode-setup")


def ask_project(options: ProjectOptions, config: Any, *, given: Iterable[str] = (),
                templates_dir: StrPath | None = None, flags: str = PROJECT_FLAGS,
                workspace: StrPath) -> ProjectOptions:
    """Fill the ProjectOptions fields that no flag set (`given` names the ones that were set).
    `workspace`: the acting user's workspace root (config.workspace_dir of their home; not `~`
    of whoever runs the process, which under sudo is root)."""
    prompts.require_terminal(f"{flags} instead of --guided")
    if not options.name:
        prompts.explain("A project is a folder in your workspace with its own environment (a Docker image).\n"
                        f"It lives in {workspace}/<name> and is kept when containers go.")
        options.name = prompts.text("Project name (lowercase letters, digits, - and _):", flags,
                                    validate=check_project_name).strip()
    existing = Path(workspace) / options.name / "Dockerfile"
    if existing.is_file() and not options.regenerate:
        # The Dockerfile is used as it is: a template or package answer would be ignored.
        prompts.explain(f"{options.name} already has a Dockerfile ({existing}); it is used as it is. "
                        f"Change it by editing it, or with `image-update {options.name} --packages PKG...`.")
        given = set(given) | {"template", "packages"}
    if (existing.parent / ".git").exists():
        given = set(given) | {"git"}  # already a repository: git-init keeps it as it is
    if "template" not in given:
        prompts.explain("The image template decides which libraries are preinstalled. "
                        f"It is written to {options.name}/Dockerfile, which you can edit later.")
        choices = [(f"{name:<8} {images.TEMPLATE_DESCRIPTIONS.get(name, 'added by your admins')}", name)
                   for name in images.available_templates(templates_dir)]
        options.template = prompts.select("Image template:", choices, "--template T",
                                          default=options.template or images.DEFAULT_TEMPLATE)
    if "packages" not in given:
        prompts.explain("Extra pip packages go into the image too (e.g. wandb einops==0.8.0). "
                        "Leave empty for none; `image-update` adds more later.")
        answer = prompts.text("Extra packages (separated by spaces or commas):", "--packages PKG...",
                              validate=check_packages)
        options.packages = images.validate_packages([answer])
    if "git" not in given:
        prompts.explain("Git keeps the history of your code; data, checkpoints and secrets are kept out of it.")
        options.git = prompts.confirm("Make it a git repository?", "--no-git", default=True)
    if "build" not in given:
        prompts.explain("Building the image downloads and installs the libraries; it can take several "
                        "minutes. You can also build later with `image-create " + options.name + "`.")
        options.build = prompts.confirm("Build the image now?", "--no-build", default=True)
    if "deploy" not in given and options.build:
        prompts.explain("A container is a running copy of the image with your project at /workspace. "
                        "`project-launch " + options.name + "` starts one any time.")
        options.deploy = prompts.confirm("Start a container for it now?", "--deploy", default=False)
    return options


def ask_ssh(has_key: bool) -> bool:
    """Whether to make a key pair (only asked when there is none)."""
    prompts.require_terminal(USER_SETUP_INSTEAD)
    if has_key:
        prompts.explain("You already have an SSH key on this server; it is kept as it is.")
        return False
    prompts.explain("An SSH key lets this server prove who you are to GitHub or GitLab (git push)\n"
                    "without a password. It is made in ~/.ssh and never overwritten.")
    return prompts.confirm("Make an SSH key pair now?", "ssh-setup", default=True)
