"""Host ports for the laptop's tunnel: one 127.0.0.1 port per container, forwarded to port 8888 inside.

A container's port is recorded only in its `ds01.port` label, so it is freed with the container
(nothing to clean up after a retire or a manual `docker rm`). Choosing a port and creating the
container that carries it happen under one lock, so two creates never pick the same port.
"""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from os import PathLike
from pathlib import Path

from . import dockerapi, statefile
from . import labels as label
from .errors import Ds01Error, ResourcesUnavailable

TYPE_CHECKING = False  # typing's own flag would import typing, which every command would pay for
if TYPE_CHECKING:
    from typing import Any

SERVICE_PORT = 8888  # the container port JupyterLab (or anything the user runs) listens on
DEFAULT_FIRST = 20000
DEFAULT_LAST = 29999
LOCK_NAME = "ports"
HOST_ADDRESS = "127.0.0.1"  # never all interfaces: the laptop reaches it through ssh -L only


@dataclass(frozen=True)
class PortRange:
    first: int = DEFAULT_FIRST
    last: int = DEFAULT_LAST

    def __iter__(self) -> Iterator[int]:
        return iter(range(self.first, self.last + 1))


def parse_range(text: str | None) -> PortRange:
    """`"20000-29999"` as a PortRange; None is the default range."""
    if text is None:
        return PortRange()
    first_text, separator, last_text = str(text).partition("-")
    try:
        first, last = int(first_text), int(last_text)
    except ValueError:
        raise Ds01Error(f"invalid port range {text!r}: write FIRST-LAST, e.g. 20000-29999") from None
    if not separator or not 1024 <= first <= last <= 65535:
        raise Ds01Error(f"invalid port range {text!r}: write FIRST-LAST within 1024-65535")
    return PortRange(first, last)


def ports_taken(entries: Iterable[Mapping[str, Any]]) -> set[int]:
    """Host ports held by these container list entries: DS01's labels and any published port."""
    taken: set[int] = set()
    for entry in entries:
        port = label.host_port(entry.get("Labels"))
        if port is not None:
            taken.add(port)
        for published in entry.get("Ports") or ():
            if published.get("PublicPort"):
                taken.add(int(published["PublicPort"]))
    return taken


def host_port_free(port: int) -> bool:
    """Whether nothing on this host listens on 127.0.0.1:`port` (a process outside Docker may)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        # As servers bind: a closed connection lingering in TIME_WAIT does not make the port busy.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((HOST_ADDRESS, port))
        except OSError:
            return False
    return True


def choose(taken: set[int], port_range: PortRange, is_free: Callable[[int], bool] = host_port_free) -> int:
    for port in port_range:
        if port not in taken and is_free(port):
            return port
    raise ResourcesUnavailable(f"no free host port left in {port_range.first}-{port_range.last} "
                               "(config connect.ports): retire containers you no longer use")


@contextlib.contextmanager
def reserve(docker: Any, state_dir: str | PathLike[str], port_range: PortRange,
            is_free: Callable[[int], bool] = host_port_free) -> Iterator[int]:
    """A free host port, held under the ports lock while the block creates the container labelled with it."""
    with statefile.locked(str(Path(state_dir) / LOCK_NAME)):
        entries = dockerapi.container_summaries(docker, {})  # every owner's: any may hold a port
        yield choose(ports_taken(entries), port_range, is_free)


def publish_options(port: int) -> dict[str, Any]:
    """The create options that forward 127.0.0.1:`port` on the host to the service port inside."""
    return {"ports": {f"{SERVICE_PORT}/tcp": (HOST_ADDRESS, port)}}
