"""Command-line pieces the container commands share: options and the words they print.

Pure text and argparse; it prints nothing itself."""

from __future__ import annotations

from .units import format_duration, format_size

TYPE_CHECKING = False  # typing's own flag would import typing, which every container command's --help would pay for
if TYPE_CHECKING:
    import argparse
    from collections.abc import Iterable
    from typing import Any

    from .records import Limits

WAIT_FOREVER = -1.0


def add_name(parser: argparse.ArgumentParser, help_text: str = "container name (as shown by container-list)") -> None:
    parser.add_argument("name", metavar="NAME", help=help_text)


def add_create_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--image", metavar="IMG", help="image to run (default: ds01-<you>/NAME:latest)")
    parser.add_argument("--project", metavar="P",
                        help="mount the existing project P's workspace (default: ~/workspace/NAME)")
    gpus = parser.add_mutually_exclusive_group()
    gpus.add_argument("--gpus", type=int, metavar="N", help="GPU slots to take (default: 1)")
    gpus.add_argument("--cpu-only", action="store_true", help="no GPU")
    parser.add_argument("--full-gpu", action="store_true", help="a whole GPU, not a MIG instance (if allowed)")
    add_wait_option(parser)


def add_wait_option(parser: argparse.ArgumentParser | argparse._ArgumentGroup) -> None:
    parser.add_argument("--wait", nargs="?", type=_seconds, const=WAIT_FOREVER, metavar="SECONDS",
                        help="wait in the GPU queue (for SECONDS, or until served) instead of failing")


def _seconds(text: str) -> float:
    """--wait's value: a negative (or NaN) number would otherwise read as 'wait forever'."""
    import argparse

    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected seconds, got {text!r}") from None
    if not value >= 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more seconds, got {text!r}")
    return value


def create_kwargs(args: argparse.Namespace) -> dict[str, Any]:
    return {"image": args.image, "gpus": args.gpus, "cpu_only": args.cpu_only,
            "full_gpu": args.full_gpu, "wait": wait_seconds(args.wait), "project": args.project}


def wait_seconds(value: float | None) -> float | None:
    """None: do not wait; float('inf'): wait until served; else seconds."""
    if value is None:
        return None
    return float("inf") if value < 0 else value


def gpu_text(slots: Iterable[str]) -> str:
    return ", ".join(slots) if slots else "none (CPU-only)"


def created_lines(result: dict[str, Any]) -> list[str]:
    lines = [f"Created {result['name']}: image {result['image']}, GPU {gpu_text(result['gpus'])}",
             f"  workspace {result['workspace']} -> /workspace (kept when the container goes)"]
    if result.get("port"):
        lines.append(f"  port 8888 inside -> 127.0.0.1:{result['port']} here "
                     f"(JupyterLab from your laptop: container-jupyter {result['name']})")
    return lines


def retired_lines(result: dict[str, Any]) -> list[str]:
    lines = [f"Retired {result['name']}: stopped and removed"
             + (f", GPU {', '.join(result['gpus'])} freed" if result["gpus"] else "")]
    if result.get("image"):
        lines.append(f"  changes saved as image {result['image']}")
    if result.get("workspace"):
        lines.append(f"  workspace {result['workspace']} untouched")
    return lines


def list_rows(items: Iterable[dict[str, Any]], show_user: bool = False) -> tuple[list[list[Any]], list[str]]:
    rows = []
    for item in items:
        row = [item["name"], item["status"], item["image"], ",".join(item["gpus"]) or "-",
               item.get("port") or "-", item["created"]]
        rows.append(([item["user"]] if show_user else []) + row)
    # PORT: the 127.0.0.1 host port forwarded to 8888 inside (container-jupyter prints the ssh line).
    headers = (["USER"] if show_user else []) + ["NAME", "STATUS", "IMAGE", "GPUS", "PORT", "CREATED"]
    return rows, headers


def stats_rows(stats: Iterable[dict[str, Any]], show_user: bool = False) -> tuple[list[list[Any]], list[str]]:
    rows = []
    for item in stats:
        running = item["status"] == "running"
        memory = (f"{format_size(item['memory_used'])} / {format_size(item['memory_limit'])}"
                  if running else "-")
        row = [item["name"], item["status"], f"{item['cpu_percent']:.1f}%" if running else "-", memory,
               item["pids"] if running else "-", ",".join(item["gpus"]) or "-", *gpu_cells(item.get("gpu"), running)]
        rows.append(([item["user"]] if show_user else []) + row)
    headers = (["USER"] if show_user else []) + ["NAME", "STATUS", "CPU", "MEMORY", "PIDS", "GPUS", "GPU MEM",
                                                 "GPU UTIL"]
    return rows, headers


def gpu_cells(use: dict[str, Any] | None, running: bool) -> list[str]:
    """GPU memory of the container's processes and its GPU's utilisation ("n/a*" on MIG: see the note)."""
    if not use or not running:
        return ["-", "-"]
    utilization = use.get("utilization")
    shown = f"{utilization:.0f}%" if utilization is not None else ("n/a*" if use.get("note") else "-")
    return [format_size(use.get("memory") or 0), shown]


def exit_help(limits: Limits | None = None) -> list[str]:
    idle = format_duration(limits.idle_timeout if limits else None)
    return [
        "To leave a container shell: type `exit` or press Ctrl-D.",
        "Leaving the shell does not stop the container: it keeps running, with its GPU,",
        "and anything you started in the background keeps going.",
        "  container-run NAME       enter it again",
        "  container-stop NAME      stop it (its GPU stays reserved until it is removed)",
        "  container-retire NAME    stop and remove it, freeing the GPU",
        f"An idle container is retired automatically after {idle}.",
        "Your files in /workspace live on the host (~/workspace/NAME) and are always kept.",
    ]
