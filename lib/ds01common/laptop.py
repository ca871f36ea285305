"""Working from a laptop: the server's name, JupyterLab through an ssh tunnel, VS Code's files.

Each container forwards one 127.0.0.1 host port to port 8888 inside (ports.py). JupyterLab runs
there as the user, token-protected; the laptop reaches it with `ssh -N -L PORT:127.0.0.1:PORT`,
so nothing is ever open beyond this host's loopback.
"""

from __future__ import annotations

import json
import secrets
import socket
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from . import containers, dockerapi, names, ports
from . import labels as label
from .clock import SYSTEM, Clock
from .errors import Ds01Error, NotFound

LOCAL_NAMES = ("localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback")
# Exit code of the start script when the image has no JupyterLab.
NO_JUPYTER = 3
JUPYTER_HINT = ("the image of {name} has no JupyterLab: add it for good with `image-update {project} "
                "--packages jupyterlab` (then `container-retire {name}` and deploy again), or for this "
                "container only: `container-run {name} -- python3 -m pip install jupyterlab`")
# Runs inside as the user. A JupyterLab already running (its pid alive) is reused with its token;
# the token file and log live in the per-container home, never the workspace.
START_SCRIPT = r"""
dir="$HOME/.ds01"; mkdir -p "$dir" && chmod 700 "$dir" || exit 1
if [ -f "$dir/jupyter.pid" ] && kill -0 "$(cat "$dir/jupyter.pid")" 2>/dev/null; then
  cat "$dir/jupyter.token"; exit 0
fi
if command -v jupyter-lab >/dev/null 2>&1; then lab=jupyter-lab
elif command -v jupyter >/dev/null 2>&1 && jupyter lab --version >/dev/null 2>&1; then lab="jupyter lab"
else exit 3; fi
umask 077
printf %s "$JUPYTER_TOKEN" > "$dir/jupyter.token"
keep=; command -v nohup >/dev/null 2>&1 && keep=nohup  # no terminal, so no hangup either way
$keep $lab --ip=0.0.0.0 --port=8888 --no-browser --notebook-dir=/workspace </dev/null >"$dir/jupyter.log" 2>&1 &
echo $! > "$dir/jupyter.pid"
printf %s "$JUPYTER_TOKEN"
"""


def server_name(configured: str | None, fqdn: Callable[[], str] = socket.getfqdn,
                hostname: Callable[[], str] = socket.gethostname) -> str:
    """The name laptops reach this server by: config `connect.host`, else the host's full name;
    never a loopback name (the laptop would reach itself)."""
    if configured:
        return configured
    for candidate in (fqdn(), hostname()):
        if candidate and candidate.lower() not in LOCAL_NAMES:
            return candidate
    raise Ds01Error("this server knows itself only as localhost: an admin sets `connect.host` in the "
                    "config to the name laptops use (or pass --hostname)")


@dataclass(frozen=True)
class Jupyter:
    name: str
    port: int
    token: str
    url: str
    ssh: str
    host: str
    ready: bool = True  # False: still starting when we stopped waiting


def answers_http(port: int) -> bool:
    """Whether something inside answers HTTP on the forwarded port (docker-proxy alone resets)."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2):
            return True
    except urllib.error.HTTPError:
        return True  # a 403 or 404 is an answer: the server is up
    except (OSError, ValueError):
        return False


def wait_until_answering(port: int, timeout: float = 45.0, probe: Callable[[int], bool] = answers_http,
                         clock: Clock = SYSTEM) -> bool:
    """Poll until the server behind `port` answers, at most `timeout` seconds; whether it did."""
    deadline = clock.monotonic() + timeout
    while True:
        if probe(port):
            return True
        if clock.monotonic() >= deadline:
            return False
        clock.sleep(0.25)


def tunnel_line(login: str, host: str, port: int) -> str:
    """The laptop's ssh command: its own port `port` to this host's 127.0.0.1:`port`."""
    return f"ssh -N -L {port}:127.0.0.1:{port} {login}@{host}"


def start_jupyter(docker: Any, user: Any, name: str, host: str, *, state_dir: str | Path,
                  log_dir: str | Path | None, config: Any = None,
                  token: str | None = None, wait: Callable[[int], bool] = wait_until_answering) -> Jupyter:
    """Start JupyterLab in the user's container `name` (starting the container when stopped)."""
    container = containers.find(docker, user, name)
    port = label.host_port(container.labels)
    if port is None:
        raise NotFound(f"{name} was made before containers had a forwarded port: retire it "
                       f"(`container-retire {name}`) and deploy it again")
    container = containers.start(docker, user, name, state_dir=state_dir, log_dir=log_dir, container=container,
                                 config=config)
    token = token or secrets.token_hex(24)
    exit_code, output = dockerapi.exec_in_container(
        docker, container.id, ["/bin/sh", "-c", START_SCRIPT], user=f"{user.uid}:{user.gid}",
        environment={"JUPYTER_TOKEN": token}, workdir="/workspace", what=f"container {name}")
    text = output.decode(errors="replace").strip()
    if exit_code == NO_JUPYTER:
        project = container.labels.get(label.PROJECT) or name
        raise NotFound(JUPYTER_HINT.format(name=name, project=project))
    if exit_code != 0 or not text:
        raise Ds01Error(f"JupyterLab did not start in {name} (exit {exit_code}): {text[-300:] or 'no output'}")
    token = text.splitlines()[-1].strip()
    return Jupyter(name=name, port=port, token=token, host=host,
                   url=f"http://127.0.0.1:{port}/lab?token={token}", ssh=tunnel_line(user.login, host, port),
                   ready=wait(port))


def jupyter_document(result: Jupyter) -> dict[str, Any]:
    return asdict(result)


# --- VS Code -----------------------------------------------------------------------------

def devcontainer(user: Any, project: str, home: str) -> dict[str, Any]:
    """`.devcontainer/devcontainer.json` for the project: its DS01 image, its folder at /workspace,
    the user's own uid, the Jupyter port forwarded."""
    return {
        "name": f"{project} (DS01)",
        "image": names.image_name(user.name, project, uid=user.uid),
        "workspaceMount": "source=${localWorkspaceFolder},target=/workspace,type=bind",
        "workspaceFolder": "/workspace",
        "containerUser": f"{user.uid}:{user.gid}",
        "updateRemoteUserUID": False,
        "containerEnv": {"HOME": home},
        "runArgs": ["--security-opt=no-new-privileges"],
        "forwardPorts": [ports.SERVICE_PORT],
    }


def write_devcontainer(config: Any, user: Any, project: str, *, force: bool = False) -> tuple[Path, bool]:
    """Write the project's .devcontainer/devcontainer.json (kept when it exists unless `force`)."""
    from .images import project_dir
    from .userfiles import make_directory, write_text

    workspace = project_dir(config, user, project)
    if not workspace.is_dir():
        raise NotFound(f"no project folder {workspace}: run `project-init {project}` first")
    path = workspace / ".devcontainer" / "devcontainer.json"
    if path.exists() and not force:
        return path, False
    make_directory(path.parent, user)
    text = json.dumps(devcontainer(user, project, f"/home/{user.name}"), indent=2) + "\n"
    return write_text(path, text, user), True


def attach_steps(alias: str, project: str | None, uid: int | str = "<your uid>") -> list[str]:
    """How to work inside a DS01 container from VS Code once Remote-SSH reaches the server."""
    name = project or "NAME"
    return [
        f"Start your container on the server: container-deploy {name} --background",
        "In the VS Code window connected to the server, install the 'Dev Containers' extension there, "
        f"then run 'Dev Containers: Attach to Running Container...' and pick {name}._.{uid}: "
        "VS Code then works inside it, with its GPU and your workspace at /workspace",
        "Or open the project folder and 'Reopen in Container': .devcontainer/devcontainer.json runs "
        "the project's image (without a DS01 GPU slot: prefer attaching for GPU work)",
        f"JupyterLab instead: container-jupyter {name} prints the ssh line for {alias}'s tunnel",
    ]
