"""Start working on a project: build its image if missing, start its container, open a shell.

An existing container is started (or entered if running); otherwise one is created from the
project's image ds01-<you>/<project>:latest with the workspace at /workspace.
  --open        open a shell in it (needs a terminal)
  --background  leave it running; enter later with container-run NAME
  --wait [SECONDS]  when no GPU is free, queue for one (SECONDS at most) instead of failing
Without either: a shell when you are at a terminal, else in the background.
When you are done for the day: container-retire NAME (frees the GPU, keeps your files).
"""

from __future__ import annotations

import argparse
import sys

from .. import cli, log


def build_parser() -> argparse.ArgumentParser:
    from .. import container_cli
    return cli.parser(__doc__, cli.Argument("name", metavar="NAME", help="project name"),
                      cli.exclusive(cli.Argument("--open", action="store_true", help="open a shell in it"),
                                    cli.Argument("--background", action="store_true",
                                                 help="leave it running in the background")),
                      cli.exclusive(cli.Argument("--gpus", type=int, metavar="N",
                                                 help="GPU slots for a new container (default 1)"),
                                    cli.Argument("--cpu-only", action="store_true", help="no GPU for a new container")),
                      cli.Argument("--full-gpu", action="store_true", help="a whole GPU (if your limits allow)"),
                      container_cli.add_wait_option, cli.add_user_option)


def main(argv: list[str]) -> int:
    args, context = cli.parse_with_user(build_parser(), argv)
    from .. import container_cli, container_exec, projects

    terminal = container_exec.terminal_attached()
    if args.open and not terminal:
        build_parser().error("--open needs a terminal; use --background")
    open_shell = args.open or (not args.background and terminal)

    def on_step(step: str, text: str) -> None:
        print(f"  done  {step:<12} {text}", flush=True)

    result = projects.launch(context.docker, context.config, context.user, args.name,
                             on_output=cli.output_if_terminal(), on_step=on_step,
                             state_dir=context.state_dir, log_dir=context.log_dir, gpus=args.gpus,
                             cpu_only=args.cpu_only, full_gpu=args.full_gpu,
                             wait=container_cli.wait_seconds(args.wait))
    if result.get("notice"):
        log.warning(result["notice"])
    gpus = ", ".join(result["gpus"]) or "none (CPU only)"
    print(f"{args.name}: image {result['image']}, GPUs {gpus}")
    if not open_shell:
        print(f"{args.name} is running in the background; enter it with `container-run {args.name}`;"
              f" stop with `container-retire {args.name}`")
        return 0
    print(f"Opening a shell in {args.name} (/workspace is your project); `exit` leaves it running")
    sys.stdout.flush()
    return container_exec.shell(context.docker, context.user, args.name, log_dir=context.log_dir,
                                state_dir=context.state_dir, config=context.config)
