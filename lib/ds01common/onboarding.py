"""A project's workspace and a person's first set-up: directories, git, README, SSH key, VS Code.

Each function does one step, is safe to run again (it never overwrites what a person made)
and returns what it did, so the commands can say exactly what was made.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import names, paths, process
from .errors import Ds01Error
from .images import templates_location
from .userfiles import give_to, make_directory, write_text

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from .identity import User
    from .records import StrPath

PROJECT_DIRS = ("data", "models", "notebooks", "src", "results")
GITIGNORE_TEMPLATE = "gitignore.ml"
README_TEMPLATE = "README.project.md"
MODEL_PATTERNS = ("*.pt", "*.pth", "*.safetensors", "*.h5", "*.onnx", "*.pkl", "models/**")
SSH_KEY = "id_ed25519"


def _template(name: str, templates_dir: StrPath | None = None) -> str:
    path = templates_location(templates_dir) / name
    try:
        return path.read_text()
    except OSError as error:
        raise Ds01Error(f"cannot read template {path}: {error.strerror}") from None


# --- dir-create --------------------------------------------------------------------------

def create_dirs(config: Any, user: User, project: str) -> tuple[Path, list[Path]]:
    """The project workspace and its layout (data/, models/, notebooks/, src/, results/).

    Returns (workspace path, [directories made])."""
    workspace: Path = config.workspace_dir(user.home) / names.validate_name(project, "project")
    made = make_directory(workspace, user)
    for name in PROJECT_DIRS:
        made += make_directory(workspace / name, user)
    return workspace, made


# --- git-init ----------------------------------------------------------------------------

def _git(arguments: Sequence[str], directory: StrPath, user: User, environment: Mapping[str, str],
         check: bool = True) -> Any:
    # HOME is the user's (runuser keeps root's); safe.directory lets root work for an admin's --user.
    env = dict(environment, HOME=user.home, GIT_TERMINAL_PROMPT="0")
    command = ["git", "-c", f"safe.directory={directory}", *arguments]
    if os.geteuid() == 0 and user.uid != 0:
        # Git run by root in a user's repository would run their hooks and config (core.fsmonitor,
        # core.pager) as root: it runs as the user instead.
        command = ["setpriv", f"--reuid={user.uid}", f"--regid={user.gid}", "--init-groups", "--", *command]
    return process.run(command, cwd=str(directory),
                       env=env, check=check, timeout=60)


def _chown_tree(root: Path, user: User) -> None:
    if os.geteuid() != 0 or user.uid == 0:
        return
    for directory, _subdirectories, files in os.walk(root):
        give_to(directory, user)
        for name in files:
            give_to(os.path.join(directory, name), user)


def gitignore_text(lfs: bool, templates_dir: StrPath | None = None) -> str:
    if lfs:
        rules = "# tracked with git-lfs (see .gitattributes): " + " ".join(MODEL_PATTERNS)
    else:
        rules = "# git-lfs is not installed: weights stay out of git\nmodels/\n" + "\n".join(MODEL_PATTERNS[:-1])
    return _template(GITIGNORE_TEMPLATE, templates_dir).replace("{{MODEL_RULES}}", rules)


def git_init(directory: StrPath, user: User, templates_dir: StrPath | None = None,
             use_lfs: bool | None = None, *, environment: Mapping[str, str]) -> dict[str, Any]:
    """A git repository with an ML .gitignore, and git-lfs for model files when git-lfs exists.
    Git runs with the command's `environment` (context.environment), HOME set to the user's.

    Returns {"repository": made?, "gitignore": written?, "lfs": [patterns] or []}."""
    directory = Path(directory)
    if not directory.is_dir():
        raise Ds01Error(f"no directory {directory}: create it with `dir-create`")
    if process.which("git") is None:
        raise Ds01Error("git is not installed on this server; ask an admin, or use --no-git")
    lfs = process.which("git-lfs") is not None if use_lfs is None else use_lfs
    result = {"repository": False, "gitignore": False, "lfs": []}
    if not (directory / ".git").exists():
        _git(["init", "-q"], directory, user, environment)
        result["repository"] = True
    ignore = directory / ".gitignore"
    if not ignore.exists():
        write_text(ignore, gitignore_text(lfs, templates_dir), user)
        result["gitignore"] = True
    if lfs:
        _git(["lfs", "install", "--local"], directory, user, environment)
        _git(["lfs", "track", *MODEL_PATTERNS], directory, user, environment)
        result["lfs"] = list(MODEL_PATTERNS)
    _chown_tree(directory / ".git", user)
    if (directory / ".gitattributes").exists():
        give_to(directory / ".gitattributes", user)
    return result


# --- readme-create -----------------------------------------------------------------------

def readme_text(config: Any, user: User, project: str, templates_dir: StrPath | None = None) -> str:
    workspace = config.workspace_dir(user.home) / project
    replacements = {"{{PROJECT}}": project, "{{USER}}": user.login, "{{WORKSPACE}}": str(workspace),
                    "{{IMAGE}}": names.image_name(user.name, project, uid=user.uid)}
    text = _template(README_TEMPLATE, templates_dir)
    for placeholder, value in replacements.items():
        text = text.replace(placeholder, value)
    return text


def create_readme(config: Any, user: User, project: str, templates_dir: StrPath | None = None,
                  force: bool = False) -> tuple[Path, bool]:
    """README.md with the daily workflow; an existing README is kept. Returns (path, written)."""
    path = config.workspace_dir(user.home) / names.validate_name(project, "project") / "README.md"
    if not path.parent.is_dir():
        raise Ds01Error(f"no project directory {path.parent}: create it with `dir-create {project}`")
    if path.exists() and not force:
        return path, False
    return write_text(path, readme_text(config, user, project, templates_dir), user), True


# --- ssh-setup ---------------------------------------------------------------------------

def ssh_key_paths(user: User) -> tuple[Path, Path]:
    private = Path(user.home) / ".ssh" / SSH_KEY
    return private, private.with_name(SSH_KEY + ".pub")


def ssh_setup(user: User, comment: str | None = None) -> dict[str, Any]:
    """An ed25519 key pair in ~/.ssh if there is none (never overwritten).

    Returns {"created", "private", "public", "public_key"}."""
    private, public = ssh_key_paths(user)
    created = False
    if not private.exists() and not public.exists():
        make_directory(private.parent, user, mode=0o700)
        comment = comment or f"{user.login}@{socket.gethostname()}"
        process.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", str(private)],
                    timeout=60)
        give_to(private, user)
        give_to(public, user)
        created = True
    elif private.exists() and not public.exists():
        # Recover the public half from the private key rather than replace the pair.
        result = process.run(["ssh-keygen", "-y", "-f", str(private)], timeout=30)
        write_text(public, result.stdout, user)
    try:
        from .security import read_as_user

        public_key = read_as_user(user, public).decode("utf-8", errors="replace").strip()  # never via their link
    except OSError as error:
        raise Ds01Error(f"cannot read {public}: {error.strerror}") from None
    return {"created": created, "private": str(private), "public": str(public), "public_key": public_key}


# --- vscode-setup ------------------------------------------------------------------------

def server_hostname() -> str:
    """The name laptops reach this server by: DS01_SSH_HOST, else the fully qualified name."""
    return paths.ssh_host() or socket.getfqdn() or socket.gethostname()


def vscode_host_entry(user: User, hostname: str | None = None, alias: str | None = None,
                      identity_file: str = "~/.ssh/id_ed25519") -> str:
    """The ~/.ssh/config block for the laptop that VS Code Remote-SSH reads."""
    hostname = hostname or server_hostname()
    alias = alias or hostname.split(".")[0] or "ds01"
    return (f"Host {alias}\n"
            f"    HostName {hostname}\n"
            f"    User {user.login}\n"
            f"    IdentityFile {identity_file}\n"
            f"    ServerAliveInterval 60\n")


def vscode_steps(user: User, hostname: str | None = None, alias: str | None = None,
                 workspace: str = "~/workspace") -> list[str]:
    hostname = hostname or server_hostname()
    alias = alias or hostname.split(".")[0] or "ds01"
    return [
        "On your laptop, make a key if you have none: ssh-keygen -t ed25519",
        f"Copy it to this server: ssh-copy-id -i ~/.ssh/id_ed25519.pub {user.login}@{hostname}",
        "Add the block above to ~/.ssh/config on your laptop "
        "(Windows: C:\\Users\\YOU\\.ssh\\config)",
        f"Check it works: ssh {alias}",
        "In VS Code install the 'Remote - SSH' extension, run 'Remote-SSH: Connect to Host...' "
        f"and pick {alias}",
        f"Open your project folder there: {workspace}/<project> (File > Open Folder)",
    ]


def vscode_instructions(user: User, hostname: str | None = None, alias: str | None = None,
                        workspace: str = "~/workspace") -> list[str]:
    """The lines vscode-setup shows: the host entry for the laptop, then the numbered steps."""
    lines = ["Add this to ~/.ssh/config on your laptop:", ""]
    lines += ["  " + line for line in vscode_host_entry(user, hostname, alias).splitlines()]
    lines += ["", "Then:"]
    lines += [f"  {number}. {step}" for number, step in
              enumerate(vscode_steps(user, hostname, alias, workspace), start=1)]
    return lines
