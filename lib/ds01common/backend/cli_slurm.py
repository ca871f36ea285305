"""The container and status commands when the config names a Slurm cluster: each command's
`main` hands over here right after parsing (`backend.is_cluster`), and the words printed match
the single-server ones wherever the meaning is the same.

This is command-layer code: it prints; the library (backend.slurm, slurm) only raises.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from .. import cli, container_cli, log
from ..errors import Ds01Error, UsageError
from . import for_command
from .slurm import SlurmBackend, summary


def _backend(context: Any) -> SlurmBackend:
    backend = for_command(context)
    if backend is None:  # pragma: no cover - callers check is_cluster first
        raise Ds01Error("no cluster configured")
    return backend


def _progress(line: str) -> None:
    log.warning(line)


def create(context: Any, args: argparse.Namespace, *, deploy: bool = False) -> int:
    from .. import container_spec, names

    backend = _backend(context)
    options = container_cli.create_kwargs(args)
    user = context.user
    name = args.name
    project = options.get("project")
    if name is None:  # container-deploy --image ds01-<you>/<project>:<tag>: the project names it
        name = container_spec.name_from_image(user, options["image"])
        project = project or name
    workspace = str(container_spec.project_workspace(context.config, user, project)) if project else None
    image = options["image"] or names.image_name(user.name, project or name, uid=user.uid)
    result = backend.create(name, image=image, gpus=options["gpus"], cpu_only=options["cpu_only"],
                            full_gpu=options["full_gpu"], wait=options["wait"], workspace=workspace,
                            progress=_progress)
    args.name = name
    if getattr(args, "json", False):
        cli.print_json(result)
        return 0
    print("\n".join(container_cli.created_lines(result)))
    print(f"  Slurm job {result['job']} holds it; `container-retire {args.name}` ends the job")
    from .. import container_exec

    if deploy and (args.open or (not args.background and container_exec.terminal_attached())):
        sys.stdout.flush()
        return backend.shell(args.name)
    print(f"{args.name} is running; enter it with `container-run {args.name}`")
    return 0


def run(context: Any, name: str, command: list[str]) -> int:
    from .. import container_exec

    backend = _backend(context)
    if command:
        return backend.exec(name, command, terminal=container_exec.terminal_attached())
    if not container_exec.terminal_attached():
        raise UsageError(f"a shell needs a terminal; to run one command use `container-run {name} -- CMD`")
    return backend.shell(name)


def attach(context: Any, name: str) -> int:
    from .. import container_exec

    if not container_exec.terminal_attached():
        raise UsageError(f"a shell needs a terminal; to run one command use `container-run {name} -- CMD`")
    return _backend(context).run_step(name, "attach", terminal=True)


def start(context: Any, name: str) -> int:
    code = _backend(context).start(name)
    if code == 0:
        print(f"{name} is running; enter it with `container-run {name}`")
    return code


def logs(context: Any, name: str, follow: bool, tail: int | None) -> int:
    return _backend(context).logs(name, follow=follow, tail=tail)


def stop(context: Any, name: str) -> int:
    code = _backend(context).stop(name)
    if code == 0:
        print(f"{name} stopped; its Slurm job keeps the GPU: `container-start {name}` starts it again, "
              f"`container-retire {name}` ends the job")
    return code


def retire(context: Any, args: argparse.Namespace, verb: str = "Retired") -> int:
    from .. import prompts

    backend = _backend(context)
    backend.job_for(args.name)
    if getattr(args, "save_changes", False):
        raise UsageError("--save-changes is not available on a cluster: build the image with image-update")
    if not getattr(args, "yes", False) and not prompts.confirm(
            f"End {args.name}'s Slurm job, removing the container? (workspace is kept)", flag="--yes"):
        print("nothing retired")
        return 1
    result = backend.retire(args.name, actor=context.caller.name)
    print(f"{verb} {args.name}: Slurm job {result['job']} ended, container removed"
          + (f", {', '.join(result['gpus'])} freed" if result["gpus"] else ""))
    if result.get("workspace"):
        print(f"  workspace {result['workspace']} untouched")
    return 0


def list_containers(context: Any, args: argparse.Namespace) -> int:
    items = _backend(context).list(everyone=args.all)
    if args.json:
        cli.print_json(items)
        return 0
    rows, headers = container_cli.list_rows(items, show_user=args.all)
    cli.print_table([row + [item["job"]] for row, item in zip(rows, items)], list(headers) + ["JOB"],
                    empty="no containers (create one with `container-deploy NAME`)")
    return 0


def stats(context: Any, name: str | None) -> int:
    backend = _backend(context)
    if name:
        return backend.stats(name)
    return list_containers(context, argparse.Namespace(all=False, json=False))


def gpu_status(context: Any, as_json: bool) -> int:
    """GPUs per node from `scontrol show node -d`: GRES type, in use / total, and who holds them."""
    backend = _backend(context)
    nodes = backend.tools.nodes()
    jobs = [summary(job) for job in backend.tools.jobs() if job.running and summary(job)["name"]]
    if as_json:
        cli.print_json({"nodes": [{"name": node.name, "state": node.state, "gres": [
            {"type": gres.type or gres.name, "total": gres.total, "used": gres.used} for gres in node.gres]}
            for node in nodes], "containers": jobs})
        return 0
    rows = [(node.name, node.state, gres.type or gres.name, f"{gres.used}/{gres.total}",
             f"{node.cpus_allocated}/{node.cpus_total}")
            for node in nodes for gres in node.gres if gres.name == "gpu"]
    cli.print_table(rows, ("NODE", "STATE", "GPU TYPE", "IN USE", "CPUS"), empty="no GPUs in the cluster")
    if jobs:
        print()
        cli.print_table([(item["node"], item["user"], item["name"], ",".join(item["gpus"]) or "-", item["job"])
                         for item in jobs], ("NODE", "USER", "CONTAINER", "GPUS", "JOB"))
    return 0


def gpu_queue(context: Any, as_json: bool) -> int:
    """Pending DS01 jobs in Slurm's order, with the reason in words."""
    from .. import slurm

    backend = _backend(context)
    pending = sorted((job for job in backend.tools.jobs() if job.pending and summary(job)["name"]),
                     key=lambda job: (-job.priority, job.job_id))
    rows = [{"position": index + 1, "job": job.job_id, "user": job.user, "container": summary(job)["name"],
             "gpus": job.gres, "priority": job.priority, "reason": job.reason,
             "why": slurm.reason_in_words(job.reason), "since": job.submitted}
            for index, job in enumerate(pending)]
    if as_json:
        cli.print_json(rows)
        return 0
    cli.print_table([(row["position"], row["job"], row["user"], row["container"], row["gpus"] or "-",
                      row["priority"], row["why"]) for row in rows],
                    ("POS", "JOB", "USER", "CONTAINER", "GPUS", "PRIORITY", "WAITING FOR"),
                    empty="Nobody is waiting in Slurm's queue.")
    return 0


def ds01_status(context: Any, as_json: bool) -> int:
    backend = _backend(context)
    partitions = backend.tools.partitions()
    if as_json:
        cli.print_json({"partitions": [vars(partition) for partition in partitions],
                        "containers": backend.list(everyone=True)})
        return 0
    print("Partitions (sinfo)")
    cli.print_table([(partition.name + ("*" if partition.default else ""), partition.available, partition.nodes,
                      partition.state, partition.gres) for partition in partitions],
                    ("PARTITION", "AVAIL", "NODES", "STATE", "GRES"), empty="  none")
    print()
    gpu_status(context, False)
    print("\nSlurm queue")
    return gpu_queue(context, False)
