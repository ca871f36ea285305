"""Start JupyterLab in one of your containers and print how to open it from your laptop.

JupyterLab runs inside as you, token-protected, on the container's port 8888, which DS01
forwards to a port of this server's 127.0.0.1 only (shown by container-list). On your laptop,
run the printed `ssh -N -L ...` line, then open the printed URL. The container is started if
it is stopped; a JupyterLab already running there is reused.

  container-jupyter thesis
  container-jupyter thesis --json      # {name, port, token, url, ssh, host} for scripts
"""

from __future__ import annotations

import argparse

from .. import cli, log


def build_parser() -> argparse.ArgumentParser:
    from .. import container_cli

    return cli.parser(__doc__, container_cli.add_name,
                      cli.Argument("--hostname", metavar="HOST", help="the name laptops reach this server by "
                                   "(default: connect.host in the config, else this machine's full name)"),
                      cli.add_json_option, cli.add_user_option)


def main(argv: list[str]) -> int:
    args, context = cli.parse_with_user(build_parser(), argv)
    from .. import laptop

    host = laptop.server_name(args.hostname or context.config.setting("connect.host"))
    result = laptop.start_jupyter(context.docker, context.user, args.name, host, state_dir=context.state_dir,
                                  log_dir=context.log_dir, config=context.config)
    if args.json:
        cli.print_json(laptop.jupyter_document(result))
        return 0
    if not result.ready:
        log.warning(f"JupyterLab is still starting in {result.name}; if the URL does not open in a minute, "
                        f"see its log: container-run {result.name} -- cat ~/.ds01/jupyter.log")
    print(f"JupyterLab runs in {result.name} (token-protected; your workspace is /workspace).")
    print("On your laptop, keep this running in a terminal:")
    print(f"  {result.ssh}")
    print("then open:")
    print(f"  {result.url}")
    return 0
