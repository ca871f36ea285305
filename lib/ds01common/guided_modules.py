"""`--guided` for the single-step modules: questions that fill the command's own options.

Each `ask_*` takes the parsed argparse namespace and fills only what no flag gave, explaining
each step briefly for someone new to servers and containers; the command then runs its usual
code path with the answers, exactly as if the flags had been typed. Without a terminal the
first call is exit 2 naming the flags to use instead (prompts.require_terminal).
"""

from __future__ import annotations

import argparse
import shlex
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from . import images, names, prompts

FLAGS = {
    "ssh-setup": "ssh-setup [--comment TEXT]",
    "vscode-setup": "vscode-setup [PROJECT] [--hostname HOST] [--alias NAME]",
    "dir-create": "dir-create PROJECT",
    "git-init": "git-init PROJECT",
    "readme-create": "readme-create PROJECT [--force]",
    "image-create": "image-create PROJECT [--template T] [--framework FW --version V] [--packages PKG...] "
                    "[--no-build]",
    "container-create": "container-create NAME [--image IMG] [--gpus N | --cpu-only]",
    "container-deploy": "container-deploy NAME [--image IMG] [--gpus N | --cpu-only] [--open | --background]",
    "container-run": "container-run NAME [-- CMD ARG...]",
    "container-exit": "container-exit, then container-stop NAME or container-retire NAME",
}
NEW_PROJECT = "\0new"  # the "type a new name" choice (no project can be called this)
NO_FRAMEWORK = "\0none"


def start(command: str) -> None:
    """Exit 2 naming the flags unless a person can answer."""
    prompts.require_terminal(f"{FLAGS[command]} instead of --guided")


def check_project_name(text: str) -> bool | str:
    """A prompt's validator (guided.py's too): True, or why the answer must be typed again."""
    try:
        names.validate_name(text.strip(), "project")
    except Exception as error:  # noqa: BLE001 - shown as the reason to retype
        return str(error)
    return True


def check_packages(text: str) -> bool | str:
    try:
        images.validate_packages([text])
    except Exception as error:  # noqa: BLE001
        return str(error)
    return True


def ask_name(command: str, existing: Sequence[str], *, what: str = "Project", allow_new: bool = True) -> str:
    """One of `existing`, or (with allow_new) a new valid name typed in."""
    flag = "PROJECT" if "PROJECT" in FLAGS[command] else "NAME"
    if existing:
        choices: list[tuple[str, str]] = [(item, item) for item in existing]
        if allow_new:
            choices.append(("(a new name)", NEW_PROJECT))
        chosen = prompts.select(f"{what}:", choices, flag, default=existing[0])
        if chosen != NEW_PROJECT:
            return str(chosen)
    return str(prompts.text(f"{what} name (lowercase letters, digits, - and _):", flag,
                            validate=check_project_name)).strip()


# --- onboarding modules ------------------------------------------------------------------

def ask_ssh_setup(args: argparse.Namespace, has_key: bool, default_comment: str) -> bool:
    """Whether to go on (False: the person declined); fills --comment."""
    start("ssh-setup")
    if has_key:
        prompts.explain("You already have an SSH key on this server (~/.ssh/id_ed25519); it is kept as it is,\n"
                        "and its public half is shown below for GitHub or GitLab.")
        return True
    prompts.explain("An SSH key lets this server prove who you are to GitHub or GitLab (git push) without\n"
                    "a password. Two files are made in ~/.ssh: the private key (never share it) and .pub.")
    if not prompts.confirm("Make an SSH key pair now?", "ssh-setup", default=True):
        return False
    if args.comment is None:
        prompts.explain("The comment is a label stored with the key so you recognise it on GitHub.")
        args.comment = prompts.text("Key comment:", "--comment TEXT", default=default_comment).strip() or None
    return True


def ask_vscode(args: argparse.Namespace, detected_host: str, projects: Sequence[str]) -> None:
    start("vscode-setup")
    if args.hostname is None:
        prompts.explain("VS Code on your laptop connects to this server over SSH, by the name your laptop\n"
                        "knows it by (ask your admins if unsure; it is never 'localhost').")
        args.hostname = prompts.text("Server name:", "--hostname HOST", default=detected_host).strip() or None
    if args.alias is None:
        prompts.explain("The short name is what you pick in VS Code's host list and type as `ssh NAME`.")
        default_alias = (args.hostname or detected_host).split(".")[0] or "ds01"
        args.alias = prompts.text("Short name:", "--alias NAME", default=default_alias).strip() or None
    if args.project is None and projects:
        prompts.explain("A project can get a .devcontainer/devcontainer.json, so VS Code can open it inside\n"
                        "the project's image ('Reopen in Container').")
        choices = [("no, not now", "")] + [(project, project) for project in projects]
        args.project = prompts.select("Write it for a project?", choices, "PROJECT", default="") or None


def existing_projects(config: Any, user: Any) -> list[str]:
    """The user's project folders (valid names only), for choosing instead of typing."""
    root = config.workspace_dir(user.home)
    try:
        found = sorted(path.name for path in root.iterdir() if path.is_dir())
    except OSError:
        return []
    return [name for name in found if check_project_name(name) is True]


def ask_project_step(command: str, args: argparse.Namespace, projects: Sequence[str], explanation: str,
                     must_exist: bool = False) -> None:
    start(command)
    if not args.project:
        prompts.explain(explanation)
        args.project = ask_name(command, projects, allow_new=not must_exist)


def ask_readme_force(args: argparse.Namespace, exists: bool) -> None:
    if exists and not args.force:
        prompts.explain("This project already has a README.md; it is kept unless you replace it.")
        args.force = prompts.confirm("Replace it with a fresh one?", "--force", default=False)


# --- image-create -------------------------------------------------------------------------

def ask_image(args: argparse.Namespace, projects: Sequence[str], framework_entries: dict[str, str],
              templates: Iterable[str], has_dockerfile: Callable[[str], bool] = lambda project: False) -> bool:
    """Fill image-create's options; returns whether to offer a container when built.

    A project that already has a Dockerfile keeps it: only what will be used is asked."""
    from . import frameworks

    start("image-create")
    if not args.project:
        prompts.explain("An image is your project's software environment (Python, libraries). Its recipe is\n"
                        "the project's Dockerfile, kept in the project folder so it can always be rebuilt.")
        args.project = ask_name("image-create", projects)
    kept = has_dockerfile(args.project) and not args.regenerate
    if kept:
        prompts.explain(f"{args.project}/Dockerfile exists and is used as it is (your recipe); "
                        f"`image-update {args.project} --packages ...` adds packages.")
    rows = frameworks.table(framework_entries)
    if not (args.framework or args.base) and rows:
        prompts.explain("A framework image brings CUDA and the deep-learning library, tested together by its makers.")
        choices = [(name, name) for name in dict.fromkeys(row.name for row in rows)]
        choices.append(("none: the server's default base image", NO_FRAMEWORK))
        chosen = prompts.select("Framework:", choices, "--framework FW", default=choices[0][1])
        if chosen != NO_FRAMEWORK:
            args.framework = chosen
            versions = [(f"{row.version:<10} {row.image}", row.version) for row in rows if row.name == chosen]
            args.version = prompts.select("Version:", versions, "--version V", default=versions[0][1])
    if not args.template and not kept:
        prompts.explain("The template decides which libraries go on top (custom: only what you list next).")
        choices = [(f"{name:<8} {images.TEMPLATE_DESCRIPTIONS.get(name, 'added by your admins')}", name)
                   for name in templates]
        args.template = prompts.select("Template:", choices, "--template T", default=images.DEFAULT_TEMPLATE)
    if args.packages is None and not kept:
        prompts.explain("Extra pip packages (e.g. wandb einops==0.8.0); empty for none. "
                        "`image-update` adds more later.")
        answer = prompts.text("Extra packages (spaces or commas):", "--packages PKG...", validate=check_packages)
        args.packages = images.validate_packages([answer])
    if not args.no_build:
        prompts.explain("Building downloads and installs everything; it can take several minutes. You see the\n"
                        "progress as it goes.")
        args.no_build = not prompts.confirm("Build the image now?", "--no-build", default=True)
    if args.no_build:
        return False
    prompts.explain("A container is a running copy of the image, with your project folder at /workspace.")
    return bool(prompts.confirm("Start a container from it when it is built?", "container-deploy NAME",
                                default=False))


# --- containers ---------------------------------------------------------------------------

def ask_container(command: str, args: argparse.Namespace, projects: Sequence[str], *, max_gpus: int | None = 1,
                  deploy: bool = False) -> None:
    """Name, GPU and (deploy) what to do once it runs; fills the options container-create takes."""
    start(command)
    if not args.name:
        prompts.explain("A container runs your project's image with your project folder at /workspace. It is\n"
                        "temporary (retire it when done); the folder and its files stay.")
        args.name = ask_name(command, projects, what="Container (project)")
    if args.gpus is None and not args.cpu_only:
        prompts.explain("GPU slots are shared: take one when you train, none for editing or data preparation.")
        choices: list[tuple[str, Any]] = [("one GPU slot", 1), ("no GPU (CPU only)", 0)]
        if max_gpus is None or max_gpus >= 2:
            choices.insert(1, ("two GPU slots", 2))
        wanted = prompts.select("GPUs:", choices, "--gpus N | --cpu-only", default=1)
        if wanted == 0:
            args.cpu_only = True
        else:
            args.gpus = int(wanted)
    if deploy and not (args.open or args.background):
        prompts.explain("Once it runs you can work in a shell inside it now, or leave it running (e.g. for\n"
                        "JupyterLab or a long training run) and enter later with `container-run NAME`.")
        choice = prompts.select("Then:", [("open a shell in it", "open"), ("leave it running", "background")],
                                "--open | --background", default="open")
        args.open, args.background = choice == "open", choice == "background"


def ask_run(command_words: list[str], args: argparse.Namespace, running: Sequence[str]) -> list[str]:
    """container-run: which container, and a command or a shell; returns the command words."""
    start("container-run")
    if not args.name:
        prompts.explain("container-run enters one of your containers (starting it if it is stopped).")
        args.name = ask_name("container-run", running, what="Container", allow_new=False)
    if command_words:
        return command_words
    prompts.explain("Leave the command empty for a shell (leave it with `exit`); or give one command, e.g.\n"
                    "python train.py, which runs in /workspace as you and ends with its exit code.")
    answer = str(prompts.text("Command (empty for a shell):", "-- CMD ARG...")).strip()
    return shlex.split(answer) if answer else []


EXIT_ACTIONS = (("keep it running (its GPU stays yours; enter again with container-run)", "keep"),
                ("stop it (container-stop: processes end, its GPU stays reserved for a while)", "stop"),
                ("retire it (container-retire: removed, GPU freed, workspace kept)", "retire"))


def ask_exit(containers: Sequence[str]) -> tuple[str | None, str]:
    """container-exit: which container you are leaving and what should happen to it."""
    start("container-exit")
    if not containers:
        return None, "keep"
    prompts.explain("Leaving a shell (`exit` or Ctrl-D) never stops the container. Decide what it should do.")
    name = ask_name("container-exit", containers, what="Container", allow_new=False)
    action = prompts.select("What should happen to it?", list(EXIT_ACTIONS), "container-stop NAME | "
                            "container-retire NAME", default="keep")
    return name, str(action)
