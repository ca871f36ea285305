"""Start one of your containers (its main process just keeps it alive; enter with container-run).

A stopped container keeps its GPU slot. If it lost the slot (an admin released it, or the GPU is
no longer on the host), it cannot start; --wait [SECONDS] then re-creates it under the same name,
image and workspace on a free GPU, queueing until one is free (changes outside /workspace are lost).
"""

from __future__ import annotations

from .. import cli, log

TYPE_CHECKING = False  # typing's own flag would import typing, which every command would pay for
if TYPE_CHECKING:
    import argparse


def build_parser() -> argparse.ArgumentParser:
    from .. import container_cli
    return cli.parser(__doc__, container_cli.add_name, container_cli.add_wait_option, cli.add_user_option)


def main(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    from .. import container_cli, containers
    from ..errors import ResourcesUnavailable

    context = cli.Context(user_option=args.user)
    from .. import backend
    if backend.is_cluster(context.config):  # Slurm cluster: each container is a job
        from ..backend import cli_slurm
        return cli_slurm.start(context, args.name)
    try:
        containers.start(context.docker, context.user, args.name, log_dir=context.log_dir, config=context.config,
                         state_dir=context.state_dir)
    except containers.GpuLost as lost:
        if args.wait is None:
            raise
        log.warning("%s lost GPU slot %s: re-creating it on a free GPU (the old container goes, "
                        "/workspace is kept)", args.name, ", ".join(lost.slots))
        try:
            result = containers.restart_on_new_gpu(context.docker, context.config, context.user, args.name,
                                                   wait=container_cli.wait_seconds(args.wait),
                                                   state_dir=context.state_dir, log_dir=context.log_dir)
        except ResourcesUnavailable as refused:  # container-start has no --cpu-only: name the command that has
            raise ResourcesUnavailable(str(refused).replace(
                "use --cpu-only", f"the old container is retired (workspace kept); "
                f"`container-deploy {args.name} --cpu-only` makes a CPU-only one")) from None
        print("\n".join(container_cli.created_lines(result)))
    print(f"{args.name} is running; enter it with `container-run {args.name}`")
    return 0
